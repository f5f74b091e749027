"""GET /cases: the case list from the case-summary projection, within the caller's scope."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import CurrentActor
from api.deps import Store, Units
from api.models import ID_PATTERN
from api.problems import Problem
from api.scope import ensure_sees_cases, scope_root
from domain.vocabulary import Actor, CaseKind, CaseStatus, Role, Source, TrafficLight
from store.directory import Directory
from store.projections.case_summary import (
    CaseFilters,
    CasePage,
    CaseSort,
    InvalidCursor,
    list_cases,
)

__all__ = ["router"]

router = APIRouter(tags=["cases"])


def _scope_filter(directory: Directory, actor: Actor, unit: str | None) -> dict[str, object]:
    """The part of the filter that keeps the list inside the caller's scope."""
    root = scope_root(directory, actor, unit)
    if actor.role is Role.UNIT:
        return {"unit_ids": frozenset({root.unit_id})}
    return {"unit_path": root.path}


@router.get(
    "/cases",
    response_model=CasePage,
    summary="Cases within your scope, filtered and sorted, a page at a time",
    responses={403: {"description": "Admins see no cases"}},
)
async def case_list(
    store: Store,
    directory: Units,
    actor: CurrentActor,
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
    ensure_sees_cases(actor)
    scope = await asyncio.to_thread(_scope_filter, directory, actor, unit)
    filters = CaseFilters.model_validate(
        {
            **scope,
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
    )
    try:
        return await asyncio.to_thread(list_cases, store.engine, filters, sort, cursor, limit)
    except InvalidCursor as exc:
        raise Problem(
            422,
            "invalid_cursor",
            "分页游标无效，请从第一页重新开始",
            "the cursor is not valid for this list; start again from the first page",
            errors=[{"field": "query.cursor", "message": str(exc)}],
        ) from exc
