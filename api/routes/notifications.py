"""The notification outbox for admins (application.notifications).

Newest first; the next page is ``?before=<the last id>``. ``unaddressed`` rows are
notices whose recipient had no contact: nothing was sent, and a retry (after a
contact was added) addresses them to the contacts the unit has now.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from api.deps import AppServices, caller_with
from application.caller import Caller
from application.models import ID_PATTERN
from application.notifications import NotificationOut, notification_page, retry_notification
from domain.vocabulary import Role
from store.outbox import OutboxStatus

__all__ = ["router"]

router = APIRouter(tags=["notifications"])
Admin = Annotated[Caller, Depends(caller_with(Role.ADMIN))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token"},
    403: {"description": "Only admins see the outbox"},
}


@router.get(
    "/notifications",
    response_model=list[NotificationOut],
    summary="Notifications in the outbox, newest first (e.g. ?status=dead, ?status=unaddressed)",
    name="list_notifications",
    responses=_ERRORS,
)
async def get_notifications(
    services: AppServices,
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
    return await notification_page(services, admin, status, case_id, limit, before)


@router.post(
    "/notifications/{notification_id}/retry",
    response_model=NotificationOut,
    summary="Retry a dead notification now (its contact re-read), or address an unaddressed one",
    name="retry_notification",
    responses={
        **_ERRORS,
        404: {"description": "No such notification"},
        409: {"description": "Already sent or cancelled"},
    },
)
async def post_retry(
    services: AppServices,
    admin: Admin,
    notification_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> NotificationOut:
    return await retry_notification(services, admin, notification_id)
