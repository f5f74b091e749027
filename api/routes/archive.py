"""GET /cadres/{id}/archive: a cadre's figures for a period, each with the events behind it.

Served from the cadre-archive projection, which folds the log with the domain's
archive fold (``zhenggai archive check`` proves the two agree); "overdue now" is
as of the latest event the log holds for the cadre.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.auth import CurrentActor, in_scope
from api.deps import Store, Units
from api.models import ID_PATTERN
from api.problems import Problem
from domain.archive import CadreArchive, Period, cadre_archive
from domain.policy import DEFAULT_POLICY
from store.event_store import EventStore
from store.projections.cadre_archive import read_archive

__all__ = ["router"]

router = APIRouter(tags=["archive"])


def _archive(store: EventStore, cadre_id: str, period: Period) -> CadreArchive:
    projected = read_archive(store.engine, cadre_id, period)
    if projected is not None:
        return projected
    # No event of the period concerns the cadre: the fold of nothing, all figures zero.
    return cadre_archive((), cadre_id, period, datetime.now(UTC))


@router.get(
    "/cadres/{cadre_id}/archive",
    response_model=CadreArchive,
    summary="A cadre's performance archive (政绩档案) for a year or a quarter",
    responses={404: {"description": "No such cadre, or not within your scope"}},
)
async def get_archive(
    store: Store,
    directory: Units,
    actor: CurrentActor,
    year: Annotated[
        int | None, Query(ge=2000, le=2200, description="Default: this year (China time)")
    ] = None,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
    cadre_id: str = Path(pattern=ID_PATTERN),
) -> CadreArchive:
    cadre = await asyncio.to_thread(directory.cadre, cadre_id)
    visible = cadre is not None and await asyncio.to_thread(
        in_scope, directory, actor, cadre.unit_id
    )
    if cadre is None or not visible:
        raise Problem(404, "cadre_not_found", f"未找到干部 {cadre_id}", f"no cadre {cadre_id}")
    if year is None:
        year = DEFAULT_POLICY.today(datetime.now(UTC)).year
    period = Period(year=year, quarter=quarter)
    return await asyncio.to_thread(_archive, store, cadre_id, period)
