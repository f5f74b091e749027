"""Unit board: per responsible unit, cases by light, red cases by escalation level
(the overdue ageing ladder of the policy: 0 not yet escalated, 1 催办 … 4 问责建议),
and the on-time rate of closures (against the original deadline).

Cases count once opened; withdrawn cases leave the board, as they leave the
archive. ``unit_board_cases`` holds each case's contribution (a function of its
stream); ``unit_board`` is the sum over a unit's rows, recomputed for the
units a batch touches (the old unit of a transferred case included).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Engine

from domain.policy import DEFAULT_POLICY
from domain.vocabulary import CaseStatus
from store.projections.base import Progress, Projection
from store.projections.facts import CaseFacts, case_facts
from store.projections.log import StreamEvent, domain_records, read_streams
from store.projections.parallel import stream_rows
from store.projections.write import copy_rows
from store.reading import Checkpoint
from store.records import RecordedEvent

__all__ = [
    "CASES",
    "CASE_COLUMNS",
    "COUNTS",
    "PROJECTION",
    "BoardFigures",
    "SubtreeBoard",
    "UnitBoardRow",
    "board_case_row",
    "board_key",
    "read_board",
    "read_subtree_board",
    "sum_board",
]

NAME = "unit_board"
CASES = "unit_board_cases"
CASE_COLUMNS = (
    "stream_id",
    "unit_id",
    "light",
    "status",
    "escalation_level",
    "closed",
    "closed_on_time",
)

_AGGREGATE = """
INSERT INTO {board} (unit_id, cases, active, green, yellow, red, grey,
    red_level_0, red_level_1, red_level_2, red_level_3, red_level_4,
    closed, closed_on_time, on_time_rate)
SELECT unit_id, count(*),
    count(*) FILTER (WHERE status IN ('open', 'closure_pending')),
    count(*) FILTER (WHERE light = 'green'),
    count(*) FILTER (WHERE light = 'yellow'),
    count(*) FILTER (WHERE light = 'red'),
    count(*) FILTER (WHERE light = 'grey'),
    count(*) FILTER (WHERE light = 'red' AND escalation_level = 0),
    count(*) FILTER (WHERE light = 'red' AND escalation_level = 1),
    count(*) FILTER (WHERE light = 'red' AND escalation_level = 2),
    count(*) FILTER (WHERE light = 'red' AND escalation_level = 3),
    count(*) FILTER (WHERE light = 'red' AND escalation_level = 4),
    count(*) FILTER (WHERE closed),
    count(*) FILTER (WHERE closed_on_time),
    {rate}
