"""Cases in bulk: the case list and the unit board (亮灯看板) of a subtree within scope.

Both read their projections (case summary, unit board); a unit user gets their
own unit, a supervisor or an inspector their subtree or a unit's inside it, an
admin nothing (403); a unit outside the caller's scope is unknown (422).
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, ConfigDict

from application.access import ensure_sees_cases, scope_root
from application.caller import Caller
from application.errors import Refusal
from application.services import Services
from domain.vocabulary import Actor, Role
from store.directory import Directory
from store.event_store import EventStore
from store.projections.case_summary import (
    CaseFilters,
    CasePage,
    CaseSort,
    InvalidCursor,
    list_cases,
)
from store.projections.unit_board import BoardFigures, UnitBoardRow, read_board

__all__ = ["BoardOut", "BoardUnitOut", "CaseQuery", "board", "case_page"]


class CaseQuery(BaseModel):
    """What a list asks for, besides the caller's scope (every filter optional)."""

    model_config = ConfigDict(frozen=True)

    unit: str | None = None  # a subtree within the caller's scope
    filters: dict[str, object] = {}  # CaseFilters' fields other than the scope's
    sort: CaseSort = "deadline"
    cursor: str | None = None
    limit: int = 50


class BoardUnitOut(UnitBoardRow):
    name: str


class BoardOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    unit_id: str  # the subtree's root
    units: list[BoardUnitOut]  # units with cases, in tree order (a parent before its children)
    total: BoardFigures  # summed over ``units``


def _scope_filter(directory: Directory, actor: Actor, unit: str | None) -> dict[str, object]:
    """The part of the filter that keeps the list inside the caller's scope."""
    root = scope_root(directory, actor, unit)
    if actor.role is Role.UNIT:
        return {"unit_ids": frozenset({root.unit_id})}
    return {"unit_path": root.path}


async def case_page(services: Services, caller: Caller, query: CaseQuery) -> CasePage:
    ensure_sees_cases(caller.actor)
    scope = await asyncio.to_thread(_scope_filter, services.directory, caller.actor, query.unit)
    filters = CaseFilters.model_validate({**scope, **query.filters})
    try:
        return await asyncio.to_thread(
            list_cases, services.store.engine, filters, query.sort, query.cursor, query.limit
        )
    except InvalidCursor as exc:
        raise Refusal(
            422,
            "invalid_cursor",
            "分页游标无效，请从第一页重新开始",
            "the cursor is not valid for this list; start again from the first page",
            errors=[{"field": "query.cursor", "message": str(exc)}],
        ) from exc


def _board(store: EventStore, directory: Directory, actor: Actor, unit: str | None) -> BoardOut:
    root = scope_root(directory, actor, unit)
    units = [root] if actor.role is Role.UNIT else directory.subtree(root.unit_id)
    rows, total = read_board(store.engine, [u.unit_id for u in units])
    by_id = {row.unit_id: row for row in rows}
    found = [
        BoardUnitOut(name=u.name, **by_id[u.unit_id].model_dump())
        for u in units
        if u.unit_id in by_id
    ]
    return BoardOut(unit_id=root.unit_id, units=found, total=total)


async def board(services: Services, caller: Caller, unit: str | None) -> BoardOut:
    ensure_sees_cases(caller.actor)
    return await asyncio.to_thread(_board, services.store, services.directory, caller.actor, unit)
