"""亮灯看板 (the unit board of a subtree, drilling down to a unit's cases) and a
cadre's archive for a year or quarter, each figure linked to the cases behind it by
their titles; units and cadres by their names."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.console.render import page
from api.console.sessions import Person, console_services
from application.archive import archive_of, case_titles
from application.case_lists import board
from application.directory import cadres_of, unit_name, unit_names
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
    services = console_services(request)
    found = await board(services, person.caller, unit)
    named = {u.unit_id: u.name for u in found.units}  # the board's own names first
    root = named.get(found.unit_id) or await unit_name(services, found.unit_id)
    return page(request, "board.html", {"board": found, "root_name": root})


def _figures(
    archive: CadreArchive, cases: dict[str, tuple[str, str]]
) -> list[tuple[str, int, list[tuple[str, str]]]]:
    """Each figure with the cases its events belong to (from the archive's timeline), as
    (case id, title) by title; a case without a title known shows its reference."""
    case_of = {entry.event_id: entry.case_id for entry in archive.timeline}
    rows = []
    for name in FIGURES:
        figure = getattr(archive, name)
        refs = {case_of[e] for e in figure.event_ids if e in case_of}
        shown = sorted({cases.get(r, (r, r)) for r in refs}, key=lambda pair: (pair[1], pair[0]))
        rows.append((name, figure.value, shown))
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
    titles: dict[str, tuple[str, str]] = {}
    if cadre:
        archive = await archive_of(services, person.caller, cadre, year, quarter)
        titles = await case_titles(services, person.caller, archive)
    return page(
        request,
        "archive.html",
        {
            "cadres": cadres,
            "units": await unit_names(services),
            "cadre": cadre,
            "cadre_name": next((c.name for c in cadres if c.cadre_id == cadre), cadre),
            "archive": archive,
            "figures": _figures(archive, titles) if archive else [],
            "year": year,
            "quarter": quarter,
        },
    )
