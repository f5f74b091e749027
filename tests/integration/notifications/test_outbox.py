"""The outbox on real PostgreSQL: idempotent rows, claims in order per case, retries, dead rows."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine

from activities.outbox_dispatcher.config import DeliveryConfig, RetryPolicy
from activities.outbox_dispatcher.dispatcher import Dispatcher
from activities.outbox_dispatcher.errors import DeliveryFailed
from activities.outbox_dispatcher.messages import Message
from store.event_store import EventStore
from store.outbox import (
    Channel,
    ContactError,
    ContactRole,
    Outbox,
    OutboxError,
    OutboxRow,
    OutboxStatus,
    UnitContacts,
)
from tests.integration.notifications.helpers import (
    MAILS,
    add_units_and_mail_contacts,
    notification,
    smtp_config,
)
from tests.integration.notifications.receivers import free_port

pytestmark = pytest.mark.integration


class ScriptedSender:
    """Fails while ``down`` is set; records what it delivered."""

    def __init__(self) -> None:
        self.down = False
        self.delivered: list[OutboxRow] = []

    def deliver(self, row: OutboxRow, message: Message) -> None:
        if self.down:
            raise DeliveryFailed("receiver down")
        self.delivered.append(row)


@pytest.fixture(scope="module")
def units(engine: Engine) -> None:
    add_units_and_mail_contacts(engine)


def _dispatcher(engine: Engine, sender: ScriptedSender, max_attempts: int = 3) -> Dispatcher:
    config = DeliveryConfig(retry=RetryPolicy(max_attempts, backoff_base=0.01, backoff_cap=0.02))
    senders = dict.fromkeys(Channel, sender)
    return Dispatcher(Outbox(engine), EventStore(engine), config, senders=senders)


def test_the_same_notice_for_the_same_recipient_is_written_once(engine: Engine) -> None:
    outbox = Outbox(engine)
    case = uuid.uuid4().hex
    row = notification(case, str(uuid.uuid4()), "a@example.cn")
    assert outbox.enqueue([row]) == 1
    assert outbox.enqueue([row, row]) == 0
    assert len(outbox.rows(case_id=case)) == 1


def test_a_later_row_of_a_case_waits_while_an_earlier_one_is_pending(engine: Engine) -> None:
    outbox = Outbox(engine)
    case = uuid.uuid4().hex
    first, second = (notification(case, str(uuid.uuid4()), "w@example.cn") for _ in range(2))
    other = notification(case, str(uuid.uuid4()), "someone-else@example.cn")
    outbox.enqueue([first, second, other])
    claimed = [r for r in outbox.claim(limit=50) if r.case_id == case]
    assert [r.idempotency_key for r in claimed] == [first.idempotency_key, other.idempotency_key]
    # Neither the claimed row (leased) nor the one behind it is claimable now.
    assert [r for r in outbox.claim(limit=50) if r.case_id == case] == []
    assert outbox.mark_sent(claimed[0])
    assert [r.idempotency_key for r in outbox.claim(limit=50) if r.case_id == case] == [
        second.idempotency_key
    ]


def test_a_receiver_down_for_a_while_gets_each_message_once_in_order(engine: Engine) -> None:
    outbox = Outbox(engine)
    sender = ScriptedSender()
    dispatcher = _dispatcher(engine, sender, max_attempts=50)
    case = uuid.uuid4().hex
    rows = [notification(case, str(uuid.uuid4()), "down@example.cn") for _ in range(3)]
    outbox.enqueue(rows)
    sender.down = True
    for _ in range(5):
        dispatcher.run_once()
    first = outbox.rows(case_id=case)[0]
    assert first.status is OutboxStatus.PENDING
    assert first.attempts >= 1
    assert first.last_error == "receiver down"
    assert all(r.attempts == 0 for r in outbox.rows(case_id=case)[1:])  # waiting their turn
    sender.down = False
    for _ in range(200):
        dispatcher.run_once()
        if all(r.status is OutboxStatus.SENT for r in outbox.rows(case_id=case)):
            break
    assert [r.idempotency_key for r in sender.delivered if r.case_id == case] == [
        r.idempotency_key for r in rows
    ]
    attempts = outbox.attempts(first.id)
    assert [a[1] for a in attempts][-1] == "sent"
    assert all(a[1] == "failed" for a in attempts[:-1])


def test_after_the_last_attempt_the_row_is_dead_and_can_be_retried_by_hand(
    engine: Engine,
) -> None:
    outbox = Outbox(engine)
    sender = ScriptedSender()
    sender.down = True
    dispatcher = _dispatcher(engine, sender, max_attempts=2)
    case = uuid.uuid4().hex
    outbox.enqueue([notification(case, str(uuid.uuid4()), "dead@example.cn")])
    for _ in range(200):
        dispatcher.run_once()
        if outbox.rows(case_id=case)[0].status is OutboxStatus.DEAD:
            break
    (row,) = outbox.rows(case_id=case)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.DEAD, 2, "receiver down")
    assert row.id in {r.id for r in outbox.rows(status=OutboxStatus.DEAD)}
    sender.down = False
    retried = outbox.retry(row.id)
    assert (retried.status, retried.attempts) == (OutboxStatus.PENDING, 0)
    for _ in range(50):
        dispatcher.run_once()
        if outbox.get(row.id).status is OutboxStatus.SENT:  # type: ignore[union-attr]
            break
    assert [r.id for r in sender.delivered] == [row.id]
    with pytest.raises(OutboxError) as sent:
        outbox.retry(row.id)
    assert sent.value.code == "not_retryable"
    with pytest.raises(OutboxError) as unknown:
        outbox.retry(10**9)
    assert unknown.value.code == "not_found"


def test_supervising_and_listed_recipients_are_inherited_from_the_nearest_unit_up(
    engine: Engine, units: None
) -> None:
    contacts = UnitContacts(engine)
    found = {
        role: [c.address for c in contacts.resolve("county-env", role)] for role in ContactRole
    }
    assert found == {role: [address] for role, (_, address) in MAILS.items()}
    assert (
        contacts.resolve("city", ContactRole.CONTACT) == []
    )  # a unit's own contact is not inherited
    with pytest.raises(ContactError) as exists:
        contacts.add(
            "city", ContactRole.SUPERVISING, Channel.EMAIL, MAILS[ContactRole.SUPERVISING][1]
        )
    assert exists.value.code == "contact_exists"
    with pytest.raises(ContactError) as missing:
        contacts.add("nowhere", ContactRole.CONTACT, Channel.EMAIL, "x@example.cn")
    assert missing.value.code == "unit_not_found"


def test_an_unreachable_mail_server_leaves_the_row_pending_with_the_error(
    engine: Engine,
) -> None:
    outbox = Outbox(engine)
    case = uuid.uuid4().hex
    outbox.enqueue([notification(case, str(uuid.uuid4()), "nobody-home@example.cn")])
    config = smtp_config(free_port())  # nothing listens there
    dispatcher = Dispatcher(outbox, EventStore(engine), config)
    for _ in range(3):
        dispatcher.run_once()
        if outbox.rows(case_id=case)[0].attempts:
            break
    (row,) = outbox.rows(case_id=case)
    assert row.status is OutboxStatus.PENDING
    assert row.attempts == 1
    assert "ConnectionRefusedError" in (row.last_error or "")
    assert outbox.attempts(row.id)[0][1:3] == ("failed", row.last_error)
