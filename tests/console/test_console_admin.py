"""The console's administration of notification contacts, in Chromium on the real stack,
and the names the pages show for ids: an admin adds, changes and removes a unit's
contacts (a removal with notices still queued asks what becomes of them); a bad
address is refused in Chinese with what was typed kept; nobody but an admin gets in;
the archive links its figures to the cases by title; 我的待办 and the board name
their units. Screenshot: docs/screenshots/admin_contacts.png (1366×768)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.async_api import APIRequestContext, Page, expect

from store.outbox import Channel, NewNotification, Outbox, OutboxStatus, UnitContacts
from store.tokens import Tokens
from tests.console.conftest import Console, shot

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(240)]

CONTACTS = "/console/admin/contacts"
TITLE = "城区黑臭水体整治进度滞后"


async def _unit_page(console: Console, page: Page, unit_id: str, unit_name: str) -> None:
    await page.goto(f"{console.base}/console/admin")
    await page.get_by_role("link", name="查看和维护各单位的通知接收方").click()
    await page.wait_for_url(f"**{CONTACTS}")
    await page.locator("#show-unit").select_option(unit_id)
    await page.get_by_role("button", name="查看").click()
    await expect(page.locator("h1")).to_contain_text(unit_name)


def _queued_notice(contact_id: int, address: str) -> NewNotification:
    key = uuid.uuid4().hex
    return NewNotification(
        notice_key=key,
        case_id="admin-test",
        stream_id="case-admin-test",
        kind="reminder",
        level=None,
        channel=Channel.EMAIL,
        recipient=address,
        contact_id=contact_id,
        payload={
            "case_id": "admin-test",
            "title": TITLE,
            "unit_id": "county-water",
            "unit_name": "某县水利局",
            "deadline": "2030-03-29",
            "light": "yellow",
            "occurred_at": datetime.now(UTC).isoformat(),
        },
    )


async def test_an_admin_adds_changes_and_removes_a_units_contacts(console: Console) -> None:
    context, page = await console.login("admin")
    await _unit_page(console, page, "county-water", "某县水利局")
    await expect(page.locator("#contacts")).to_contain_text("还没有通知接收方")

    await page.get_by_label("接收角色").select_option("leader")
    await page.locator("#nc-channel").select_option("email")
    await page.get_by_label("地址（邮箱或网址）").fill("leader@water.example.cn")
    await page.get_by_label("姓名或说明（可选）").fill("周局长")
    await page.get_by_role("button", name="添加接收方").click()
    await expect(page.get_by_role("status")).to_have_text("已添加接收方")
    row = page.locator("#contacts tbody tr", has_text="leader@water.example.cn")
    await expect(row).to_contain_text("单位领导")
    await expect(row).to_contain_text("逐条发送")

    await row.get_by_role("link", name="修改").click()
    await page.get_by_label("地址（留空不变）").fill("zhou@water.example.cn")
    await page.locator("#ec-digest").check()
    await page.get_by_role("button", name="保存修改").click()
    await expect(page.get_by_role("status")).to_have_text("已保存接收方的修改")
    row = page.locator("#contacts tbody tr", has_text="zhou@water.example.cn")
    await expect(row).to_contain_text("每日汇总")
    (contact,) = UnitContacts(console.engine).contacts("county-water")
    assert (contact.address, contact.digest) == ("zhou@water.example.cn", True)
    assert contact.name == "周局长"

    # A notice still waits for it: the removal asks what becomes of it, and the answer holds.
    outbox = Outbox(console.engine)
    outbox.enqueue([_queued_notice(contact.contact_id, contact.address)])
    await page.reload()
    row = page.locator("#contacts tbody tr", has_text="zhou@water.example.cn")
    await expect(row.locator("td.num")).to_have_text("1")
    await row.get_by_role("link", name="修改").click()
    await expect(page.get_by_text("还有 1 条待投递的通知")).to_be_visible()
    await page.get_by_role("button", name="删除接收方").click()
    await expect(page.locator("#edit .error")).to_contain_text("请选择取消这些通知")
    await expect(page.locator("#ec-name")).to_have_value("周局长")  # the edit form is intact
    await page.get_by_label("取消这些通知").check()
    await page.get_by_role("button", name="删除接收方").click()
    await expect(page.get_by_role("status")).to_have_text("已删除接收方")
    await expect(page.locator("#contacts")).to_contain_text("还没有通知接收方")
    assert UnitContacts(console.engine).contacts("county-water") == []
    (cancelled,) = outbox.page(status=None, case_id="admin-test", limit=5, before=None)
    assert cancelled.status is OutboxStatus.CANCELLED
    await context.close()


async def test_a_bad_address_is_refused_in_chinese_and_what_was_typed_stays(
    console: Console,
) -> None:
    context, page = await console.login("admin")
    await _unit_page(console, page, "county-env", "某县生态环境局")
    await page.get_by_label("接收角色").select_option("contact")
    await page.locator("#nc-channel").select_option("email")
    await page.get_by_label("地址（邮箱或网址）").fill("李办事员 at env")
    await page.get_by_label("姓名或说明（可选）").fill("李办事员")
    await page.get_by_role("button", name="添加接收方").click()
    error = page.locator("section:has(#add-contact) .error")
    await expect(error).to_contain_text("地址格式不对")
    await expect(page.get_by_label("地址（邮箱或网址）")).to_have_value("李办事员 at env")
    await expect(page.get_by_label("姓名或说明（可选）")).to_have_value("李办事员")
    await expect(page.locator("#nc-unit")).to_have_value("county-env")
    await expect(page.locator("#nc-role")).to_have_value("contact")
    assert UnitContacts(console.engine).contacts("county-env") == []

    # A DingTalk robot with its token, and a signed webhook: the page the docs show.
    await page.get_by_label("地址（邮箱或网址）").fill("env@county.example.cn")
    await page.get_by_role("button", name="添加接收方").click()
    await expect(page.get_by_role("status")).to_have_text("已添加接收方")
    await page.get_by_label("接收角色").select_option("leader")
    await page.locator("#nc-channel").select_option("dingtalk")
    robot = "https://oapi.dingtalk.com/robot/send?access_token=abc123"
    await page.get_by_label("地址（邮箱或网址）").fill(robot)
    await page.get_by_label("签名密钥（Webhook、钉钉，可选）").fill("SEC-dingtalk-key")
    await page.get_by_role("button", name="添加接收方").click()
    await expect(page.get_by_role("status")).to_have_text("已添加接收方")
    # The robot's token is never shown.
    await expect(page.locator("#contacts")).not_to_contain_text("abc123")
    await expect(page.locator("#contacts")).to_contain_text("已设签名密钥")
    await shot(page, "admin_contacts")
    await context.close()


async def test_only_an_admin_keeps_contacts(console: Console) -> None:
    context, page = await console.login("sup")
    response = await page.goto(f"{console.base}{CONTACTS}")
    assert response is not None
    assert response.status == 403
    await expect(page.get_by_text("此操作仅限")).to_be_visible()
    # Even with the session's CSRF token, a supervisor's POST is refused.
    token = await _csrf_of(page)
    posted = await context.request.post(
        f"{console.base}{CONTACTS}",
        form={
            "csrf_token": token,
            "unit_id": "county-env",
            "role": "leader",
            "channel": "email",
            "address": "x@y.example.cn",
        },
    )
    assert posted.status == 403
    await context.close()

    context, page = await console.login("admin")
    await page.goto(f"{console.base}{CONTACTS}")
    form: dict[str, str | float | bool] = {
        "unit_id": "county-env",
        "role": "leader",
        "channel": "email",
        "address": "a@b.cn",
    }
    refused = await context.request.post(f"{console.base}{CONTACTS}", form=form)
    assert refused.status == 403
    assert "安全令牌" in await refused.text()
    assert [c.address for c in UnitContacts(console.engine).contacts("county-env")] == [
        "env@county.example.cn",
        "https://oapi.dingtalk.com/robot/send?access_token=abc123",
    ]
    await context.close()


async def test_a_removed_contacts_queued_notices_can_go_to_another_contact(
    console: Console,
) -> None:
    contacts = UnitContacts(console.engine)
    email, robot = contacts.contacts("county-env")
    outbox = Outbox(console.engine)
    notice = _queued_notice(email.contact_id, email.address)
    outbox.enqueue([notice])
    context, page = await console.login("admin")
    await page.goto(f"{console.base}{CONTACTS}?unit=county-env&edit={email.contact_id}")
    await expect(page.get_by_text("还有 1 条待投递的通知")).to_be_visible()
    await page.locator("#rm-redirect").check()
    await page.locator("#rm-target").select_option(str(robot.contact_id))
    await page.get_by_role("button", name="删除接收方").click()
    await expect(page.get_by_role("status")).to_have_text("已删除接收方")
    await expect(page.locator("#contacts tbody tr")).to_have_count(1)
    await expect(page.locator("#contacts tbody tr td.num")).to_have_text("1")
    assert [c.contact_id for c in contacts.contacts("county-env")] == [robot.contact_id]
    (moved,) = [
        r
        for r in outbox.page(status=None, case_id="admin-test", limit=10, before=None)
        if r.contact_id == robot.contact_id
    ]
    assert (moved.status, moved.channel) == (OutboxStatus.PENDING, Channel.DINGTALK)
    await context.close()


async def _csrf_of(page: Page) -> str:
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    return token


async def _api_post(request: APIRequestContext, url: str, token: str, body: object) -> object:
    response = await request.post(url, data=body, headers={"Authorization": f"Bearer {token}"})
    assert response.ok, await response.text()
    return await response.json()


async def test_pages_name_units_and_cases_not_their_ids(console: Console) -> None:
    """A case of 某县水利局 with an extension request, made through the API."""
    tokens = Tokens(console.engine)
    supervisor = tokens.create(role="supervisor", unit_id="city", name="督查").secret
    unit = tokens.create(role="unit", unit_id="county-water", name="水利局").secret
    deadline = date.today() + timedelta(days=60)
    context, page = await console.login("sup")
    api = f"{console.base}/api/v1"
    opened = await _api_post(
        context.request,
        f"{api}/findings",
        supervisor,
        {
            "title": TITLE,
            "source": "supervision",
            "unit_id": "county-water",
            "cadre_id": "cadre-43",
            "deadline": deadline.isoformat(),
            "kind": "time_limited",
            "target": "消除黑臭水体",
        },
    )
    assert isinstance(opened, dict)
    case = opened["case_id"]
    later = deadline + timedelta(days=20)
    await _api_post(
        context.request,
        f"{api}/cases/{case}/extension-request",
        unit,
        {"reason": "雨季施工受限", "proposed_deadline": later.isoformat()},
    )
    console.caught_up()

    await page.goto(f"{console.base}/console/")
    waiting = page.locator("table").first
    await expect(waiting).to_contain_text(TITLE)
    await expect(waiting.locator("tbody td").nth(2)).to_have_text("某县水利局")
    await expect(waiting).not_to_contain_text("county-water")
    await expect(waiting).to_contain_text(f"{deadline.year}年{deadline.month}月{deadline.day}日")
    await expect(waiting).to_contain_text("还剩")
    await expect(waiting).to_contain_text("个工作日")

    await page.goto(f"{console.base}/console/board")
    await expect(page.locator("h1")).to_contain_text("范围：某市")
    await page.goto(f"{console.base}/console/board?unit=county-water")
    await expect(page.locator("h1")).to_contain_text("范围：某县水利局")

    await page.goto(f"{console.base}/console/archive?cadre=cadre-43&year={date.today().year}")
    await expect(page.locator("h2").first).to_contain_text("陈某")
    assigned = page.locator("tbody tr", has_text="承担整改案件")
    link = assigned.get_by_role("link", name=TITLE)
    await expect(link).to_have_attribute("href", f"/console/cases/{case}")
    await expect(page.locator("main")).not_to_contain_text(case)
    await link.click()
    await expect(page.locator("h1")).to_have_text(TITLE)
    # The proposed deadline in the timeline reads as a Chinese date too.
    await expect(page.locator("ol.timeline")).to_contain_text(
        f"→ {later.year}年{later.month}月{later.day}日"
    )
    await context.close()
