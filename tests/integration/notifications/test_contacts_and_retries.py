"""Contacts that can be fixed, removed contacts, units with nobody, and retried webhooks,
against real receivers on loopback (an HTTP server and aiosmtpd), counting what arrived."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from activities.models import Audience, NotificationKind, NotificationRequest, Recipient
from activities.notifications import OutboxNotificationSink
from activities.outbox_dispatcher.config import DeliveryConfig, RetryPolicy
from activities.outbox_dispatcher.dispatcher import Dispatcher
from cli.notifications import notifications_app
from domain.events import CaseOpened, FindingRecorded
from domain.schedule import SYSTEM_ACTOR
from domain.vocabulary import CaseKind, Source
from store.directory import Directory
from store.event_store import EventStore
from store.outbox import (
    Channel,
    ContactError,
    ContactRole,
    Outbox,
    OutboxError,
    OutboxStatus,
    UnitContacts,
)
from store.records import NewEvent
from tests.integration.notifications.helpers import UNITS, drain, notification, smtp_config
from tests.integration.notifications.receivers import smtp_server
from workflows.event_mapping import to_append
from workflows.models import RequestContext

pytestmark = pytest.mark.integration

SECRET = "s3cret-key"


@dataclass
class HeaderReceiver:
    """Answers 503 to the first ``fail_first`` calls; keeps every call's headers."""

    fail_first: int = 0
    calls: list[dict[str, str]] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], raw: bytes) -> int:
        with self.lock:
            self.calls.append(headers)
            if len(self.calls) <= self.fail_first:
                return 503
            self.delivered.append(json.loads(raw))
            return 200


@contextmanager
def http_receiver(receiver: HeaderReceiver) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.handle({k.lower(): v for k, v in self.headers.items()}, raw)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def units(engine: Engine) -> None:
    Directory(engine).add_units([*UNITS, ("lonely", "某县无人单位", "city")])


def _fast(max_attempts: int = 3) -> DeliveryConfig:
    return DeliveryConfig(
        retry=RetryPolicy(max_attempts=max_attempts, backoff_base=0.01, backoff_cap=0.02),
        http_timeout=5,
    )


def _dispatcher(engine: Engine, config: DeliveryConfig) -> Dispatcher:
    return Dispatcher(Outbox(engine), EventStore(engine), config)


def test_a_retried_webhook_carries_the_same_idempotency_key_on_every_try(
    engine: Engine, units: None
) -> None:
    receiver = HeaderReceiver(fail_first=2)
    outbox = Outbox(engine)
    case = uuid.uuid4().hex
    with http_receiver(receiver) as base:
        url = f"{base}/hook"
        contact = UnitContacts(engine).add(
            "county-env", ContactRole.CONTACT, Channel.WEBHOOK, f"{url}/{case}", secret=SECRET
        )
        outbox.enqueue(
            [
                notification(
                    case, str(uuid.uuid4()), contact.address, Channel.WEBHOOK, contact.contact_id
                )
            ]
        )
        drain(_dispatcher(engine, _fast(max_attempts=5)), outbox)
    (row,) = outbox.rows(case_id=case)
    assert row.status is OutboxStatus.SENT
    assert len(receiver.calls) == 3
    assert {c["idempotency-key"] for c in receiver.calls} == {row.delivery_id}
    assert {c["x-zhenggai-delivery"] for c in receiver.calls} == {row.delivery_id}
    assert len(receiver.delivered) == 1
    assert receiver.delivered[0]["delivery_id"] == row.delivery_id


