"""GET /board: the unit board (亮灯看板) of a subtree, from the unit-board projection.

Each unit of the subtree that has cases, in tree order, with its name: cases by
light, red cases by escalation level (the overdue ageing buckets), closures and
the on-time rate; and the totals over those units, read in the same statement.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from api.auth import CurrentActor
from api.deps import Store, Units
from api.models import ID_PATTERN
from api.scope import ensure_sees_cases, scope_root
from domain.vocabulary import Actor, Role
from store.directory import Directory
from store.event_store import EventStore
from store.projections.unit_board import BoardFigures, UnitBoardRow, read_board

__all__ = ["BoardOut", "BoardUnitOut", "router"]

router = APIRouter(tags=["cases"])


class BoardUnitOut(UnitBoardRow):
    name: str


class BoardOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    unit_id: str  # the subtree's root
    units: list[BoardUnitOut]  # units with cases, in tree order (a parent before its children)
    total: BoardFigures  # summed over ``units``


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


@router.get(
    "/board",
    response_model=BoardOut,
    summary="The unit board (亮灯看板): cases by light and overdue level per unit, in scope",
    responses={403: {"description": "Admins see no cases"}},
)
async def board(
    store: Store,
    directory: Units,
    actor: CurrentActor,
    unit: Annotated[str | None, Query(pattern=ID_PATTERN, description="A subtree")] = None,
) -> BoardOut:
    ensure_sees_cases(actor)
    return await asyncio.to_thread(_board, store, directory, actor, unit)
