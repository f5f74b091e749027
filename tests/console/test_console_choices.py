"""指定责任人 among thousands, in Chromium on the real stack: a province supervisor's
case page no longer lists every unit and cadre of the province; the assign form shows a
search box, the person types part of a name, picks the cadre from the select that
comes back, and the case names the new cadre. Without JavaScript the 搜索 button
reloads the page with the list narrowed. The choices route keeps to the person's scope
and refuses roles that cannot choose. Screenshot: docs/screenshots/case_assign_search.png.
The tests run in order and share their case."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.async_api import Page, expect

from application.accounts import new_account
from domain.vocabulary import Role
from store.accounts import Accounts
from store.directory import Directory
from tests.console.conftest import PASSWORD, Console, shot

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(240)]

TITLE = "乡镇污水处理站长期停运问题"
STREETS = [(f"street-{n:02d}", f"某区第{n:02d}街道办事处", "city") for n in range(1, 41)]
CLERKS = [(f"clerk-{n:02d}", f"街道干部{n:02d}", f"street-{n:02d}", "科员") for n in range(1, 41)]
NAMED = ("cadre-zmy", "赵明远", "county-water", "科长")
# Outside the city: a province supervisor sees them, the city's supervisor never does.
OTHER_CITY = ("other-city", "乙市", "prov")
OTHER_CADRE = ("cadre-other", "赵明远乙", "other-city", "局长")


@pytest.fixture(scope="module", autouse=True)
def province(console: Console) -> None:
    """More units and cadres than a select lists whole, and a province supervisor."""
    directory = Directory(console.engine)
    directory.add_units([*STREETS, OTHER_CITY])
    directory.add_cadres([*CLERKS, NAMED, OTHER_CADRE])
    new_account(
        Accounts(console.engine),
        username="provsup",
        display_name="钱督查",
        role=Role.SUPERVISOR,
        unit_id="prov",
        password=PASSWORD,
    )


async def _csrf_of(page: Page) -> str:
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    return token


async def _open_case(console: Console, page: Page) -> str:
    await page.goto(f"{console.base}/console/findings/new")
    await page.get_by_label("责任单位").select_option("county-env")
    await page.get_by_label("责任人").select_option("cadre-42")
    deadline = (date.today() + timedelta(days=90)).isoformat()
    await page.get_by_label("整改期限（留空按整改类型默认工作日）").fill(deadline)
    await page.get_by_label("来源").select_option("inspection")
    await page.get_by_label("问题标题").fill(TITLE)
    await page.get_by_label("问题描述").fill("设备损坏后一直未修复")
    await page.get_by_role("button", name="登记并立项").click()
    await expect(page.get_by_text("已办理：立项整改")).to_be_visible()
    return page.url.split("/cases/")[1].split("?")[0]


async def test_a_province_supervisor_finds_a_cadre_by_name_and_assigns_them(
    console: Console,
) -> None:
    context, page = await console.login("provsup")
    case = await _open_case(console, page)
    console.shared["case"] = case
    html = await page.content()
    assert "街道干部21" not in html  # not every cadre of the province
    assert "某区第40街道办事处" not in html

    form = page.locator("#do-assign")
    await form.locator("summary").click()
    search = form.get_by_placeholder("输入姓名搜索")
    await expect(search).to_be_visible()
    await expect(form.get_by_text("可选项较多")).to_be_visible()
    select = form.get_by_label("责任人", exact=True)
    await expect(select.locator("option")).to_have_count(20)
    await expect(select.locator("option").first).to_have_text("王某（某县生态环境局 · 局长）")

    await search.press_sequentially("明远")
    await expect(select.locator("option")).to_have_count(2)
    await expect(select.locator("option").first).to_have_text("赵明远（某县水利局 · 科长）")
    await expect(select.locator("option").nth(1)).to_have_text("赵明远乙（乙市 · 局长）")
    assert "find=" not in page.url  # asked in place, no reload
    await select.select_option(label="赵明远（某县水利局 · 科长）")
    await form.get_by_label("理由").fill("原责任人调任，由水利局赵明远科长负责")
    await shot(page, "case_assign_search")
    await form.get_by_role("button", name="提交").click()
    await page.wait_for_url(f"**/cases/{case}?done=assign")
    await expect(page.get_by_text("赵明远（cadre-zmy）")).to_be_visible()
    await context.close()


async def test_without_javascript_the_search_button_narrows_the_list(console: Console) -> None:
    case = console.shared["case"]
    context, page = await console.login("provsup", javascript=False)
    await page.goto(f"{console.base}/console/cases/{case}")
    form = page.locator("#do-assign")
    await form.locator("summary").click()
    await form.get_by_placeholder("输入姓名搜索").fill("王")
    await form.get_by_role("button", name="搜索").click()
    await page.wait_for_url(re.compile(r".*find=cadres.*"))
    assert "csrf_token" not in page.url
    form = page.locator("#do-assign")
    await expect(form).to_have_attribute("open", "")
    await expect(form.get_by_placeholder("输入姓名搜索")).to_have_value("王")
    select = form.get_by_label("责任人", exact=True)
    await expect(select.locator("option")).to_have_count(1)
    await expect(select.locator("option")).to_have_text("王某（某县生态环境局 · 局长）")
    await form.get_by_label("理由").fill("赵明远科长另有任务，仍由王某负责")
    await form.get_by_role("button", name="提交").click()
    await page.wait_for_url(f"**/cases/{case}?done=assign")
    await expect(page.get_by_text("王某（cadre-42）")).to_be_visible()
    await context.close()


async def test_the_choices_route_lists_the_best_matches_within_the_scope(
    console: Console,
) -> None:
    case = console.shared["case"]
    url = f"{console.base}/console/cases/{case}/choices"
    context, _page = await console.login("provsup")
    request = context.request

    found = await request.get(f"{url}/cadres", params={"q": "明远"})
    assert found.status == 200
    html = await found.text()
    assert 'id="assign-cadre_id"' in html
    assert re.findall(r'value="([^"]+)"', html) == ["cadre-zmy", "cadre-other"]

    first = await (await request.get(f"{url}/cadres")).text()
    values = re.findall(r'value="([^"]+)"', first)
    assert len(values) == 20
    assert values[0] == "cadre-42"  # the case's unit's cadre first, and chosen
    assert 'value="cadre-42" selected' in first

    wide: dict[str, str | float | bool] = {"q": "ＳＴＲＥＥＴ", "form": "reassign"}
    units = await request.get(f"{url}/units", params=wide)
    assert units.status == 200
    assert "没有匹配的选项" in await units.text()  # ids are not names
    units = await request.get(f"{url}/units", params={"q": "第 0", "form": "reassign"})
    html = await units.text()
    assert 'id="reassign-unit_id" name="unit_id"' in html
    assert len(re.findall(r"<option ", html)) == 9  # 第01 … 第09街道, blanks ignored

    merge = await request.get(f"{url}/open_cases", params={"q": "x"})
    assert merge.status == 200
    assert 'id="merge-into-into_case_id"' in await merge.text()

    long = await request.get(f"{url}/cadres", params={"q": "赵" * 200})
    assert long.status == 200
    assert "没有匹配的选项" in await long.text()
    odd = await request.get(f"{url}/cadres", params={"q": "明\x00远%_'"})
    assert odd.status == 200
    assert (await request.get(f"{url}/everyone")).status == 404
    assert (await request.get(f"{console.base}/console/cases/nope/choices/units")).status == 404
    await context.close()

    context, _page = await console.login("sup")  # the city's supervisor
    in_city = await (await context.request.get(f"{url}/units")).text()
    unit_ids = re.findall(r'value="([^"]+)"', in_city)
    assert "prov" not in unit_ids
    assert "other-city" not in unit_ids
    assert unit_ids[0] == "city"
    everything = await (await context.request.get(f"{url}/units", params={"q": "市"})).text()
    assert "乙市" not in everything
    cadres = await (await context.request.get(f"{url}/cadres", params={"q": "明远"})).text()
    assert re.findall(r'value="([^"]+)"', cadres) == ["cadre-zmy"]
    await context.close()

    for username, status in (("insp", 403), ("env", 403), ("water", 404)):
        context, _page = await console.login(username)
        for kind in ("units", "cadres", "open_cases"):
            answer = await context.request.get(f"{url}/{kind}", params={"q": "王"})
            assert answer.status == status, (username, kind)
            assert "王某" not in await answer.text()
        await context.close()


async def test_a_unit_outside_the_supervisors_scope_is_refused(console: Console) -> None:
    case = console.shared["case"]
    context, page = await console.login("sup")
    await page.goto(f"{console.base}/console/cases/{case}")
    token = await _csrf_of(page)
    refused = await context.request.post(
        f"{console.base}/console/cases/{case}/do/reassign",
        form={
            "csrf_token": token,
            "unit_id": "other-city",
            "cadre_id": "cadre-other",
            "reason": "移交到辖区以外的单位",
        },
        max_redirects=0,
    )
    assert refused.status == 422
    assert "不在您的管辖范围内" in await refused.text()
    await context.close()


async def test_a_cadre_outside_the_supervisors_scope_is_refused(console: Console) -> None:
    case = console.shared["case"]
    context, page = await console.login("sup")
    await page.goto(f"{console.base}/console/cases/{case}")
    token = await _csrf_of(page)
    try:
        refused = await context.request.post(
            f"{console.base}/console/cases/{case}/do/assign",
            form={"csrf_token": token, "cadre_id": "cadre-other", "reason": "辖区以外的干部"},
            max_redirects=0,
        )
        assert refused.status == 422
    finally:
        await context.close()
