"""Email exactly once where SMTP allows it, against a real aiosmtpd server on loopback.

- accepted DATA (250) is never resent, even when QUIT then times out;
- an answer to DATA that comes after the client's timeout is ambiguous: the
  message is resent with the same Message-ID (the server stored two copies of
  one message, which mail clients fold);
- the Message-ID is the same on every try and differs per recipient.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from activities.outbox_dispatcher.config import DeliveryConfig, RetryPolicy, SmtpConfig
from activities.outbox_dispatcher.dispatcher import Dispatcher
from store.directory import Directory
from store.event_store import EventStore
from store.outbox import Outbox, OutboxStatus
from tests.integration.notifications.helpers import UNITS, drain, notification
from tests.integration.notifications.receivers import free_port

pytestmark = pytest.mark.integration

CLIENT_TIMEOUT = 1.0


class SlowMailbox:
    """Stores every DATA at once; answers the first ``late_data`` DATAs only after the
    client gave up, and (``hang_quit``) never answers QUIT in time."""

    def __init__(self, *, late_data: int = 0, hang_quit: bool = False) -> None:
        self.late_data = late_data
        self.hang_quit = hang_quit
        self.messages: list[EmailMessage] = []
        self.quits = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(parsed)
            late = self.late_data > 0
            self.late_data -= 1
        if late:
            await asyncio.sleep(CLIENT_TIMEOUT * 2.5)  # stored, but answered too late
        return "250 OK queued"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.quits += 1
        if self.hang_quit:
            await asyncio.sleep(CLIENT_TIMEOUT * 2.5)
        return "221 Bye"

    def ids(self) -> list[str]:
        with self._lock:
            return [str(m["Message-ID"]).strip() for m in self.messages]


@contextmanager
def slow_server(mailbox: SlowMailbox) -> Iterator[int]:
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _dispatcher(engine: Engine, port: int) -> Dispatcher:
    config = DeliveryConfig(
        smtp=SmtpConfig(
            host="127.0.0.1",
            port=port,
            security="none",
            sender="zhenggai@example.gov.cn",
            timeout=CLIENT_TIMEOUT,
        ),
        retry=RetryPolicy(max_attempts=5, backoff_base=0.01, backoff_cap=0.05),
    )
    return Dispatcher(Outbox(engine), EventStore(engine), config)


@pytest.fixture(scope="module")
def units(engine: Engine) -> None:
    Directory(engine).add_units(UNITS)


def test_accepted_data_is_never_resent_even_when_quit_then_times_out(
    engine: Engine, units: None
) -> None:
    mailbox = SlowMailbox(hang_quit=True)
    outbox = Outbox(engine)
    case = uuid.uuid4().hex
    outbox.enqueue([notification(case, str(uuid.uuid4()), "contact@county.example")])
    with slow_server(mailbox) as port:
        dispatcher = _dispatcher(engine, port)
        drain(dispatcher, outbox)
        for _ in range(3):  # more passes find nothing to send
            dispatcher.run_once()
    (row,) = outbox.rows(case_id=case)
    assert row.status is OutboxStatus.SENT
    assert row.attempts == 1
    assert [outcome for _, outcome, _, _ in outbox.attempts(row.id)] == ["sent"]
    assert len(mailbox.messages) == 1  # exactly one copy arrived
    assert mailbox.quits == 1


def test_a_late_answer_to_data_is_retried_with_the_same_message_id(
    engine: Engine, units: None
) -> None:
    mailbox = SlowMailbox(late_data=1)
    outbox = Outbox(engine)
    case = uuid.uuid4().hex
    outbox.enqueue([notification(case, str(uuid.uuid4()), "contact@county.example")])
    with slow_server(mailbox) as port:
        drain(_dispatcher(engine, port), outbox)
    (row,) = outbox.rows(case_id=case)
    assert row.status is OutboxStatus.SENT
    assert row.attempts == 2  # the first try timed out waiting for the 250
    attempts = outbox.attempts(row.id)
    assert [outcome for _, outcome, _, _ in attempts] == ["failed", "sent"]
    # The server stored both tries; they are one message to a mail client.
    assert len(mailbox.messages) == 2
    assert len(set(mailbox.ids())) == 1
    assert mailbox.ids()[0].startswith("<zhenggai.")
    assert mailbox.ids()[0].endswith("@example.gov.cn>")


def test_each_recipient_gets_its_own_stable_message_id(engine: Engine, units: None) -> None:
    mailbox = SlowMailbox()
    outbox = Outbox(engine)
    case = uuid.uuid4().hex
    key = str(uuid.uuid4())
    outbox.enqueue(
        [
            notification(case, key, "contact@county.example"),
            notification(case, key, "leader@county.example"),
        ]
    )
    with slow_server(mailbox) as port:
        drain(_dispatcher(engine, port), outbox)
    assert len(mailbox.messages) == 2
    assert len(set(mailbox.ids())) == 2
    rows = outbox.rows(case_id=case)
    by_to = {str(m["To"]): str(m["Message-ID"]).strip() for m in mailbox.messages}
    for row in rows:
        assert by_to[row.recipient] == f"<zhenggai.{row.delivery_id}@example.gov.cn>"