def test_contacts_are_checked_when_added(engine: Engine, units: None) -> None:
    contacts = UnitContacts(engine)
    bad = [
        (Channel.EMAIL, "not-an-address", None, "invalid_address"),
        (Channel.WEBHOOK, "ftp://example.cn/hook", SECRET, "invalid_address"),
        (Channel.WEBHOOK, "https://example.cn/hook", None, "secret_needed"),
        (Channel.DINGTALK, "https://oapi.dingtalk.com/robot/send", None, "invalid_address"),
        (
            Channel.WECOM,
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
            None,
            "invalid_address",
        ),
    ]
    for channel, address, secret, code in bad:
        with pytest.raises(ContactError) as refused:
            contacts.add("county-env", ContactRole.LEADER, channel, address, secret=secret)
        assert refused.value.code == code, address
    # With ZHENGGAI_WEBHOOK_SECRET set, a webhook may do without its own.
    contacts.add(
        "county-env",
        ContactRole.LEADER,
        Channel.WEBHOOK,
        f"https://example.cn/hook/{uuid.uuid4().hex}",
        default_secret=True,
    )


def test_a_dead_webhook_revives_after_its_contact_is_fixed_and_retried(
    engine: Engine, units: None
) -> None:
    """Added while a default secret was promised, delivered by a dispatcher without one:
    every try dies. `contact update --secret` and a retry deliver it once."""
    receiver = HeaderReceiver()
    outbox = Outbox(engine)
    contacts = UnitContacts(engine)
    case = uuid.uuid4().hex
    with http_receiver(receiver) as base:
        contact = contacts.add(
            "county-env",
            ContactRole.CONTACT,
            Channel.WEBHOOK,
            f"{base}/old/{case}",
            default_secret=True,
        )
        outbox.enqueue(
            [
                notification(
                    case, str(uuid.uuid4()), contact.address, Channel.WEBHOOK, contact.contact_id
                )
            ]
        )
        dispatcher = _dispatcher(engine, _fast())
        drain(dispatcher, outbox)
        (row,) = outbox.rows(case_id=case)
        assert row.status is OutboxStatus.DEAD
        assert "no secret" in (row.last_error or "")
        assert receiver.calls == []
        contacts.update(contact.contact_id, address=f"{base}/new/{case}", secret=SECRET)
        retried = outbox.retry(row.id)
        assert retried.recipient == f"{base}/new/{case}"
        drain(dispatcher, outbox)
    (row,) = outbox.rows(case_id=case)
    assert row.status is OutboxStatus.SENT
    assert len(receiver.delivered) == 1
    assert receiver.delivered[0]["case_id"] == case


def test_removing_a_contact_cancels_or_redirects_its_queued_messages(
    engine: Engine, units: None
) -> None:
    outbox = Outbox(engine)
    contacts = UnitContacts(engine)
    tag = uuid.uuid4().hex[:8]
    gone = contacts.add("county-env", ContactRole.LEADER, Channel.EMAIL, f"gone-{tag}@x.example")
    moved = contacts.add("county-env", ContactRole.LEADER, Channel.EMAIL, f"moved-{tag}@x.example")
    heir = contacts.add("county-env", ContactRole.LEADER, Channel.EMAIL, f"heir-{tag}@x.example")
    case = uuid.uuid4().hex
    outbox.enqueue(
        [
            notification(case, f"{tag}-1", gone.address, contact_id=gone.contact_id),
            notification(case, f"{tag}-2", moved.address, contact_id=moved.contact_id),
            notification(case, f"{tag}-3", moved.address, contact_id=moved.contact_id),
            # The heir already has notice 3: it is not given a second copy.
            notification(case, f"{tag}-3", heir.address, contact_id=heir.contact_id),
        ]
    )
    with pytest.raises(ContactError) as refused:
        contacts.remove(gone.contact_id)
    assert refused.value.code == "queued_rows"
    assert contacts.get(gone.contact_id) is not None  # nothing changed
    assert contacts.remove(gone.contact_id, cancel_queued=True)
    assert contacts.remove(moved.contact_id, redirect_to=heir.contact_id)
    with smtp_server() as (mailbox, port):
        drain(_dispatcher(engine, smtp_config(port)), outbox)
    arrived = [str(m["To"]) for m in mailbox.messages]
    assert arrived == [heir.address, heir.address]  # notices 2 and 3, once each
    by_key = {r.notice_key: r for r in outbox.rows(case_id=case) if r.recipient != heir.address}
    assert by_key[f"{tag}-1"].status is OutboxStatus.CANCELLED
    statuses = sorted(r.status.value for r in outbox.rows(case_id=case))
    assert statuses == ["cancelled", "cancelled", "sent", "sent"]


