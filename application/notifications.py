"""The notification outbox for admins: what is dead, unaddressed or waiting, and a retry.

Newest first; the next page is ``before=<the last id>``. ``unaddressed`` rows are
notices whose recipient had no contact: nothing was sent, and a retry (after a
contact was added) addresses them to the contacts the unit has now.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from pydantic import BaseModel

from application.access import ensure_role
from application.caller import Caller
from application.errors import Refusal
from application.services import Services
from domain.vocabulary import Role
from store.outbox import OutboxError, OutboxRow, OutboxStatus

__all__ = ["NotificationOut", "notification_page", "retry_notification"]


class NotificationOut(BaseModel):
    id: int
    case_id: str
    kind: str
    level: int | None
    channel: str | None  # None: unaddressed
    recipient: str  # robot URLs without their access token; "<unit>/<role>" if unaddressed
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def _out(row: OutboxRow) -> NotificationOut:
    return NotificationOut(
        id=row.id,
        case_id=row.case_id,
        kind=row.kind,
        level=row.level,
        channel=None if row.channel is None else row.channel.value,
        recipient=row.shown_recipient,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


async def notification_page(
    services: Services,
    caller: Caller,
    status: OutboxStatus | None,
    case_id: str | None,
    limit: int,
    before: int | None,
) -> list[NotificationOut]:
    ensure_role(caller.actor, Role.ADMIN)
    rows = await asyncio.to_thread(
        services.outbox.page, status=status, case_id=case_id, limit=limit, before=before
    )
    return [_out(r) for r in rows]


async def retry_notification(
    services: Services, caller: Caller, notification_id: int
) -> NotificationOut:
    ensure_role(caller.actor, Role.ADMIN)
    try:
        row = await asyncio.to_thread(services.outbox.retry, notification_id)
    except OutboxError as exc:
        if exc.code == "not_found":
            raise Refusal(
                404,
                "notification_not_found",
                f"通知 {notification_id} 不存在",
                f"no notification {notification_id}",
            ) from exc
        if exc.code == "still_unaddressed":
            raise Refusal(
                409,
                "notification_still_unaddressed",
                f"通知 {notification_id} 的单位仍没有接收方",
                f"notification {notification_id}: its unit still has no contact",
            ) from exc
        raise Refusal(
            409,
            "notification_not_retryable",
            f"通知 {notification_id} 已发送或已取消，不能重试",
            f"notification {notification_id} is sent or cancelled; only dead or pending ones"
            " can be retried",
        ) from exc
    return _out(row)
