"""GET /projections: each read model's position and how far it is behind the log."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AppServices, CurrentCaller
from application.status import projection_status
from store.projections.lag import ProjectionLag

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get(
    "/projections",
    response_model=list[ProjectionLag],
    summary="Each projection's checkpoint and its distance from the head of the log",
)
async def projections(services: AppServices, caller: CurrentCaller) -> list[ProjectionLag]:
    return await projection_status(services)
