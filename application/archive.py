"""A cadre's performance archive (政绩档案) for a period, each figure with its events.

Served from the cadre-archive projection, which folds the log with the domain's
archive fold (``zhenggai projections check`` proves the two agree); "overdue now"
is as of the latest event the log holds for the cadre.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from application.access import in_scope
from application.caller import Caller
from application.case_lists import CaseQuery, case_page
from application.errors import Refusal
from application.services import Services
from domain.archive import CadreArchive, Period, cadre_archive
from domain.policy import DEFAULT_POLICY
from store.event_store import EventStore
from store.projections.cadre_archive import read_archive

__all__ = ["archive_of", "case_titles"]


def _archive(store: EventStore, cadre_id: str, period: Period) -> CadreArchive:
    projected = read_archive(store.engine, cadre_id, period)
    if projected is not None:
        return projected
    # No event of the period concerns the cadre: the fold of nothing, all figures zero.
    return cadre_archive((), cadre_id, period, datetime.now(UTC))


async def archive_of(
    services: Services, caller: Caller, cadre_id: str, year: int | None, quarter: int | None
) -> CadreArchive:
    """``year`` None: this year, China time. A cadre outside the caller's scope is 404."""
    directory = services.directory
    cadre = await asyncio.to_thread(directory.cadre, cadre_id)
    visible = cadre is not None and await asyncio.to_thread(
        in_scope, directory, caller.actor, cadre.unit_id
    )
    if cadre is None or not visible:
        raise Refusal(404, "cadre_not_found", f"未找到干部 {cadre_id}", f"no cadre {cadre_id}")
    if year is None:
        year = DEFAULT_POLICY.today(datetime.now(UTC)).year
    period = Period(year=year, quarter=quarter)
    return await asyncio.to_thread(_archive, services.store, cadre_id, period)


async def case_titles(
    services: Services, caller: Caller, archive: CadreArchive
) -> dict[str, tuple[str, str]]:
    """The cases behind an archive's figures as the caller may see them: the timeline's
    reference of each (its stream id) -> (case id, title), from one read of the cadre's
    cases in the case list. A case since moved to another cadre, or out of the caller's
    scope, is left out (shown by its reference)."""
    wanted = {entry.case_id for entry in archive.timeline}
    if not wanted:
        return {}
    query = CaseQuery(filters={"cadre_id": archive.cadre_id}, sort="-last_activity", limit=1000)
    found: dict[str, tuple[str, str]] = {}
    for row in (await case_page(services, caller, query)).items:
        for ref in (row.stream_id, row.case_id):
            if ref in wanted:
                found[ref] = (row.case_id, row.title)
    return found
