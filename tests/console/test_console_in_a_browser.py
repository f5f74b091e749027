"""The console in Chromium, on the real stack: one case from the supervisor's form to
its verification, seen by the unit, the supervisor and the inspector; scope, CSRF,
session expiry and lockout enforced. Screenshots of the main pages (1366×768) go to
docs/screenshots/. The tests run in order and share the case."""

from __future__ import annotations

import asyncio
import struct
import zlib
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import text

from tests.console.conftest import Console, shot

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(240)]

DEADLINE = date.today() + timedelta(days=90)


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x1f\x6f\xb4" * 8 for _ in range(8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def _act(
    page: Page, action: str, fields: dict[str, str], decision: str | None = None
) -> None:
    """Open the action's form, fill it by its labels, submit, and wait for the page."""
    box = page.locator(f"#do-{action}")
    await box.locator("summary").click()
    if decision is not None:
        await box.get_by_role("radio", name=decision).check()
    for label, value in fields.items():
        await box.get_by_label(label, exact=False).first.fill(value)
    await box.get_by_role("button", name="提交").click()


async def test_the_login_page_and_a_supervisor_records_a_finding(console: Console) -> None:
    context = await console.browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN"
    )
    page = await context.new_page()
    await page.goto(f"{console.base}/console/")
    await expect(page).to_have_url(f"{console.base}/console/login?next=/console/")
    await shot(page, "login")
    await context.close()

    context, page = await console.login("sup")
    await page.goto(f"{console.base}/console/findings/new")
    # Who is signed in, with the unit's name (not its id) in the header.
    assert "张督查（督查 · 某市）" in await page.locator("header").inner_text()
    await page.get_by_label("问题标题").fill("乡镇污水处理厂出水氨氮超标")
    await page.get_by_label("问题描述").fill("2026 年第三季度抽检，出水氨氮浓度超过一级 A 标准。")
    await page.get_by_label("责任单位").select_option("county-env")
    await page.get_by_label("责任人").select_option("cadre-42")
    await page.get_by_label("整改期限（留空按整改类型默认工作日）").fill(DEADLINE.isoformat())
    await page.get_by_label("整改目标").fill("出水稳定达到一级 A 标准")
    await shot(page, "finding_new")
    await page.get_by_role("button", name="登记并立项").click()
    await expect(page.locator("h1")).to_have_text("乡镇污水处理厂出水氨氮超标")
    await expect(page.get_by_text("已办理：立项整改")).to_be_visible()
    console.shared["case"] = page.url.split("/cases/")[1].split("?")[0]
    await expect(
        page.get_by_text(f"{DEADLINE.year}年{DEADLINE.month}月{DEADLINE.day}日").first
    ).to_be_visible()
    await expect(page.get_by_text("个工作日").first).to_be_visible()
    await context.close()


async def test_a_unit_submits_a_plan_reports_progress_with_a_file_and_asks_for_time(
    console: Console,
) -> None:
    case = console.shared["case"]
    console.caught_up()
    context, page = await console.login("env")
    await expect(page.get_by_role("heading", name="我的待办")).to_be_visible()
    await expect(page.get_by_text("提交整改方案").first).to_be_visible()
    await shot(page, "todos_unit")

    await page.goto(f"{console.base}/console/cases/{case}")
    # The supervisor's actions are not offered to a unit.
    await expect(page.locator("#do-verification")).to_have_count(0)
    # Closure needs a plan first: the domain refuses it in this state, so it is not offered.
    await expect(page.locator("#do-closure-request")).to_have_count(0)
    await _act(page, "plan", {"整改方案": "更换曝气设备，增加在线监测。"})
    await expect(page.get_by_text("已办理：提交整改方案")).to_be_visible()
    await expect(page.locator("#do-closure-request")).to_have_count(1)

    box = page.locator("#do-progress")
    await box.locator("summary").click()
    await box.get_by_label("进展情况").fill("曝气设备已到货，正在安装。")
    # The file input reads in Chinese whatever the browser's language.
    await expect(box.locator(".file-button")).to_have_text("选择文件")
    await expect(box.locator(".file-chosen")).to_have_text("未选择文件")
    await box.get_by_label("附件（可选）").set_input_files(
        {"name": "现场照片.png", "mimeType": "image/png", "buffer": _png()}
    )
    await expect(box.locator(".file-chosen")).to_have_text("现场照片.png")
    await box.get_by_role("button", name="提交").click()
    await expect(page.get_by_text("已办理：报告整改进展")).to_be_visible()
    await expect(page.locator("#evidence ~ table img[alt='现场照片.png']")).to_have_count(1)

    # A refusal shows the domain's Chinese message on the form and keeps what was typed.
    too_early = (DEADLINE - timedelta(days=1)).isoformat()
    await _act(page, "extension-request", {"申请延至": too_early, "理由": "设备供货延迟"})
    await expect(page.locator("#do-extension-request .error")).to_contain_text("须晚于现期限")
    await expect(page.locator("#do-extension-request textarea")).to_have_value("设备供货延迟")

    later = (DEADLINE + timedelta(days=30)).isoformat()
    await page.locator("#do-extension-request").get_by_label("申请延至").fill(later)
    await page.locator("#do-extension-request").get_by_role("button", name="提交").click()
    await expect(page.get_by_text("已办理：申请延期")).to_be_visible()
    await shot(page, "case_unit")
    await context.close()


