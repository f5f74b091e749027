"""GET /cases/{id}: one case, its state folded from its events, and the events."""

from __future__ import annotations

from fastapi import APIRouter, Path

from api.auth import CurrentActor
from api.case_access import visible_case
from api.deps import Store, Units
from api.models import ID_PATTERN, CaseOut

__all__ = ["router"]

router = APIRouter(tags=["cases"])


@router.get(
    "/cases/{case_id}",
    response_model=CaseOut,
    name="get_case",
    summary="One case with its state and its events",
    responses={
        401: {"description": "No valid bearer token"},
        404: {"description": "No such case, or not within your scope"},
    },
)
async def get_case(
    store: Store, directory: Units, actor: CurrentActor, case_id: str = Path(pattern=ID_PATTERN)
) -> CaseOut:
    return await visible_case(store, directory, actor, case_id)
