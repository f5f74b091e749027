"""A contact that chose a daily digest gets one message a day, holding that day's notices."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from sqlalchemy import Engine

from activities.outbox_dispatcher.dispatcher import Dispatcher
from store.directory import Directory
from store.event_store import EventStore
from store.outbox import Channel, ContactRole, Outbox, OutboxStatus, UnitContacts
from tests.integration.notifications.helpers import UNITS, drain, notification, smtp_config
from tests.integration.notifications.receivers import smtp_server

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def units(engine: Engine) -> None:
    Directory(engine).add_units(UNITS)


def test_digest_rows_wait_for_the_hour_then_arrive_as_one_message_a_day(
    engine: Engine, units: None
) -> None:
    outbox = Outbox(engine)
    tag = uuid.uuid4().hex[:8]
    contact = UnitContacts(engine).add(
        "county-env", ContactRole.LEADER, Channel.EMAIL, f"daily-{tag}@x.example", digest=True
    )
    cases = [uuid.uuid4().hex for _ in range(3)]
    outbox.enqueue(
        [
            replace(
                notification(case, f"{tag}-{n}", contact.address, contact_id=contact.contact_id),
                digest=True,
            )
            for n, case in enumerate(cases)
        ]
    )
    with smtp_server() as (mailbox, port):
        before_hour = Dispatcher(
            outbox, EventStore(engine), replace(smtp_config(port), digest_hour=24)
        )
        before_hour.run_once()  # the hour has not come: nothing is claimed on its own
        assert mailbox.messages == []
        assert {r.status for c in cases for r in outbox.rows(case_id=c)} == {OutboxStatus.PENDING}

        at_hour = Dispatcher(outbox, EventStore(engine), replace(smtp_config(port), digest_hour=0))
        drain(at_hour, outbox)
        late = uuid.uuid4().hex
        outbox.enqueue(
            [
                replace(
                    notification(
                        late, f"{tag}-late", contact.address, contact_id=contact.contact_id
                    ),
                    digest=True,
                )
            ]
        )
        at_hour.run_once()  # today's digest went out: the late row waits for tomorrow's
    assert len(mailbox.messages) == 1
    (digest,) = mailbox.messages
    assert "每日汇总" in str(digest["Subject"])
    body = digest.get_content()
    assert all(f"/cases/{case}" in body for case in cases)
    members = [r for c in cases for r in outbox.rows(case_id=c)]
    assert {r.status for r in members} == {OutboxStatus.DIGESTED}
    assert len({r.digest_id for r in members}) == 1
    (waiting,) = outbox.rows(case_id=late)
    assert (waiting.status, waiting.attempts) == (OutboxStatus.PENDING, 0)
