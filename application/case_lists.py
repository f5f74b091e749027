"""Cases in bulk: the case list and the unit board (亮灯看板) of a subtree within scope.

Both read their projections (case summary, unit board); a unit user gets their
own unit, a supervisor or an inspector their subtree or a unit's inside it, an
admin nothing (403); a unit outside the caller's scope is unknown (422).

A board is read in one statement and kept per process as its JSON, for each root,
while the board projection has not moved and the directory has not grown (one small
query checks that on each read), for at most ``BOARD_SECONDS``: a province's board
is thousands of units, and the console shows its totals on every case list.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine

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
from store.projections.unit_board import (
    COUNTS,
    BoardFigures,
    SubtreeBoard,
    UnitBoardRow,
    board_key,
    read_subtree_board,
)

__all__ = [
    "BOARD_SECONDS",
    "BoardOut",
    "BoardUnitOut",
    "CaseQuery",
    "board",
    "board_json",
    "case_page",
]

BOARD_SECONDS = 5.0  # the longest a board is reused, even unchanged by every sign
BOARD_ROOTS = 256  # boards kept per database (the least recently read go first)


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


def _case_page(services: Services, actor: Actor, query: CaseQuery) -> CasePage:
    scope = _scope_filter(services.directory, actor, query.unit)
    filters = CaseFilters.model_validate({**scope, **query.filters})
    return list_cases(services.store.engine, filters, query.sort, query.cursor, query.limit)


async def case_page(services: Services, caller: Caller, query: CaseQuery) -> CasePage:
    ensure_sees_cases(caller.actor)
    try:  # the scope and the page in one trip to a thread
        return await asyncio.to_thread(_case_page, services, caller.actor, query)
    except InvalidCursor as exc:
        raise Refusal(
            422,
            "invalid_cursor",
            "分页游标无效，请从第一页重新开始",
            "the cursor is not valid for this list; start again from the first page",
            errors=[{"field": "query.cursor", "message": str(exc)}],
        ) from exc


def _json(value: str | None) -> str:
    return json.dumps(value, ensure_ascii=False)


# BoardOut's JSON as the API's serialiser writes it (compact, UTF-8, fields in the
# models' order: a unit's figures, then its id and name); a test compares the two.
_FIGURES = ",".join(f'"{name}":%d' for name in COUNTS) + ',"on_time_rate":%s'
_UNIT = "{" + _FIGURES + ',"unit_id":%s,"name":%s}'


def _board_json(root_id: str, read: SubtreeBoard) -> bytes:
    units = ",".join(
        _UNIT % (*row[2:-1], _json(row[-1]), _json(row[0]), _json(row[1])) for row in read.rows
    )
    total = "{" + _FIGURES % (*read.total[:-1], _json(read.total[-1])) + "}"
    return f'{{"unit_id":{_json(root_id)},"units":[{units}],"total":{total}}}'.encode()


@dataclass(slots=True)
class _Board:
    key: tuple[str | None, int]
    at: float  # time.monotonic() of the read
    json: bytes
    model: BoardOut | None = None  # made from ``json`` when first asked for


class _Boards:
    """The boards of one database, by (root, one unit only)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.kept: OrderedDict[tuple[str, bool], _Board] = OrderedDict()

    def get(self, root: tuple[str, bool]) -> _Board | None:
        with self.lock:
            found = self.kept.get(root)
            if found is not None:
                self.kept.move_to_end(root)
            return found

    def put(self, root: tuple[str, bool], board: _Board) -> None:
        with self.lock:
            self.kept[root] = board
            self.kept.move_to_end(root)
            while len(self.kept) > BOARD_ROOTS:
                self.kept.popitem(last=False)


_BOARDS: weakref.WeakKeyDictionary[Engine, _Boards] = weakref.WeakKeyDictionary()
_BOARDS_LOCK = threading.Lock()


def _boards(engine: Engine) -> _Boards:
    with _BOARDS_LOCK:
        found = _BOARDS.get(engine)
        if found is None:
            found = _BOARDS[engine] = _Boards()
        return found


def _board(store: EventStore, directory: Directory, actor: Actor, unit: str | None) -> _Board:
    root = scope_root(directory, actor, unit)
    one_unit = actor.role is Role.UNIT  # a unit user's board is their unit alone
    boards, at = _boards(store.engine), (root.unit_id, one_unit)
    kept = boards.get(at)
    with store.engine.connect() as conn:
        if (
            kept is not None
            and time.monotonic() - kept.at < BOARD_SECONDS
            and board_key(conn) == kept.key  # nothing moved since it was read
        ):
            return kept
        read = (
            read_subtree_board(conn, unit_id=root.unit_id)
            if one_unit
            else read_subtree_board(conn, path=root.path)
        )
    made = _Board(read.key, time.monotonic(), _board_json(root.unit_id, read))
    boards.put(at, made)
    return made


def _model(found: _Board) -> BoardOut:
    if found.model is None:  # shared and frozen: made at most a few times over
        found.model = BoardOut.model_validate_json(found.json)
    return found.model


async def board(services: Services, caller: Caller, unit: str | None) -> BoardOut:
    ensure_sees_cases(caller.actor)
    found = await asyncio.to_thread(_board, services.store, services.directory, caller.actor, unit)
    return await asyncio.to_thread(_model, found) if found.model is None else found.model


async def board_json(services: Services, caller: Caller, unit: str | None) -> bytes:
    """``board``'s answer as the API's JSON (a ``BoardOut``), without a model per unit."""
    ensure_sees_cases(caller.actor)
    found = await asyncio.to_thread(_board, services.store, services.directory, caller.actor, unit)
    return found.json
