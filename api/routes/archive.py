"""GET /cadres/{id}/archive: a cadre's figures for a period (application.archive)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import AppServices, CurrentCaller
from application.archive import archive_of
from application.models import ID_PATTERN
from domain.archive import CadreArchive

__all__ = ["router"]

router = APIRouter(tags=["archive"])


@router.get(
    "/cadres/{cadre_id}/archive",
    response_model=CadreArchive,
    summary="A cadre's performance archive (政绩档案) for a year or a quarter",
    responses={404: {"description": "No such cadre, or not within your scope"}},
)
async def get_archive(
    services: AppServices,
    caller: CurrentCaller,
    year: Annotated[
        int | None, Query(ge=2000, le=2200, description="Default: this year (China time)")
    ] = None,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
    cadre_id: str = Path(pattern=ID_PATTERN),
) -> CadreArchive:
    return await archive_of(services, caller, cadre_id, year, quarter)
