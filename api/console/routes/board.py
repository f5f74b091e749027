"""亮灯看板 (the unit board of a subtree, drilling down to a unit's cases) and a
cadre's archive for a year or quarter, each figure linked to the cases behind it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.console.render import page
from api.console.sessions import Person, console_services
from application.archive import archive_of
from application.case_lists import board
from application.directory import cadres_of
from application.models import ID_PATTERN
from domain.archive import CadreArchive

__all__ = ["router"]

router = APIRouter()

FIGURES = (
    "cases_assigned",
    "cases_closed",
    "closed_on_time",
    "closed_within_extension",
    "overdue_now",
    "highest_escalation_level",
    "extensions_requested",
    "extensions_granted",
    "closures_sent_back",
    "reopened_after_look_back",
    "days_to_close",
    "satisfaction_visits",
    "accountability_actions",
    "exemptions",
)


@router.get("/board")
async def unit_board(
    request: Request,
    person: Person,
    unit: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> Response:
    found = await board(console_services(request), person.caller, unit)
    return page(request, "board.html", {"board": found})


def _figures(archive: CadreArchive) -> list[tuple[str, int, list[str]]]:
    """Each figure with the cases its events belong to (from the archive's timeline)."""
    case_of = {entry.event_id: entry.case_id for entry in archive.timeline}
    rows = []
    for name in FIGURES:
        figure = getattr(archive, name)
        cases = sorted({case_of[e] for e in figure.event_ids if e in case_of})
        rows.append((name, figure.value, cases))
    return rows


@router.get("/archive")
async def cadre_archive(
    request: Request,
    person: Person,
    cadre: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    year: Annotated[int | None, Query(ge=2000, le=2200)] = None,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
) -> Response:
    services = console_services(request)
    cadres = await cadres_of(services, None)
    archive = None
    if cadre:
        archive = await archive_of(services, person.caller, cadre, year, quarter)
    return page(
        request,
        "archive.html",
        {
            "cadres": cadres,
            "cadre": cadre,
            "archive": archive,
            "figures": _figures(archive) if archive else [],
            "year": year,
            "quarter": quarter,
        },
    )
