"""录入问题 in Chromium, on the real stack: the possible duplicates appear while the
supervisor types (减负), who merges the finding into an open case or opens a new one;
without JavaScript the submit asks the same question; a long-term finding opens with
its milestones, which the supervisor then changes on the case page (a refusal in
Chinese keeps what was typed); a submitted plan is offered again as 修改整改方案.
Screenshots (1366×768): docs/screenshots/finding_duplicates.png, case_milestones.png.
The tests run in order and share their cases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.async_api import Page, expect

from tests.console.conftest import Console, shot

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(240)]

TODAY = date.today()
DEADLINE = TODAY + timedelta(days=90)
OPEN_CASE = "社区食堂设施建成后闲置问题"  # an open case of the unit
SIMILAR = "社区食堂服务设施长期闲置未运营"  # the same problem, reworded: the possible band
LONG_DEADLINE = TODAY + timedelta(days=300)


def _day(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


async def _fill_finding(page: Page, title: str, unit: str, cadre: str, *, typed: bool) -> None:
    """The unit first, then the title and the description, typed key by key (``typed``:
    the keyboard events the live check listens to) or filled."""
    await page.get_by_label("责任单位").select_option(unit)
    await page.get_by_label("责任人").select_option(cadre)
    await page.get_by_label("整改期限（留空按整改类型默认工作日）").fill(DEADLINE.isoformat())
    await page.get_by_label("来源").select_option("inspection")
    if typed:
        await page.get_by_label("问题标题").press_sequentially(title)
        await page.get_by_label("问题描述").press_sequentially("建成后一直未开门运营")
    else:
        await page.get_by_label("问题标题").fill(title)
        await page.get_by_label("问题描述").fill("建成后一直未开门运营")


async def _open_case(console: Console, page: Page, title: str, unit: str, cadre: str) -> str:
    await page.goto(f"{console.base}/console/findings/new")
    await _fill_finding(page, title, unit, cadre, typed=False)
    await page.get_by_role("button", name="登记并立项").click()
    await expect(page.get_by_text("已办理：立项整改")).to_be_visible()
    await expect(page.locator("h1")).to_have_text(title)
    console.caught_up()  # the duplicate check reads the case summary
    return page.url.split("/cases/")[1].split("?")[0]


async def test_the_possible_duplicates_appear_while_typing_and_the_finding_is_merged(
    console: Console,
) -> None:
    context, page = await console.login("sup")
    case = await _open_case(console, page, OPEN_CASE, "county-env", "cadre-42")
    console.shared["case"] = case

    await page.goto(f"{console.base}/console/findings/new")
    region = page.locator("#duplicates")
    await expect(region).to_contain_text("选择责任单位并填写问题标题后")
    await _fill_finding(page, SIMILAR, "county-env", "cadre-42", typed=True)
    # Shown without submitting: title (a link to the case), unit, light, band.
    await expect(region.get_by_role("link", name=OPEN_CASE)).to_be_visible()
    assert page.url.endswith("/console/findings/new")
    await expect(region.get_by_role("link", name=OPEN_CASE)).to_have_attribute(
        "href", f"/console/cases/{case}"
    )
    await expect(region).to_contain_text("某县生态环境局")
    await expect(region).to_contain_text("绿灯")
    await expect(region).to_contain_text("可能重复")
    await expect(region.get_by_role("radio", name="不是同一问题，另行立项")).to_be_visible()
    await shot(page, "finding_duplicates")

    await region.get_by_role("radio", name=f"并入案件「{OPEN_CASE}」").check()
    await page.get_by_role("button", name="登记并立项").click()
    await page.wait_for_url(f"**/cases/{case}?done=merged")
    await expect(page.get_by_text("已合并为其一个来源")).to_be_visible()
    await expect(page.get_by_text(f"巡视巡察：{SIMILAR}")).to_be_visible()
    await expect(page.locator("ol.timeline")).to_contain_text("合并重复问题")
    await context.close()


async def test_choosing_a_new_case_opens_one(console: Console) -> None:
    case = console.shared["case"]
    context, page = await console.login("sup")
    await page.goto(f"{console.base}/console/findings/new")
    await _fill_finding(page, SIMILAR, "county-env", "cadre-42", typed=True)
    region = page.locator("#duplicates")
    await expect(region.get_by_role("link", name=OPEN_CASE)).to_be_visible()
    await region.get_by_role("radio", name="不是同一问题，另行立项").check()
    await page.get_by_role("button", name="登记并立项").click()
    await expect(page.get_by_text("已办理：立项整改")).to_be_visible()
    await expect(page.locator("h1")).to_have_text(SIMILAR)
    opened = page.url.split("/cases/")[1].split("?")[0]
    assert opened != case
    console.shared["time_limited"] = opened
    await context.close()


async def test_without_javascript_the_submit_asks_merge_or_new_and_keeps_the_form(
    console: Console,
) -> None:
    context, page = await console.login("sup")
    case = await _open_case(console, page, OPEN_CASE, "county-water", "cadre-43")
    await context.close()

    context, page = await console.login("sup", javascript=False)
    await page.goto(f"{console.base}/console/findings/new")
    await _fill_finding(page, SIMILAR, "county-water", "cadre-43", typed=False)
    async with page.expect_response(f"{console.base}/console/findings") as answer:
        await page.get_by_role("button", name="登记并立项").click()
    assert (await answer.value).status == 409
    await expect(page.locator(".error")).to_contain_text("请选择：并入其中一件，或另行立项")
    region = page.locator("#duplicates")
    await expect(region.get_by_role("link", name=OPEN_CASE)).to_be_visible()
    await expect(region).to_contain_text("某县水利局")
    await expect(page.get_by_label("问题标题")).to_have_value(SIMILAR)
    await expect(page.get_by_label("问题描述")).to_have_value("建成后一直未开门运营")
    await expect(page.get_by_label("责任单位")).to_have_value("county-water")

    await region.get_by_role("radio", name=f"并入案件「{OPEN_CASE}」").check()
    await page.get_by_role("button", name="登记并立项").click()
    await page.wait_for_url(f"**/cases/{case}?done=merged")
    await expect(page.locator("ol.timeline")).to_contain_text("合并重复问题")
    await context.close()


async def test_without_javascript_a_very_similar_finding_is_asked_too_and_opens_anew(
    console: Console,
) -> None:
    """In the automatic band the API merges without asking; at the form a person chooses."""
    context, page = await console.login("sup")
    case = await _open_case(console, page, "老旧小区加装电梯进度滞后", "county-water", "cadre-43")
    await context.close()

    context, page = await console.login("sup", javascript=False)
    await page.goto(f"{console.base}/console/findings/new")
    again = "老旧小区电梯加装工作推进缓慢"
    await _fill_finding(page, again, "county-water", "cadre-43", typed=False)
    await page.get_by_role("button", name="登记并立项").click()
    region = page.locator("#duplicates")
    await expect(region.get_by_role("link", name="老旧小区加装电梯进度滞后")).to_be_visible()
    await expect(region).to_contain_text("高度相似")
    await region.get_by_role("radio", name="不是同一问题，另行立项").check()
    await page.get_by_role("button", name="登记并立项").click()
    await expect(page.get_by_text("已办理：立项整改")).to_be_visible()
    await expect(page.locator("h1")).to_have_text(again)
    assert case not in page.url
    await context.close()


async def test_a_long_term_finding_opens_with_its_milestones(console: Console) -> None:
    context, page = await console.login("sup")
    await page.goto(f"{console.base}/console/findings/new")
    await page.get_by_label("问题标题").fill("城区雨污分流管网改造滞后")
    await page.get_by_label("责任单位").select_option("county-env")
    await page.get_by_label("责任人").select_option("cadre-42")
    await page.get_by_label("整改类型", exact=True).select_option("long_term")
    await page.get_by_label("整改期限（留空按整改类型默认工作日）").fill(LONG_DEADLINE.isoformat())
    await page.get_by_label("整改目标").fill("城区雨污分流全覆盖")
    # Without milestones a long-term finding is refused, in Chinese, keeping the form.
    await page.get_by_role("button", name="登记并立项").click()
    await expect(page.locator(".error")).to_contain_text("长期整改须设置阶段节点")
    await expect(page.get_by_label("问题标题")).to_have_value("城区雨污分流管网改造滞后")

    await page.get_by_label("节点目标 1").fill("完成管网排查")
    await page.get_by_label("到期日 1").fill(_day(60))
    await page.get_by_label("节点目标 2").fill("一期管网改造完成")
    await page.get_by_label("到期日 2").fill(_day(150))
    await page.get_by_role("button", name="登记并立项").click()
    await expect(page.get_by_text("已办理：立项整改")).to_be_visible()
    await expect(page.get_by_role("cell", name="完成管网排查")).to_be_visible()
    await expect(page.get_by_role("cell", name="一期管网改造完成")).to_be_visible()
    console.shared["long_term"] = page.url.split("/cases/")[1].split("?")[0]
    await context.close()


async def test_the_supervisor_changes_the_milestones_and_a_refusal_keeps_the_input(
    console: Console,
) -> None:
    case = console.shared["long_term"]
    context, page = await console.login("sup")
    # Only a long-term case is offered the form.
    await page.goto(f"{console.base}/console/cases/{console.shared['time_limited']}")
    await expect(page.locator("#do-deadline")).to_have_count(1)
    await expect(page.locator("#do-milestones")).to_have_count(0)

    await page.goto(f"{console.base}/console/cases/{case}")
    box = page.locator("#do-milestones")
    await box.locator("summary").click()
    await expect(box.get_by_label("节点目标 1")).to_have_value("完成管网排查")
    # A date before today is refused by the domain: its message, in Chinese, on the form.
    past = _day(-3)
    await box.get_by_label("到期日 1").fill(past)
    await box.get_by_label("节点目标 3").fill("二期管网改造完成")
    await box.get_by_label("到期日 3").fill(_day(240))
    await box.get_by_label("理由").fill("根据施工进度调整")
    await box.get_by_role("button", name="提交").click()
    await expect(box.locator(".error")).to_contain_text("第 1 个阶段节点")
    await expect(box.locator(".error")).to_contain_text("须晚于今天")
    # Its dates as a Chinese sentence writes them (2026年3月5日), not as ISO.
    written = date.fromisoformat(past)
    await expect(box.locator(".error")).to_contain_text(
        f"{written.year}年{written.month}月{written.day}日"
    )
    await expect(box.locator(".error")).not_to_contain_text(past)
    await expect(box.get_by_label("到期日 1")).to_have_value(past)
    await expect(box.get_by_label("节点目标 3")).to_have_value("二期管网改造完成")
    await expect(box.get_by_label("理由")).to_have_value("根据施工进度调整")
    await box.scroll_into_view_if_needed()
    await shot(page, "case_milestones")

    await box.get_by_label("到期日 1").fill(_day(60))
    await box.get_by_role("button", name="提交").click()
    await expect(page.get_by_text("已办理：调整阶段节点")).to_be_visible()
    await expect(page.get_by_role("cell", name="二期管网改造完成")).to_be_visible()
    await expect(page.locator("ol.timeline")).to_contain_text("设定阶段节点")
    await expect(page.locator("ol.timeline")).to_contain_text("根据施工进度调整")
    await context.close()


async def test_after_a_plan_the_unit_is_offered_to_revise_it(console: Console) -> None:
    case = console.shared["time_limited"]
    context, page = await console.login("env")
    await page.goto(f"{console.base}/console/cases/{case}")
    await expect(page.locator("#do-milestones")).to_have_count(0)  # a supervisor's
    box = page.locator("#do-plan")
    await expect(box.locator("summary")).to_have_text("提交整改方案")
    await box.locator("summary").click()
    await box.get_by_label("整改方案").fill("重新招标运营方。")
    await box.get_by_role("button", name="提交").click()
    await expect(page.get_by_text("已办理：提交整改方案")).to_be_visible()
    await expect(page.locator("#do-plan summary")).to_have_text("修改整改方案")
    # The revision is confirmed as a revision.
    box = page.locator("#do-plan")
    await box.locator("summary").click()
    await box.get_by_label("整改方案").fill("重新招标运营方，并由街道监督运营。")
    await box.get_by_role("button", name="提交").click()
    await expect(page.get_by_text("已办理：修改整改方案")).to_be_visible()
    await context.close()


async def test_the_supervisor_merges_an_open_case_into_a_similar_one(console: Console) -> None:
    """合并案件 from the case page: the unit's other open cases by title, the similar one
    first with its band; the forms that name a cadre or a unit offer names, not ids."""
    absorbed, surviving = console.shared["time_limited"], console.shared["case"]
    context, page = await console.login("sup")
    await page.goto(f"{console.base}/console/cases/{absorbed}")
    assign = page.locator("#do-assign")
    await assign.locator("summary").click()
    await expect(assign.get_by_label("责任人")).to_contain_text("王某（某县生态环境局 · 局长）")
    box = page.locator("#do-merge-into")
    await box.locator("summary").click()
    choice = box.get_by_label("并入案件（相似的在前）")
    first = choice.locator("option").first
    await expect(first).to_have_attribute("value", surviving)
    await expect(first).to_contain_text(OPEN_CASE)
    await expect(first).to_contain_text("可能重复")
    await box.get_by_label("理由").fill("与社区食堂闲置问题为同一问题，合并办理")
    await box.get_by_role("button", name="提交").click()
    await expect(page.get_by_text("已办理：并入同单位其他案件")).to_be_visible()
    await expect(page.locator("ol.timeline")).to_contain_text("并入其他案件")
    await page.goto(f"{console.base}/console/cases/{surviving}")
    await expect(page.locator("ol.timeline")).to_contain_text("并入同单位案件")
    await context.close()
