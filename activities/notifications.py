"""The activity that hands a case's notices to a sink.

The real sink (``OutboxNotificationSink``) resolves who receives the notice from
the case's unit and writes one outbox row per channel and address; the
dispatcher (``activities.delivery``) delivers them. The workflow makes the
idempotency key from the causing event's id, and each row's key adds the channel
and the address, so a retried activity writes nothing twice.
"""

from __future__ import annotations

from typing import Any, Protocol

import structlog
from temporalio import activity

from activities.delivery.case_status import case_now
from activities.delivery.messages import light_for
from activities.models import Audience, NotificationRequest, NotificationResult, Recipient
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
    def send(self, notice: NotificationRequest) -> bool:
        """Deliver the notice; False when its key was already delivered."""
        ...


class LogNotificationSink:
    """Writes each notice to the log and delivers nothing (the no-op default)."""

    def send(self, notice: NotificationRequest) -> bool:
        log.info(
            "notification",
            idempotency_key=notice.idempotency_key,
            case_id=notice.case_id,
            kind=notice.kind.value,
            recipients=[r.audience.value for r in notice.recipients],
            level=notice.level,
        )
        return True


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

    def send(self, notice: NotificationRequest) -> bool:
        case = case_now(self._store, notice.workflow_id, notice.idempotency_key)
        if case.state is None:
            log.warning("notification_without_case", stream_id=notice.workflow_id)
            return False
        unit_id = case.state.unit_id
        unit = self._directory.unit(unit_id)
        payload: dict[str, Any] = {
            "case_id": notice.case_id,
            "title": case.state.title,
            "unit_id": unit_id,
            "unit_name": unit.name if unit else unit_id,
            "cadre_id": case.state.cadre_id,
            "kind": notice.kind.value,
            "level": notice.level,
            "light": light_for(notice.kind.value),
            "deadline": None if notice.deadline is None else notice.deadline.isoformat(),
            "milestone_id": notice.milestone_id,
            "occurred_at": notice.occurred_at.isoformat(),
            "working_days_before": case.cause.get("working_days_before"),
            "working_days_overdue": case.cause.get("working_days_overdue"),
        }
        rows: dict[str, NewNotification] = {}
        for recipient in notice.recipients:
            for contact in self._resolve(recipient, unit_id):
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
                )
                rows.setdefault(row.idempotency_key, row)  # one message per address
        if not rows:
            # Visible in the log; nobody to write to until the unit's contacts are set.
            log.warning(
                "notification_unaddressed",
                case_id=notice.case_id,
                unit_id=unit_id,
                kind=notice.kind.value,
                audiences=[r.audience.value for r in notice.recipients],
            )
            return False
        added = self._outbox.enqueue(list(rows.values()))
        log.info("notification_queued", case_id=notice.case_id, rows=len(rows), new=added)
        return added > 0

    def _resolve(self, recipient: Recipient, case_unit: str) -> list[Contact]:
        return self._contacts.resolve(recipient.unit_id or case_unit, _ROLE_OF[recipient.audience])


class NotificationActivities:
    """Built in worker.py with the sink injected; its method is the activity."""

    def __init__(self, sink: NotificationSink) -> None:
        self._sink = sink

    @activity.defn(name="send_notification")
    def send_notification(self, notice: NotificationRequest) -> NotificationResult:
        delivered = self._sink.send(notice)
        return NotificationResult(idempotency_key=notice.idempotency_key, delivered=delivered)
