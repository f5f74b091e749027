"""The notification outbox for admins: what is dead, unaddressed or waiting, and a retry.

Newest first; the next page is ``?before=<the last id>``. ``unaddressed`` rows are
notices whose recipient had no contact: nothing was sent, and a retry (after a
contact was added) addresses them to the contacts the unit has now.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel

from api.auth import require_roles
from api.models import ID_PATTERN
from api.problems import Problem
from domain.vocabulary import Actor, Role
from store.outbox import Outbox, OutboxError, OutboxRow, OutboxStatus

__all__ = ["NotificationOut", "router"]

router = APIRouter(tags=["notifications"])
Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token"},
    403: {"description": "Only admins see the outbox"},
}


def _outbox(request: Request) -> Outbox:
    """The app's outbox on the store's engine, made on first use."""
    outbox: Outbox | None = getattr(request.app.state, "outbox", None)
    if outbox is None:
        outbox = Outbox(request.app.state.store.engine)
        request.app.state.outbox = outbox
    return outbox


Notifications = Annotated[Outbox, Depends(_outbox)]


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


@router.get(
    "/notifications",
    response_model=list[NotificationOut],
    summary="Notifications in the outbox, newest first (e.g. ?status=dead, ?status=unaddressed)",
    responses=_ERRORS,
)
async def list_notifications(
    outbox: Notifications,
    admin: Admin,
    status: Annotated[
        OutboxStatus | None,
        Query(description="pending|sent|dead|cancelled|unaddressed|digested"),
    ] = None,
    case_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Only rows older than this id")
    ] = None,
) -> list[NotificationOut]:
    rows = await asyncio.to_thread(
        outbox.page, status=status, case_id=case_id, limit=limit, before=before
    )
    return [_out(r) for r in rows]


@router.post(
    "/notifications/{notification_id}/retry",
    response_model=NotificationOut,
    summary="Retry a dead notification now (its contact re-read), or address an unaddressed one",
    responses={
        **_ERRORS,
        404: {"description": "No such notification"},
        409: {"description": "Already sent or cancelled"},
    },
)
async def retry_notification(
    outbox: Notifications,
    admin: Admin,
    notification_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> NotificationOut:
    try:
        row = await asyncio.to_thread(outbox.retry, notification_id)
    except OutboxError as exc:
        if exc.code == "not_found":
            raise Problem(
                404,
                "notification_not_found",
                f"通知 {notification_id} 不存在",
                f"no notification {notification_id}",
            ) from exc
        if exc.code == "still_unaddressed":
            raise Problem(
                409,
                "notification_still_unaddressed",
                f"通知 {notification_id} 的单位仍没有接收方",
                f"notification {notification_id}: its unit still has no contact",
            ) from exc
        raise Problem(
            409,
            "notification_not_retryable",
            f"通知 {notification_id} 已发送或已取消，不能重试",
            f"notification {notification_id} is sent or cancelled; only dead or pending ones"
            " can be retried",
        ) from exc
    return _out(row)
