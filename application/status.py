"""How the system is: the services the API needs, and how far each read model lags."""

from __future__ import annotations

import asyncio

from application.models import HealthOut, ServiceHealth
from application.services import Services
from store.engine import check_reachable
from store.errors import DatabaseUnreachable
from store.projections.lag import ProjectionLag, projection_lag
from store.projections.open_cases import open_case_counts

__all__ = ["open_cases_by_light_and_level", "projection_status", "readiness", "system_health"]


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


async def readiness(services: Services) -> HealthOut:
    """Can this API serve: the database and Temporal answer (a missing worker does not
    make it unready: reads still work, and another API would not help)."""
    try:
        await asyncio.wait_for(asyncio.to_thread(check_reachable, services.store.engine), timeout=3)
        database = ServiceHealth(ok=True)
    except (DatabaseUnreachable, TimeoutError) as exc:
        database = ServiceHealth(ok=False, error=str(exc) or "timeout")
    temporal_error = await services.temporal.check()
    temporal = ServiceHealth(ok=temporal_error is None, error=temporal_error)
    return HealthOut(
        status="ok" if database.ok and temporal.ok else "degraded",
        database=database,
        temporal=temporal,
        worker=None,
    )


def open_cases_by_light_and_level(services: Services) -> list[tuple[str, int, int]]:
    """(light, escalation level, cases) over the open cases, from the case summary."""
    return open_case_counts(services.store.engine)
