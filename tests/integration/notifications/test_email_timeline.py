"""A time-skipped overdue case, its notices through the outbox to a real SMTP server.

The activity is made to fail after writing its rows, so every notice is written
twice; the SMTP server still receives exactly one email per notice and address.
A wrong password first leaves the rows pending with the error, and the case's
workflow goes on regardless.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from activities.outbox_dispatcher.dispatcher import Dispatcher
from domain.commands import WithdrawCase
from domain.vocabulary import CaseStatus
from store.event_store import EventStore
from store.outbox import Outbox, OutboxStatus
from tests.integration.notifications.helpers import (
    MAILS,
    add_units_and_mail_contacts,
    drain,
    smtp_config,
)
from tests.integration.notifications.receivers import key_of, smtp_server
from tests.integration.notifications.timeline import outbox_timeline
from tests.workflows.harness import SUPERVISOR
from workflows.case_workflow import RectificationCaseWorkflow as Case

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONTACT, LEADER, SUPERVISING, LISTED = (address for _, address in MAILS.values())

# Day 41 of an 11-day deadline: 3 reminders, the warning, overdue, levels 1–4.
EXPECTED_PER_ADDRESS = {
    CONTACT: 9,  # every notice reaches the unit
    LEADER: 4,  # levels 1–4
    SUPERVISING: 3,  # levels 2–4
    LISTED: 2,  # levels 3–4
}


@pytest.fixture(scope="module")
def units(engine: Engine) -> None:
    add_units_and_mail_contacts(engine)


async def _rows_written(outbox: Outbox, case_id: str, count: int) -> None:
    """The activity (and its retry) may still run after the clock moved on."""
    for _ in range(1200):
        if len(outbox.rows(case_id=case_id)) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{len(outbox.rows(case_id=case_id))} rows, expected {count}")


async def test_each_reminder_and_escalation_reaches_each_address_by_exactly_one_email(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore, engine: Engine, units: None
) -> None:
    outbox = Outbox(engine)
    total = sum(EXPECTED_PER_ADDRESS.values())
    with smtp_server() as (mailbox, port):
        async with outbox_timeline(time_skipping_env, event_store, deadline_offset=11) as (
            case,
            sink,
        ):
            case_id = (await case.overview()).state.case_id  # type: ignore[union-attr]
            await case.advance_to(12)  # reminders, warning, overdue
            await _rows_written(outbox, case_id, 3 + 1 + 1)  # to the unit only

            wrong = Dispatcher(outbox, event_store, smtp_config(port, password="wrong"))
            await asyncio.to_thread(wrong.run_once)
            failed = [r for r in outbox.rows(case_id=case_id) if r.attempts]
            assert failed
            assert all(r.status is OutboxStatus.PENDING for r in failed)
            assert all("535" in (r.last_error or "") for r in failed)
            assert mailbox.messages == []

            await case.advance_to(41)  # the workflow went on: levels 1–4
            await _rows_written(outbox, case_id, total)
            assert (await case.overview()).state.escalation_level == 4  # type: ignore[union-attr]

            right = Dispatcher(outbox, event_store, smtp_config(port))
            await asyncio.to_thread(drain, right, outbox)

    rows = outbox.rows(case_id=case_id)
    assert len(rows) == total
    assert all(r.status is OutboxStatus.SENT for r in rows)
    assert sink.calls == 2 * len(sink.notices)  # every notice's activity ran twice
    keys = mailbox.keys()
    assert sorted(keys) == sorted(r.idempotency_key for r in rows)  # one email per row
    assert Counter(str(m["To"]) for m in mailbox.messages) == EXPECTED_PER_ADDRESS
    for address in EXPECTED_PER_ADDRESS:  # in the order the case said them
        received = [key_of(m) for m in mailbox.messages if m["To"] == address]
        assert received == [r.idempotency_key for r in rows if r.recipient == address]
    level_3 = next(
        m for m in mailbox.messages if m["To"] == LISTED and "挂牌督办" in str(m["Subject"])
    )
    body = level_3.get_content()
    assert "某县生态环境局" in body
    assert "河道非法采砂整治不到位" in body
    assert "红灯" in body
    assert f"/cases/{case_id}" in body


async def test_nothing_is_sent_for_a_case_withdrawn_before_delivery(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore, engine: Engine, units: None
) -> None:
    outbox = Outbox(engine)
    with smtp_server() as (mailbox, port):
        async with outbox_timeline(time_skipping_env, event_store, deadline_offset=11) as (
            case,
            _sink,
        ):
            case_id = (await case.overview()).state.case_id  # type: ignore[union-attr]
            await case.advance_to(5)  # the 5-day reminder and the warning, to the unit
            await _rows_written(outbox, case_id, 2)
            state = await case.send(
                Case.withdraw_case, WithdrawCase(actor=SUPERVISOR, reason="经核实问题不存在")
            )
            assert state.status is CaseStatus.WITHDRAWN
            dispatcher = Dispatcher(outbox, event_store, smtp_config(port))
            await asyncio.to_thread(drain, dispatcher, outbox)
    rows = outbox.rows(case_id=case_id)
    assert {r.status for r in rows} == {OutboxStatus.CANCELLED}
    assert all(r.attempts == 0 for r in rows)
    assert mailbox.messages == []