def _case_stream(engine: Engine, unit_id: str) -> tuple[str, str]:
    """A case opened in the log (no workflow needed for the sink)."""
    store = EventStore(engine)
    case_id = uuid.uuid4().hex
    stream = f"case-{case_id}"
    now = datetime.now(UTC)
    events = [
        FindingRecorded(
            occurred_at=now,
            finding_id=case_id,
            source=Source.AUDIT,
            title="河道非法采砂整治不到位",
            unit_id=unit_id,
            cadre_id="cadre-1",
        ),
        CaseOpened(
            occurred_at=now,
            case_id=case_id,
            finding_id=case_id,
            unit_id=unit_id,
            cadre_id="cadre-1",
            kind=CaseKind.IMMEDIATE,
            deadline=now.date(),
        ),
    ]
    appended = to_append(
        events, actor=SYSTEM_ACTOR, context=RequestContext(), workflow_id=stream, new_id=uuid.uuid4
    )
    store.append(
        stream,
        0,
        [
            NewEvent(
                event_id=uuid.UUID(e.event_id),
                type=e.type,
                data=e.data,
                schema_version=e.schema_version,
                metadata=e.metadata,
            )
            for e in appended
        ],
    )
    return case_id, stream


def test_a_unit_with_no_contacts_gets_a_visible_unaddressed_row_not_silence(
    engine: Engine, database_url: str, units: None
) -> None:
    case_id, stream = _case_stream(engine, "lonely")
    notice = NotificationRequest(
        idempotency_key=str(uuid.uuid4()),
        case_id=case_id,
        workflow_id=stream,
        kind=NotificationKind.REMINDER,
        recipients=(Recipient(audience=Audience.RESPONSIBLE, unit_id="lonely"),),
        occurred_at=datetime.now(UTC),
        unit_id="lonely",
        light="yellow",
        working_days_left=2,
    )
    sink = OutboxNotificationSink(EventStore(engine))
    result = sink.send(notice)
    assert (result.outcome, result.unaddressed) == ("unaddressed", 1)
    outbox = Outbox(engine)
    (row,) = outbox.rows(case_id=case_id)
    assert (row.status, row.channel, row.recipient) == (
        OutboxStatus.UNADDRESSED,
        None,
        "lonely/contact",
    )
    assert outbox.counts(case_id)[OutboxStatus.UNADDRESSED] == 1
    assert sink.send(notice).rows == 0  # a retried activity adds nothing
    env = {"DATABASE_URL": database_url, "ZHENGGAI_LANGUAGE": "en"}
    listed = CliRunner().invoke(
        notifications_app, ["list", "--status", "unaddressed", "--case", case_id], env=env
    )
    assert listed.exit_code == 0, listed.output
    assert "lonely/contact" in listed.output
    with pytest.raises(OutboxError) as still:
        outbox.retry(row.id)
    assert still.value.code == "still_unaddressed"

    # A contact is added; the retry writes the notice for it, and it arrives once.
    with smtp_server() as (mailbox, port):
        contact = UnitContacts(engine).add(
            "lonely", ContactRole.CONTACT, Channel.EMAIL, f"{case_id[:8]}@lonely.example"
        )
        assert outbox.retry(row.id).status is OutboxStatus.CANCELLED
        drain(_dispatcher(engine, smtp_config(port)), outbox)
    assert [str(m["To"]) for m in mailbox.messages] == [contact.address]
    assert "2 working days" not in mailbox.messages[0].get_content()  # Chinese by default
    assert "还有 2 个工作日" in mailbox.messages[0].get_content()
    counts = outbox.counts(case_id)
    assert (counts[OutboxStatus.SENT], counts[OutboxStatus.UNADDRESSED]) == (1, 0)


