"""How the system is: the services the API needs, and how far each read model lags."""

from __future__ import annotations

import asyncio

from application.models import HealthOut, ServiceHealth
from application.services import Services
from store.engine import check_reachable
from store.errors import DatabaseUnreachable
from store.projections.lag import ProjectionLag, projection_lag

__all__ = ["projection_status", "system_health"]


async def system_health(services: Services, task_queue: str) -> HealthOut:
    """The database, Temporal and the worker of ``task_queue``, each ok or why not.

    ``status`` is "degraded" when any is down; reads still work without a worker.
    """
    try:
        await asyncio.wait_for(asyncio.to_thread(check_reachable, services.store.engine), timeout=6)
        database = ServiceHealth(ok=True)
    except (DatabaseUnreachable, TimeoutError) as exc:
        database = ServiceHealth(ok=False, error=str(exc) or "timeout")
    temporal_error = await services.temporal.check()
    worker: ServiceHealth | None = None
    if temporal_error is None:
        worker_error = await services.temporal.check_workers(task_queue)
        worker = ServiceHealth(ok=worker_error is None, error=worker_error)
    serving = database.ok and temporal_error is None
    return HealthOut(
        status="ok" if serving and worker is not None and worker.ok else "degraded",
        database=database,
        temporal=ServiceHealth(ok=temporal_error is None, error=temporal_error),
        worker=worker,
    )


async def projection_status(services: Services) -> list[ProjectionLag]:
    return await asyncio.to_thread(projection_lag, services.store.engine)
