"""The dispatcher: claims due outbox rows, delivers them, records each attempt.

Runs in the worker process or as ``zhenggai dispatcher``; several may run at once
(claims skip each other's rows). A failure leaves the row pending with its error
and a later ``next_attempt_at`` (exponential backoff with jitter) until the cap of
attempts makes it dead; a case closed or withdrawn before delivery cancels its
time-bound rows (reminders, warnings, escalations: no longer true), not the ones
telling what a person did (a verification, a rejection). An email is recorded as
sent the moment the server accepts its DATA (see ``smtp``). Once a day, from
``digest_hour`` (local time), the rows of contacts that chose a digest are
gathered into one row each and delivered like any other. Nothing here can fail a
case workflow: the activity only wrote the rows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog

from activities.outbox_dispatcher.case_status import case_now
from activities.outbox_dispatcher.config import DeliveryConfig
from activities.outbox_dispatcher.errors import DeliveryFailed
from activities.outbox_dispatcher.messages import Message, render, render_digest
from activities.outbox_dispatcher.smtp import SmtpSender
from activities.outbox_dispatcher.webhook import WebhookSender
from store.event_store import EventStore
from store.outbox import Channel, Outbox, OutboxRow

__all__ = ["ChannelSender", "Dispatcher", "PassResult"]

log = structlog.get_logger(__name__)

# Notices that are about the clock: a closed or withdrawn case makes them untrue.
TIME_BOUND_KINDS = frozenset(
    {
        "reminder",
        "warning",
        "milestone_due",
        "milestone_behind",
        "overdue",
        "escalation",
        "decision_reminder",
    }
)


class ChannelSender(Protocol):
    def deliver(self, row: OutboxRow, message: Message) -> None:
        """Deliver or raise (``DeliveryFailed`` for an expected failure)."""
        ...


@dataclass
class PassResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    cancelled: int = 0
    digests: int = 0


class Dispatcher:
    def __init__(
        self,
        outbox: Outbox,
        store: EventStore,
        config: DeliveryConfig,
        *,
        senders: Mapping[Channel, ChannelSender] | None = None,
    ) -> None:
        self.outbox = outbox
        self._store = store
        self._config = config
        self._webhooks: WebhookSender | None = None
        if senders is None:
            self._webhooks = WebhookSender(
                timeout=config.http_timeout, default_secret=config.webhook_secret
            )
            email = SmtpSender(config.smtp, on_accepted=self.outbox.mark_sent)
            senders = {
                Channel.EMAIL: email,
                Channel.WEBHOOK: self._webhooks,
                Channel.DINGTALK: self._webhooks,
                Channel.WECOM: self._webhooks,
            }
        self._senders = dict(senders)

    def close(self) -> None:
        if self._webhooks is not None:
            self._webhooks.close()

    def run_once(self) -> PassResult:
        """One claim and its deliveries (blocking: call it in a thread from async code)."""
        result = PassResult()
        result.digests = len(self._gather_digests())
        rows = self.outbox.claim(self._config.batch_size, self._config.lease_seconds)
        result.claimed = len(rows)
        for row in rows:
            outcome = self._deliver(row)
            setattr(result, outcome, getattr(result, outcome) + 1)
        return result

    def _gather_digests(self, now: datetime | None = None) -> list[int]:
        """Today's digests, once the local hour has come (at most one a contact a day)."""
        local = (now or datetime.now(UTC)) + timedelta(hours=self._config.utc_offset_hours)
        if local.hour < self._config.digest_hour:
            return []
        made = self.outbox.gather_digests(local.date())
        if made:
            log.info("notification_digests_gathered", rows=made)
        return made

    def _deliver(self, row: OutboxRow) -> str:
        assert row.channel is not None  # only pending rows are claimed; those have one
        bound = log.bind(notification_id=row.id, case_id=row.case_id, channel=row.channel.value)
        language, base = self._config.language, self._config.public_base_url
        if row.kind == "digest":
            message = render_digest(row.payload, language, base)
        else:
            if row.kind in TIME_BOUND_KINDS:
                case = case_now(self._store, row.stream_id)
                if case.finished:
                    assert case.state is not None
                    self.outbox.cancel(row, f"case {case.state.status.value} before delivery")
                    bound.info("notification_cancelled", status=case.state.status.value)
                    return "cancelled"
            facts = {**row.payload, "kind": row.kind, "level": row.level, "case_id": row.case_id}
            message = render(facts, language, base)
        try:
            self._senders[row.channel].deliver(row, message)
        except Exception as exc:  # every failure is retried: the receiver may come back
            error = str(exc) if isinstance(exc, DeliveryFailed) else f"{type(exc).__name__}: {exc}"
            error = " ".join(error.split())[:1000]
            delay = self._config.retry.delay(row.attempts + 1)
            outcome = self.outbox.mark_failed(
                row, error, delay=delay, max_attempts=self._config.retry.max_attempts
            )
            bound.warning(
                "notification_failed", attempt=row.attempts + 1, error=error, outcome=outcome
            )
            return outcome
        self.outbox.mark_sent(row)  # False when the sender already recorded it (SMTP 250)
        bound.info("notification_sent", attempt=row.attempts + 1)
        return "sent"

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set: a pass, then (if it found nothing) a pause."""
        while not stop.is_set():
            try:
                result = await asyncio.to_thread(self.run_once)
            except Exception:  # the database may blink; the next pass tries again
                log.exception("dispatcher_pass_failed")
                result = PassResult()
            if result.claimed == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._config.poll_seconds)