def test_the_list_is_newest_first_and_pages_with_before(
    engine: Engine, database_url: str, units: None
) -> None:
    outbox = Outbox(engine)
    case = uuid.uuid4().hex
    outbox.enqueue([notification(case, f"k{n}", f"p{n}@x.example") for n in range(5)])
    ids = [r.id for r in outbox.rows(case_id=case)]
    first = outbox.page(case_id=case, limit=2)
    assert [r.id for r in first] == ids[::-1][:2]
    second = outbox.page(case_id=case, limit=2, before=first[-1].id)
    assert [r.id for r in second] == ids[::-1][2:4]
    env = {"DATABASE_URL": database_url, "ZHENGGAI_LANGUAGE": "en"}
    shown = CliRunner().invoke(notifications_app, ["list", "--case", case, "--limit", "2"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "p4@x.example" in shown.output
    assert "p0@x.example" not in shown.output
    assert f"--before {first[-1].id}" in shown.output
    older = CliRunner().invoke(
        notifications_app,
        ["list", "--case", case, "--limit", "2", "--before", str(first[-1].id)],
        env=env,
    )
    assert "p2@x.example" in older.output
    assert "p4@x.example" not in older.output


def test_the_cli_checks_updates_and_removes_contacts(
    engine: Engine, database_url: str, units: None
) -> None:
    env = {"DATABASE_URL": database_url, "ZHENGGAI_LANGUAGE": "en"}
    run = CliRunner().invoke
    base = ["contact", "add", "--unit", "county-env", "--role", "listed"]
    no_secret = run(
        notifications_app,
        [*base, "--channel", "webhook", "--address", "https://example.cn/h"],
        env=env,
    )
    assert no_secret.exit_code == 2
    assert "secret" in no_secret.output
    tag = uuid.uuid4().hex[:8]
    added = run(
        notifications_app, [*base, "--channel", "email", "--address", f"{tag}@x.example"], env=env
    )
    assert added.exit_code == 0, added.output
    (contact,) = [c for c in UnitContacts(engine).contacts("county-env") if tag in c.address]
    updated = run(
        notifications_app,
        ["contact", "update", str(contact.contact_id), "--address", f"{tag}@y.example", "--digest"],
        env=env,
    )
    assert updated.exit_code == 0, updated.output
    fixed = UnitContacts(engine).get(contact.contact_id)
    assert fixed is not None
    assert (fixed.address, fixed.digest) == (f"{tag}@y.example", True)
    Outbox(engine).enqueue(
        [notification(uuid.uuid4().hex, tag, fixed.address, contact_id=contact.contact_id)]
    )
    refused = run(notifications_app, ["contact", "remove", str(contact.contact_id)], env=env)
    assert refused.exit_code == 2
    assert "--cancel-queued" in refused.output
    removed = run(
        notifications_app,
        ["contact", "remove", str(contact.contact_id), "--cancel-queued"],
        env=env,
    )
    assert removed.exit_code == 0, removed.output


def test_a_transfer_notice_names_the_unit_the_case_came_from(engine: Engine, units: None) -> None:
    case_id, stream = _case_stream(engine, "lonely")
    notice = NotificationRequest(
        idempotency_key=str(uuid.uuid4()),
        case_id=case_id,
        workflow_id=stream,
        kind=NotificationKind.REASSIGNED,
        recipients=(Recipient(audience=Audience.RESPONSIBLE, unit_id="lonely"),),
        occurred_at=datetime.now(UTC),
        unit_id="lonely",
        detail={"previous_unit_id": "county-env", "reason": "职责调整"},
    )
    OutboxNotificationSink(EventStore(engine)).send(notice)
    (row,) = Outbox(engine).rows(case_id=case_id)
    assert row.payload["previous_unit_name"] == "某县生态环境局"
    assert row.payload["detail"]["previous_unit_id"] == "county-env"
