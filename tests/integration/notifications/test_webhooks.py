"""Webhooks against a real HTTP receiver on loopback that checks our HMAC signature and
is down for its first three calls; DingTalk and WeCom robots get their own formats."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine

from activities.outbox_dispatcher.config import DeliveryConfig, RetryPolicy
from activities.outbox_dispatcher.dispatcher import Dispatcher
from store.directory import Directory
from store.event_store import EventStore
from store.outbox import Channel, ContactRole, Outbox, OutboxStatus, UnitContacts
from tests.integration.notifications.helpers import UNITS, drain, notification
from tests.integration.notifications.receivers import WebhookReceiver, webhook_server

pytestmark = pytest.mark.integration

SECRET = "shared-secret-整改"


@pytest.fixture(scope="module")
def units(engine: Engine) -> None:
    Directory(engine).add_units(UNITS)


def _dispatcher(engine: Engine, **config: object) -> Dispatcher:
    retry = RetryPolicy(max_attempts=10, backoff_base=0.01, backoff_cap=0.05)
    settings = DeliveryConfig(retry=retry, http_timeout=5, **config)  # type: ignore[arg-type]
    return Dispatcher(Outbox(engine), EventStore(engine), settings)


def test_a_signed_webhook_down_for_three_calls_then_receives_each_message_once_in_order(
    engine: Engine, units: None
) -> None:
    receiver = WebhookReceiver(secret=SECRET, fail_first=3)
    outbox = Outbox(engine)
    case = uuid.uuid4().hex
    with webhook_server(receiver) as base:
        url = f"{base}/hook/{case}"
        contact = UnitContacts(engine).add(
            "county-env", ContactRole.CONTACT, Channel.WEBHOOK, url, secret=SECRET
        )
        rows = [
            notification(
                case, str(uuid.uuid4()), url, Channel.WEBHOOK, contact.contact_id, kind=k, level=n
            )
            for k, n in (("reminder", None), ("overdue", None), ("escalation", 1))
        ]
        outbox.enqueue(rows)
        drain(_dispatcher(engine), outbox)
    assert receiver.bad_signatures == 0
    assert receiver.calls == 3 + 3
    assert [body["idempotency_key"] for _, body in receiver.received] == [
        r.idempotency_key for r in rows
    ]
    stored = outbox.rows(case_id=case)
    assert {r.status for r in stored} == {OutboxStatus.SENT}
    assert stored[0].attempts == 4  # three 503s, then delivered
    first = receiver.received[0][1]
    assert first["case_id"] == case
    assert "【整改提醒】" in first["subject"]
    assert first["link"].endswith(f"/cases/{case}")


def test_a_webhook_signed_with_another_secret_is_refused_and_stays_pending(
    engine: Engine, units: None
) -> None:
    receiver = WebhookReceiver(secret=SECRET, fail_first=0)
    outbox = Outbox(engine)
    case = uuid.uuid4().hex
    with webhook_server(receiver) as base:
        outbox.enqueue([notification(case, str(uuid.uuid4()), f"{base}/hook", Channel.WEBHOOK)])
        _dispatcher(engine, webhook_secret="not-the-secret").run_once()
    (row,) = outbox.rows(case_id=case)
    assert receiver.bad_signatures == 1
    assert row.status is OutboxStatus.PENDING
    assert "HTTP 401" in (row.last_error or "")


def test_dingtalk_and_wecom_robots_receive_markdown_in_their_formats(
    engine: Engine, units: None
) -> None:
    receiver = WebhookReceiver(secret=SECRET, fail_first=0)
    outbox = Outbox(engine)
    case = uuid.uuid4().hex
    with webhook_server(receiver) as base:
        outbox.enqueue(
            [
                notification(
                    case,
                    "k1",
                    f"{base}/robot/send?access_token=t",
                    Channel.DINGTALK,
                    kind="escalation",
                    level=2,
                ),
                notification(
                    case,
                    "k1",
                    f"{base}/cgi-bin/webhook/send?key=k",
                    Channel.WECOM,
                    kind="escalation",
                    level=2,
                ),
            ]
        )
        drain(_dispatcher(engine, language="en"), outbox)
    by_path = {path.split("?")[0]: body for path, body in receiver.received}
    dingtalk, wecom = by_path["/robot/send"], by_path["/cgi-bin/webhook/send"]
    assert dingtalk["msgtype"] == "markdown"
    assert "formal supervision" in dingtalk["markdown"]["title"]
    assert f"/cases/{case}" in dingtalk["markdown"]["text"]
    assert wecom["msgtype"] == "markdown"
    assert "Escalation" in wecom["markdown"]["content"]
