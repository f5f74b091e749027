"""The activity that hands a case's notices to a sink.

The real sink (``OutboxNotificationSink``) resolves who receives the notice from
the case's unit and writes one outbox row per channel and address; the
dispatcher (``activities.outbox_dispatcher``) delivers them. The workflow makes the
idempotency key from the causing event's id, and each row's key adds the channel
and the address, so a retried activity writes nothing twice.

The facts written (working days left, light, deadline, level, the unit) are the
ones the workflow computed when the event happened, on the case's own policy;
only names (title, unit name) are looked up here. A recipient with no contact
becomes an ``unaddressed`` row, never a silent drop: the activity's result says
``unaddressed``, not that anything was sent (it never sends: it queues).
"""

from __future__ import annotations

from typing import Any, Protocol

import structlog
from temporalio import activity

from activities.models import Audience, NotificationRequest, NotificationResult, Recipient
from activities.outbox_dispatcher.case_status import case_now
from activities.outbox_dispatcher.messages import light_for
from store.directory import Directory
from store.event_store import EventStore
from store.outbox import Contact, ContactRole, NewNotification, Outbox, UnitContacts

__all__ = [
    "LogNotificationSink",
    "NotificationActivities",
    "NotificationSink",
    "OutboxNotificationSink",
]

log = structlog.get_logger(__name__)


class NotificationSink(Protocol):
    def send(self, notice: NotificationRequest) -> bool | NotificationResult:
        """Hand the notice on; False (or a result saying so) when nothing new was written."""
        ...


class LogNotificationSink:
    """Writes each notice to the log and delivers nothing (the no-op default)."""

    def send(self, notice: NotificationRequest) -> NotificationResult:
        log.info(
            "notification_logged_only",
            idempotency_key=notice.idempotency_key,
            case_id=notice.case_id,
            kind=notice.kind.value,
            recipients=[r.audience.value for r in notice.recipients],
            level=notice.level,
        )
        return NotificationResult(idempotency_key=notice.idempotency_key, outcome="logged_only")


# The workflow says which circle hears a notice (workflows/notices.py); each unit says
# who that circle is (unit_contacts).
_ROLE_OF = {
    Audience.RESPONSIBLE: ContactRole.CONTACT,
    Audience.UNIT_LEADERSHIP: ContactRole.LEADER,
    Audience.SUPERVISOR: ContactRole.SUPERVISING,
    Audience.LEADERSHIP: ContactRole.LISTED,
}


class OutboxNotificationSink:
    """Writes the notice into the outbox, one row per channel and address."""

    def __init__(self, store: EventStore, outbox: Outbox | None = None) -> None:
        self._store = store
        self._outbox = outbox or Outbox(store.engine)
        self._contacts = UnitContacts(store.engine)
        self._directory = Directory(store.engine)

    def send(self, notice: NotificationRequest) -> NotificationResult:
        case = case_now(self._store, notice.workflow_id, notice.idempotency_key)
        if case.state is None:
            log.warning("notification_without_case", stream_id=notice.workflow_id)
            return NotificationResult(idempotency_key=notice.idempotency_key, outcome="no_case")
        unit_id = notice.unit_id or case.state.unit_id
        unit = self._directory.unit(unit_id)
        overdue = notice.working_days_overdue
        if overdue is None:
            overdue = case.cause.get("working_days_overdue")
        payload: dict[str, Any] = {
            "case_id": notice.case_id,
            "title": case.state.title,
            "unit_id": unit_id,
            "unit_name": unit.name if unit else unit_id,
            "cadre_id": case.state.cadre_id,
            "kind": notice.kind.value,
            "level": notice.level,
            "light": notice.light or light_for(notice.kind.value),
            "deadline": None if notice.deadline is None else notice.deadline.isoformat(),
            "deadline_provisional": notice.deadline_provisional,
            "milestone_id": notice.milestone_id,
            "occurred_at": notice.occurred_at.isoformat(),
            # Said as of the event; an old workflow's notice (without the facts) falls
            # back to the event's own figure.
            "working_days_left": notice.working_days_left,
            "working_days_before": notice.working_days_left
            if notice.working_days_left is not None
            else case.cause.get("working_days_before"),
            "working_days_overdue": overdue,
            **({"detail": notice.detail} if notice.detail else {}),
        }
        previous_id = (notice.detail or {}).get("previous_unit_id")
        if previous_id:  # a transfer's notice names the unit it came from
            previous = self._directory.unit(previous_id)
            payload["previous_unit_name"] = previous.name if previous else previous_id
        rows: dict[str, NewNotification] = {}
        missing = 0
        for recipient in notice.recipients:
            contacts = self._resolve(recipient, unit_id)
            for contact in contacts:
                row = NewNotification(
                    notice_key=notice.idempotency_key,
                    case_id=notice.case_id,
                    stream_id=notice.workflow_id,
                    kind=notice.kind.value,
                    level=notice.level,
                    channel=contact.channel,
                    recipient=contact.address,
                    payload={**payload, "audience": recipient.audience.value},
                    contact_id=contact.contact_id,
                    digest=contact.digest,
                )
                rows.setdefault(row.idempotency_key, row)  # one message per address
            if not contacts:
                missing += 1
                role = _ROLE_OF[recipient.audience]
                who = recipient.unit_id or unit_id
                row = NewNotification(
                    notice_key=notice.idempotency_key,
                    case_id=notice.case_id,
                    stream_id=notice.workflow_id,
                    kind=notice.kind.value,
                    level=notice.level,
                    channel=None,
                    recipient=f"{who}/{role.value}",
                    payload={
                        **payload,
                        "audience": recipient.audience.value,
                        "contact_unit": who,
                        "contact_role": role.value,
                    },
                )
                rows.setdefault(row.idempotency_key, row)
                log.warning(
                    "notification_unaddressed",
                    case_id=notice.case_id,
                    unit_id=who,
                    role=role.value,
                    kind=notice.kind.value,
                )
        added = self._outbox.enqueue(list(rows.values()))
        log.info("notification_queued", case_id=notice.case_id, rows=len(rows), new=added)
        outcome = "unaddressed" if missing else ("queued" if added else "already_queued")
        return NotificationResult(
            idempotency_key=notice.idempotency_key, outcome=outcome, rows=added, unaddressed=missing
        )

    def _resolve(self, recipient: Recipient, case_unit: str) -> list[Contact]:
        return self._contacts.resolve(recipient.unit_id or case_unit, _ROLE_OF[recipient.audience])


class NotificationActivities:
    """Built in worker.py with the sink injected; its method is the activity."""

    def __init__(self, sink: NotificationSink) -> None:
        self._sink = sink

    @activity.defn(name="send_notification")
    def send_notification(self, notice: NotificationRequest) -> NotificationResult:
        """Queues the notice (the name is historical: nothing is sent here)."""
        result = self._sink.send(notice)
        if isinstance(result, NotificationResult):
            return result
        return NotificationResult(
            idempotency_key=notice.idempotency_key,
            outcome="queued" if result else "already_queued",
        )