async def test_the_supervisor_grants_the_extension_from_their_to_dos(console: Console) -> None:
    case = console.shared["case"]
    console.caught_up()
    context, page = await console.login("sup")
    await expect(page.get_by_role("heading", name="待审批的延期申请（1）")).to_be_visible()
    waiting = page.locator("table").first
    await expect(waiting.locator("tbody td").nth(2)).to_have_text("某县生态环境局")
    await expect(waiting).to_contain_text(f"{DEADLINE.year}年{DEADLINE.month}月{DEADLINE.day}日")
    await expect(waiting).to_contain_text("个工作日")
    await shot(page, "todos_supervisor")
    await page.get_by_role("link", name="乡镇污水处理厂出水氨氮超标").first.click()
    await page.wait_for_url(f"**/cases/{case}")
    await _act(page, "extension-decision", {"意见（可选）": "同意"}, decision="批准")
    await expect(page.get_by_text("已办理：延期审批")).to_be_visible()
    await context.close()


async def test_closure_is_rejected_then_verified(console: Console) -> None:
    case = console.shared["case"]
    context, page = await console.login("env")
    await page.goto(f"{console.base}/console/cases/{case}")
    await _act(page, "closure-request", {"整改完成情况": "设备已安装并运行。"})
    await expect(page.get_by_text("已办理：申请销号")).to_be_visible()

    sup_context, sup = await console.login("sup")
    await sup.goto(f"{console.base}/console/cases/{case}")
    await _act(sup, "verification", {"理由": "缺少第三方检测报告"}, decision="退回")
    await expect(sup.get_by_text("已办理：验收销号")).to_be_visible()

    await page.goto(f"{console.base}/console/cases/{case}")
    await _act(page, "closure-request", {"整改完成情况": "已补充第三方检测报告。"})
    await expect(page.get_by_text("已办理：申请销号")).to_be_visible()
    await sup.goto(f"{console.base}/console/cases/{case}")
    await _act(sup, "verification", {"意见（可选）": "验收通过"}, decision="验收通过（销号）")
    await expect(sup.get_by_text("已销号").first).to_be_visible()
    await shot(sup, "case_supervisor")

    console.caught_up()
    await sup.goto(f"{console.base}/console/board")
    await expect(sup.get_by_role("link", name="某县生态环境局", exact=True)).to_be_visible()
    await expect(sup.locator("h1")).to_contain_text("范围：某市")
    await shot(sup, "board")
    await sup.get_by_role("link", name="某县生态环境局", exact=True).click()
    await sup.wait_for_url("**/console/cases?unit=county-env")
    # The responsible unit by its name in the list, never its id.
    unit_cells = await sup.locator("table tbody tr td").all_inner_texts()
    assert "某县生态环境局" in unit_cells
    assert "county-env" not in unit_cells
    await shot(sup, "cases")
    # Filters offer people and units by name; the cadre's filter keeps the case.
    await sup.get_by_label("责任人").select_option("cadre-42")
    await sup.get_by_label("排序").select_option(label="立项时间（晚→早）")
    await sup.get_by_role("button", name="筛选").click()
    await sup.wait_for_url("**cadre=cadre-42**")
    await expect(sup.get_by_role("link", name="乡镇污水处理厂出水氨氮超标")).to_be_visible()
    await sup.goto(f"{console.base}/console/archive")  # nothing chosen yet: what to do
    choose = "请选择一名干部和年份（或季度），查看其政绩档案。"
    await expect(sup.get_by_text(choose)).to_be_visible()
    await sup.goto(f"{console.base}/console/archive?cadre=cadre-42&year={date.today().year}")
    await expect(sup.get_by_text("承担整改案件")).to_be_visible()
    behind = sup.get_by_role("link", name="乡镇污水处理厂出水氨氮超标").first
    await expect(behind).to_have_attribute("href", f"/console/cases/{case}")
    await shot(sup, "archive")
    await sup_context.close()
    await context.close()


