"""GET /health: is the database reachable, is Temporal reachable."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response

from api.deps import Store, Temporal
from api.models import HealthOut, ServiceHealth
from store.engine import check_reachable
from store.errors import DatabaseUnreachable

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, summary="Reachability of PostgreSQL and Temporal")
async def health(store: Store, temporal: Temporal, response: Response) -> HealthOut:
    try:
        await asyncio.wait_for(asyncio.to_thread(check_reachable, store.engine), timeout=6)
        database = ServiceHealth(ok=True)
    except (DatabaseUnreachable, TimeoutError) as exc:
        database = ServiceHealth(ok=False, error=str(exc) or "timeout")
    temporal_error = await temporal.check()
    result = HealthOut(
        status="ok" if database.ok and temporal_error is None else "degraded",
        database=database,
        temporal=ServiceHealth(ok=temporal_error is None, error=temporal_error),
    )
    if result.status != "ok":
        response.status_code = 503
    return result
