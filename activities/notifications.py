"""The activity that hands a case's notices to a sink (SMS, mail, the platform's inbox …).

Until a real channel exists the sink only logs. The workflow makes the idempotency
key from the causing event's id, so a retried activity hands the same key again
and a real sink delivers it once.
"""

from __future__ import annotations

from typing import Protocol

import structlog
from temporalio import activity

from activities.models import NotificationRequest, NotificationResult

__all__ = ["LogNotificationSink", "NotificationActivities", "NotificationSink"]

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


class NotificationActivities:
    """Built in worker.py with the sink injected; its method is the activity."""

    def __init__(self, sink: NotificationSink) -> None:
        self._sink = sink

    @activity.defn(name="send_notification")
    def send_notification(self, notice: NotificationRequest) -> NotificationResult:
        delivered = self._sink.send(notice)
        return NotificationResult(idempotency_key=notice.idempotency_key, delivered=delivered)