async def test_an_inspector_reads_the_timeline_and_the_chain_and_changes_nothing(
    console: Console,
) -> None:
    case = console.shared["case"]
    context, page = await console.login("insp")
    await expect(page.get_by_text("审计状态")).to_be_visible()
    await shot(page, "todos_inspector")
    await page.goto(f"{console.base}/console/cases/{case}")
    await expect(page.get_by_text("校验通过")).to_be_visible()
    await expect(page.get_by_text("申请延期").first).to_be_visible()
    await expect(page.get_by_text("李办事员").first).to_be_visible()
    await expect(page.locator("details.action")).to_have_count(0)
    await expect(page.locator("form[enctype='multipart/form-data']")).to_have_count(0)
    await shot(page, "case_inspector")
    await context.close()


async def test_a_unit_cannot_see_another_units_case(console: Console) -> None:
    case = console.shared["case"]
    context, page = await console.login("water")
    response = await page.goto(f"{console.base}/console/cases/{case}")
    assert response is not None
    assert response.status == 404
    await expect(page.get_by_text("未找到")).to_be_visible()
    await context.close()


async def test_a_post_without_the_csrf_token_is_refused(console: Console) -> None:
    case = console.shared["case"]
    context, _ = await console.login("env")
    url = f"{console.base}/console/cases/{case}/do/progress"
    refused = await context.request.post(url, multipart={"text": "无令牌"})
    assert refused.status == 403
    assert "安全令牌" in await refused.text()
    wrong = await context.request.post(url, multipart={"text": "错令牌", "csrf_token": "x" * 43})
    assert wrong.status == 403
    await context.close()


async def test_an_expired_session_goes_back_to_the_login_page(console: Console) -> None:
    context, page = await console.login("env")
    with console.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE console_sessions SET expires_at = now() - interval '1 minute' "
                "WHERE account_id = "
                "(SELECT account_id FROM console_accounts WHERE username = 'env')"
            )
        )
    await page.goto(f"{console.base}/console/cases")
    await expect(page).to_have_url(f"{console.base}/console/login?next=/console/cases&expired=1")
    await expect(page.get_by_text("登录已过期")).to_be_visible()
    await context.close()


async def test_five_failed_sign_ins_lock_the_account(console: Console) -> None:
    context = await console.browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN"
    )
    page = await context.new_page()
    for _ in range(5):
        await page.goto(f"{console.base}/console/login")
        await page.get_by_label("用户名").fill("water")
        await page.get_by_label("密码").fill("wrong password")
        await page.get_by_role("button", name="登录").click()
        await expect(page.locator(".error")).to_be_visible()
    await expect(page.locator(".error")).to_contain_text("锁定")
    await page.get_by_label("用户名").fill("water")
    await page.get_by_label("密码").fill("correct-horse-42")
    await page.get_by_role("button", name="登录").click()
    await expect(page.locator(".error")).to_contain_text("锁定")
    await context.close()


async def test_the_admin_page_lists_units_cadres_and_accounts(console: Console) -> None:
    context, page = await console.login("admin")
    await expect(page).to_have_url(f"{console.base}/console/admin")
    await page.get_by_label("用户名").fill("newcomer")
    await page.get_by_label("姓名").fill("新同事")
    await page.get_by_label("角色").select_option("unit")
    await page.locator("#na-unit").select_option("county-water")
    await page.get_by_role("button", name="新建账号").click()
    await expect(page.get_by_text("首次密码")).to_be_visible()
    await shot(page, "admin")
    # A unit under a parent chosen by name, and a cadre of it, chosen by name too.
    await page.locator("#nu-id").fill("town-1")
    await page.locator("#nu-name").fill("某镇人民政府")
    await page.get_by_label("上级单位（可选）").select_option("county-water")
    await page.get_by_role("button", name="新建单位").click()
    await expect(page.get_by_role("cell", name="某镇人民政府")).to_be_visible()
    await page.locator("#nc-id").fill("cadre-town")
    await page.locator("#nc-name").fill("赵镇长")
    await page.locator("#nc-unit").select_option("town-1")
    await page.locator("#nc-post").fill("镇长")
    await page.get_by_role("button", name="新建干部").click()
    await expect(page.get_by_role("cell", name="赵镇长")).to_be_visible()
    await context.close()


async def test_the_case_list_downloads_as_the_ledger(console: Console) -> None:
    """导出台账 on the list gives the 整改台账 of what the list shows, as the API's ledger."""
    context, page = await console.login("env")
    await page.goto(f"{console.base}/console/cases?light=green")
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="导出台账").click()
    download = await waiting.value
    assert download.suggested_filename == "整改台账.xlsx"
    saved = await download.path()
    assert saved is not None
    content = await asyncio.to_thread(Path(saved).read_bytes)
    assert content[:4] == b"PK\x03\x04"  # an XLSX
    await context.close()
