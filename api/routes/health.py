"""GET /health: is the database reachable, is Temporal reachable, does a worker poll."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import AppServices, AppSettings
from application.models import HealthOut
from application.status import system_health

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, summary="Reachability of PostgreSQL and Temporal")
async def health(services: AppServices, settings: AppSettings, response: Response) -> HealthOut:
    result = await system_health(services, settings.task_queue)
    if not (result.database.ok and result.temporal.ok):
        response.status_code = 503  # the API cannot serve; a missing worker is 200 degraded
    return result
