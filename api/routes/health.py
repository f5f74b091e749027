"""GET /health: is the database reachable, is Temporal reachable, does a worker poll."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response

from api.deps import AppSettings, Store, Temporal
from api.models import HealthOut, ServiceHealth
from store.engine import check_reachable
from store.errors import DatabaseUnreachable

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, summary="Reachability of PostgreSQL and Temporal")
async def health(
    store: Store, temporal: Temporal, settings: AppSettings, response: Response
) -> HealthOut:
    try:
        await asyncio.wait_for(asyncio.to_thread(check_reachable, store.engine), timeout=6)
        database = ServiceHealth(ok=True)
    except (DatabaseUnreachable, TimeoutError) as exc:
        database = ServiceHealth(ok=False, error=str(exc) or "timeout")
    temporal_error = await temporal.check()
    worker: ServiceHealth | None = None
    if temporal_error is None:
        worker_error = await temporal.check_workers(settings.task_queue)
        worker = ServiceHealth(ok=worker_error is None, error=worker_error)
    serving = database.ok and temporal_error is None
    result = HealthOut(
        status="ok" if serving and worker is not None and worker.ok else "degraded",
        database=database,
        temporal=ServiceHealth(ok=temporal_error is None, error=temporal_error),
        worker=worker,
    )
    if not serving:
        response.status_code = 503
    return result
