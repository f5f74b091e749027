"""GET /cases: the case list within the caller's scope (application.case_lists)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AppServices, CurrentCaller
from application.case_lists import CaseQuery, case_page
from application.models import ID_PATTERN
from domain.vocabulary import CaseKind, CaseStatus, Source, TrafficLight
from store.projections.case_summary import CasePage, CaseSort

__all__ = ["router"]

router = APIRouter(tags=["cases"])


@router.get(
    "/cases",
    response_model=CasePage,
    summary="Cases within your scope, filtered and sorted, a page at a time",
    responses={403: {"description": "Admins see no cases"}},
)
async def case_list(
    services: AppServices,
    caller: CurrentCaller,
    status: Annotated[list[CaseStatus] | None, Query()] = None,
    light: Annotated[list[TrafficLight] | None, Query()] = None,
    unit: Annotated[str | None, Query(pattern=ID_PATTERN, description="A subtree")] = None,
    source: Source | None = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    kind: CaseKind | None = None,
    overdue: bool | None = None,
    escalation_level: Annotated[int | None, Query(ge=0, le=4)] = None,
    deadline_from: date | None = None,
    deadline_to: date | None = None,
    cadre: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    sort: CaseSort = "deadline",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePage:
    filters: dict[str, object] = {
        "statuses": frozenset(status) if status else None,
        "lights": frozenset(light) if light else None,
        "source": source,
        "category": category,
        "kind": kind,
        "overdue": overdue,
        "escalation_level": escalation_level,
        "deadline_from": deadline_from,
        "deadline_to": deadline_to,
        "cadre_id": cadre,
    }
    query = CaseQuery(unit=unit, filters=filters, sort=sort, cursor=cursor, limit=limit)
    return await case_page(services, caller, query)
