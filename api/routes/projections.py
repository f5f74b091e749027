"""GET /projections: each read model's position and how far it is behind the log."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from api.auth import CurrentActor
from api.deps import Store
from store.projections.lag import ProjectionLag, projection_lag

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get(
    "/projections",
    response_model=list[ProjectionLag],
    summary="Each projection's checkpoint and its distance from the head of the log",
)
async def projections(store: Store, actor: CurrentActor) -> list[ProjectionLag]:
    return await asyncio.to_thread(projection_lag, store.engine)