FROM {cases} {where} GROUP BY unit_id
"""


def _rate(closed: str, on_time: str) -> str:
    """The on-time rate's one definition in SQL: a decimal string of four places, NULL
    before any closure (the board's rows and its totals both use it)."""
    return f"CASE WHEN {closed} > 0 THEN round(({on_time})::numeric / {closed}, 4)::text END"


def _aggregate(board: str, cases: str, where: str) -> str:
    rate = _rate("count(*) FILTER (WHERE closed)", "count(*) FILTER (WHERE closed_on_time)")
    return _AGGREGATE.format(board=board, cases=cases, where=where, rate=rate)


def board_case_row(facts: CaseFacts) -> tuple[Any, ...] | None:
    s = facts.state
    if s.opened_at is None or s.status in (CaseStatus.WITHDRAWN, CaseStatus.MERGED):
        return None
    closed = s.status is CaseStatus.CLOSED and s.closed_at is not None
    on_time = (
        closed
        and s.closed_at is not None
        and s.original_deadline is not None
        and DEFAULT_POLICY.today(s.closed_at) <= s.original_deadline
    )
    return (
        facts.stream_id,
        s.unit_id,
        facts.light.value,
        s.status.value,
        s.escalation_level,
        closed,
        on_time,
    )


def _insert_cases(conn: Connection, suffix: str, rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        copy_rows(conn, f"{CASES}{suffix}", CASE_COLUMNS, rows)


def _apply(
    conn: Connection, suffix: str, batch: Sequence[RecordedEvent], bound: Checkpoint
) -> None:
    streams = read_streams(conn, [e.stream_id for e in batch], bound)
    ids = list(streams)
    cases, board = f"{CASES}{suffix}", f"{NAME}{suffix}"
    old_units = conn.exec_driver_sql(
        f"DELETE FROM {cases} WHERE stream_id = ANY(%s) RETURNING unit_id",  # noqa: S608
        (ids,),
    ).scalars()
    units = set(old_units)
    rows = []
    for events in streams.values():
        facts = case_facts(domain_records(events))
        row = board_case_row(facts) if facts else None
        if row is not None:
            rows.append(row)
            units.add(row[1])
    _insert_cases(conn, suffix, rows)
    if units:
        unit_list = sorted(units)
        conn.exec_driver_sql(f"DELETE FROM {board} WHERE unit_id = ANY(%s)", (unit_list,))  # noqa: S608
        sql = _aggregate(board, cases, "WHERE unit_id = ANY(%s)")
        conn.exec_driver_sql(sql, (unit_list,))


def _board_row(events: list[StreamEvent]) -> tuple[Any, ...] | None:
    facts = case_facts(domain_records(events))
    return None if facts is None else board_case_row(facts)


def _build(conn: Connection, suffix: str, bound: Checkpoint, progress: Progress) -> None:
    for rows, events in stream_rows(conn, bound, _board_row):
        _insert_cases(conn, suffix, rows)
        progress(events)
    sum_board(conn, suffix)


def sum_board(conn: Connection, suffix: str) -> None:
    """Fill the (empty) board from every case's row, once a build has written them."""
    conn.exec_driver_sql(_aggregate(f"{NAME}{suffix}", f"{CASES}{suffix}", ""))


PROJECTION = Projection(NAME, (CASES, NAME), (("stream_id",), ("unit_id",)), _apply, _build)


class BoardFigures(BaseModel):
    """What the board counts, for one unit or summed over several."""

    model_config = ConfigDict(frozen=True)

    cases: int  # opened and not withdrawn
    active: int  # open or waiting for closure verification
    green: int
    yellow: int
    red: int
    grey: int
    # Red (overdue) cases by how far the escalation ladder has gone: the ageing
    # buckets, in the policy's working days after the deadline.
    red_level_0: int
    red_level_1: int
    red_level_2: int
    red_level_3: int
    red_level_4: int
    closed: int
    closed_on_time: int  # by the original deadline
    on_time_rate: str | None  # decimal string, four places; None before any closure


class UnitBoardRow(BoardFigures):
    unit_id: str


COUNTS = tuple(name for name in BoardFigures.model_fields if name != "on_time_rate")
_COUNTS = COUNTS
_SUMS = ", ".join(f"COALESCE(sum({c}), 0)::int AS {c}" for c in _COUNTS)
# The names are the model's fields, not input; the units are a parameter.
_READ = (
    f"SELECT unit_id, {_SUMS}, {_rate('sum(closed)', 'sum(closed_on_time)')} AS on_time_rate "  # noqa: S608
    f"FROM {NAME} WHERE unit_id = ANY(%s) GROUP BY ROLLUP (unit_id) ORDER BY unit_id NULLS LAST"
)


def read_board(engine: Engine, unit_ids: Sequence[str]) -> tuple[list[UnitBoardRow], BoardFigures]:
    """The board's rows of ``unit_ids`` that have cases, by unit id, and their totals,
    read in one statement (one snapshot: the totals are the sum of the rows given)."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(_READ, (list(unit_ids),)).mappings().all()
    *units, total = rows  # ROLLUP's grand total comes last, and even over no rows
    found = [UnitBoardRow.model_validate(dict(r)) for r in units]
    totals = dict(total)
    del totals["unit_id"]
    return found, BoardFigures.model_validate(totals)


# A subtree's rows with their units' names, in tree order (the units' materialised
# paths), and the totals over them, in one statement: the grand total's grouping set
# comes last (its path is NULL) and is there even over no rows.
_READ_SUBTREE = (
    f"SELECT b.unit_id, u.name, {_SUMS}, "  # noqa: S608
    f"{_rate('sum(closed)', 'sum(closed_on_time)')} AS on_time_rate "
    f"FROM {NAME} b JOIN units u ON u.unit_id = b.unit_id WHERE {{where}} "
    "GROUP BY GROUPING SETS ((u.path, b.unit_id, u.name), ()) ORDER BY u.path NULLS LAST"
)
_SUBTREE = _READ_SUBTREE.format(where="u.path LIKE %s")
_ONE_UNIT = _READ_SUBTREE.format(where="b.unit_id = %s")
# What a board read depends on besides the subtree: the projection's position (its
# runner writes the rows and the checkpoint in one transaction, a rebuild swaps them in
# together) and the directory (insert-only: its size).
_KEY = (
    "SELECT (SELECT tx_id::text || ':' || position FROM checkpoints "  # noqa: S608
    f"WHERE projection = '{NAME}'), (SELECT count(*) FROM units)"
)


@dataclass(frozen=True, slots=True)
class SubtreeBoard:
    """The board of a subtree as read: ``rows`` are (unit_id, name, *COUNTS,
    on_time_rate) of its units with cases, in tree order; ``total`` is (*COUNTS,
    on_time_rate) over them; ``key`` is ``board_key`` as it was before the read."""

    key: tuple[str | None, int]
    rows: list[tuple[Any, ...]]
    total: tuple[Any, ...]


def board_key(conn: Connection) -> tuple[str | None, int]:
    """Changes whenever a board read may give another answer (None: never projected)."""
    row = conn.exec_driver_sql(_KEY).one()
    return (None if row[0] is None else str(row[0]), int(row[1]))


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def read_subtree_board(
    conn: Connection, *, path: str | None = None, unit_id: str | None = None
) -> SubtreeBoard:
    """The board of the units whose materialised path starts with ``path``, or of the
    one unit ``unit_id``: plain rows, no model per unit (a province is thousands)."""
    key = board_key(conn)  # first: the rows are at least as new as the key
    if path is not None:
        found = conn.exec_driver_sql(_SUBTREE, (_like_prefix(path),)).all()
    elif unit_id is not None:
        found = conn.exec_driver_sql(_ONE_UNIT, (unit_id,)).all()
    else:
        raise ValueError("a path or a unit")
    *rows, total = (tuple(r) for r in found)
    return SubtreeBoard(key=key, rows=rows, total=total[2:])
