"""Case summary: one row per case, and the reads the API's case list and the
duplicate check (减负) need.

``list_cases`` pages with an opaque keyset cursor (base64 of JSON holding the
sort, the last row's sort key and case id), so a page never repeats or skips
a row when rows before it change. ``open_cases_of_unit`` gives what
``domain.duplicates.find_duplicate`` compares against.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Generator, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Engine, text

from domain.duplicates import CaseSummary
from domain.policy import DEFAULT_POLICY
from domain.vocabulary import CaseKind, CaseStatus, Source, TrafficLight
from store.projections.base import Progress, Projection
from store.projections.facts import CaseFacts, case_facts
from store.projections.log import StreamEvent, domain_records, read_streams
from store.projections.parallel import stream_rows
from store.projections.write import copy_rows
from store.reading import Checkpoint
from store.records import RecordedEvent

__all__ = [
    "COLUMNS",
    "PROJECTION",
    "CaseFilters",
    "CasePage",
    "CaseRow",
    "CaseSort",
    "InvalidCursor",
    "iter_cases",
    "list_cases",
    "open_cases_of_unit",
    "summary_row",
]

NAME = "case_summary"
COLUMNS = (
    "stream_id",
    "case_id",
    "status",
    "light",
    "deadline",
    "original_deadline",
    "escalation_level",
    "highest_escalation_level",
    "overdue",
    "unit_id",
    "cadre_id",
    "source",
    "sources",
    "category",
    "kind",
    "title",
    "description",
    "extensions_granted",
    "reopen_count",
    "recorded_at",
    "opened_at",
    "closed_at",
    "last_activity",
    "version",
)


def summary_row(facts: CaseFacts) -> tuple[Any, ...]:
    s, f = facts.state, facts.finding
    return (
        facts.stream_id,
        s.case_id,
        s.status.value,
        facts.light.value,
        s.deadline,
        s.original_deadline,
        s.escalation_level,
        s.highest_escalation_level,
        s.overdue,
        s.unit_id,
        s.cadre_id,
        f.source.value,
        [ref.source.value for ref in s.findings],
        f.category,
        s.kind.value if s.kind else None,
        s.title,
        f.description,
        s.extensions_granted,
        s.reopen_count,
        s.recorded_at,
        s.opened_at,
        s.closed_at,
        s.last_event_at or s.recorded_at,
        s.version,
    )


def _insert(conn: Connection, suffix: str, rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        copy_rows(conn, f"{NAME}{suffix}", COLUMNS, rows)


def _apply(
    conn: Connection, suffix: str, batch: Sequence[RecordedEvent], bound: Checkpoint
) -> None:
    streams = read_streams(conn, [e.stream_id for e in batch], bound)
    conn.exec_driver_sql(
        f"DELETE FROM {NAME}{suffix} WHERE stream_id = ANY(%s)",  # noqa: S608
        (list(streams),),
    )
    rows = [
        summary_row(f) for events in streams.values() if (f := case_facts(domain_records(events)))
    ]
    _insert(conn, suffix, rows)


def _summary_row(events: list[StreamEvent]) -> tuple[Any, ...] | None:
    facts = case_facts(domain_records(events))
    return None if facts is None else summary_row(facts)


def _build(conn: Connection, suffix: str, bound: Checkpoint, progress: Progress) -> None:
    for rows, events in stream_rows(conn, bound, _summary_row):
        _insert(conn, suffix, rows)
        progress(events)


PROJECTION = Projection(NAME, (NAME,), (("stream_id",),), _apply, _build)


# -- reading ---------------------------------------------------------------------------


class InvalidCursor(ValueError):
    """The cursor was not made by ``list_cases`` for this sort."""


CaseSort = Literal[
    "deadline", "-deadline", "last_activity", "-last_activity", "opened_at", "-opened_at"
]

_SORT_KEYS: dict[str, tuple[str, str]] = {  # sort -> (SQL expression, kind of value)
    "deadline": ("COALESCE(deadline, DATE '9999-12-31')", "date"),
    "last_activity": ("last_activity", "datetime"),
    "opened_at": ("COALESCE(opened_at, recorded_at)", "datetime"),
}


class CaseFilters(BaseModel):
    """Every field narrows the list; None means no condition."""

    model_config = ConfigDict(frozen=True)

    statuses: frozenset[CaseStatus] | None = None
    lights: frozenset[TrafficLight] | None = None
    unit_path: str | None = None  # a subtree: units whose materialised path starts with this
    unit_ids: frozenset[str] | None = None  # an explicit set of visible units
    source: Source | None = None  # any of the case's findings came from it
    category: str | None = None
    kind: CaseKind | None = None
    overdue: bool | None = None  # open and its deadline day has passed (as of ``today``)
    escalation_level: int | None = Field(default=None, ge=0, le=4)  # the current level
    deadline_from: date | None = None
    deadline_to: date | None = None
    cadre_id: str | None = None
    case_ids: frozenset[str] | None = None  # an explicit set of cases
    today: date | None = None  # for ``overdue``; default: today in China time


class CaseRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    stream_id: str
    case_id: str
    status: CaseStatus
    light: TrafficLight
    deadline: date | None
    original_deadline: date | None
    escalation_level: int
    highest_escalation_level: int
    overdue: bool  # a CaseOverdue event stands for the deadline in force
    unit_id: str
    cadre_id: str
    source: Source
    sources: tuple[Source, ...]
    category: str | None
    kind: CaseKind | None
    title: str
    description: str
    extensions_granted: int
    reopen_count: int
    recorded_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    last_activity: datetime
    version: int


class CasePage(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: tuple[CaseRow, ...]
    next_cursor: str | None  # None on the last page


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _conditions(filters: CaseFilters) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}

    def add(sql: str, **values: Any) -> None:
        where.append(sql)
        params.update(values)

    def one_of(column: str, values: list[str]) -> None:
        # One value as an equality: an index on (column, sort key) then yields the rows
        # in list order (PostgreSQL orders no index scan on ``= ANY(array)``).
        if len(values) == 1:
            add(f"{column} = :{column}", **{column: values[0]})
        else:
            add(f"{column} = ANY(:{column}s)", **{f"{column}s": values})

    f = filters
    if f.statuses is not None:
        one_of("status", sorted(s.value for s in f.statuses))
    if f.lights is not None:
        one_of("light", sorted(v.value for v in f.lights))
    if f.unit_path is not None:
        add(
            "unit_id IN (SELECT unit_id FROM units WHERE path LIKE :unit_path)",
            unit_path=_like_prefix(f.unit_path),
        )
    if f.unit_ids is not None:
        add("unit_id = ANY(:unit_ids)", unit_ids=sorted(f.unit_ids))
    if f.source is not None:
        add(":source = ANY(sources)", source=f.source.value)
    if f.category is not None:
        add("category = :category", category=f.category)
    if f.kind is not None:
        add("kind = :kind", kind=f.kind.value)
    if f.overdue is not None:
        today = f.today or DEFAULT_POLICY.today(datetime.now(UTC))
        overdue = "COALESCE(status = 'open' AND deadline < :today, false)"
        add(overdue if f.overdue else f"NOT {overdue}", today=today)
    if f.escalation_level is not None:
        add("escalation_level = :level", level=f.escalation_level)
    if f.deadline_from is not None:
        add("deadline >= :deadline_from", deadline_from=f.deadline_from)
    if f.deadline_to is not None:
        add("deadline <= :deadline_to", deadline_to=f.deadline_to)
    if f.cadre_id is not None:
        add("cadre_id = :cadre_id", cadre_id=f.cadre_id)
    if f.case_ids is not None:
        add("case_id = ANY(:case_ids)", case_ids=sorted(f.case_ids))
    return where, params


def _encode_cursor(sort: str, key: date | datetime, case_id: str) -> str:
    raw = json.dumps({"s": sort, "k": key.isoformat(), "id": case_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str, kind: str) -> tuple[date | datetime, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if raw["s"] != sort or not isinstance(raw["id"], str):
            raise InvalidCursor("the cursor belongs to another sort")
        key = date.fromisoformat(raw["k"]) if kind == "date" else datetime.fromisoformat(raw["k"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidCursor(f"invalid cursor: {exc}") from exc
    return key, raw["id"]


def _connection(source: Connection | Engine) -> Any:
    return source.connect() if isinstance(source, Engine) else _Borrowed(source)


class _Borrowed:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        return None


def list_cases(
    source: Connection | Engine,
    filters: CaseFilters | None = None,
    sort: CaseSort = "deadline",
    cursor: str | None = None,
    limit: int = 50,
) -> CasePage:
    """One page of cases; ``sort`` with a leading ``-`` is descending; ties by case id."""
    if not 1 <= limit <= 1000:
        raise ValueError("limit must be between 1 and 1000")
    descending = sort.startswith("-")
    expression, kind = _SORT_KEYS[sort.lstrip("-")]
    where, params = _conditions(filters or CaseFilters())
    if cursor is not None:
        key, after_id = _decode_cursor(cursor, sort, kind)
        where.append(f"({expression}, case_id) {'<' if descending else '>'} (:key, :after_id)")
        params.update(key=key, after_id=after_id)
    order = "DESC" if descending else "ASC"
    sql = (
        f"SELECT {', '.join(COLUMNS)}, {expression} AS sort_key FROM {NAME} "  # noqa: S608
        f"{'WHERE ' + ' AND '.join(where) if where else ''} "
        f"ORDER BY {expression} {order}, case_id {order} LIMIT :limit"
    )
    with _connection(source) as conn:
        rows = conn.execute(text(sql), {**params, "limit": limit + 1}).mappings().all()
    items = tuple(CaseRow.model_validate(dict(r)) for r in rows[:limit])
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _encode_cursor(sort, last["sort_key"], last["case_id"])
    return CasePage(items=items, next_cursor=next_cursor)


def iter_cases(
    engine: Engine,
    filters: CaseFilters | None = None,
    sort: CaseSort = "deadline",
    batch: int = 1000,
) -> Generator[list[CaseRow], None, None]:
    """Every case ``list_cases`` would page through, in the same order, read by one
    query through a server-side cursor a batch at a time (for exports: one sort, memory
    of one batch)."""
    descending = sort.startswith("-")
    expression, _ = _SORT_KEYS[sort.lstrip("-")]
    where, params = _conditions(filters or CaseFilters())
    order = "DESC" if descending else "ASC"
    sql = (
        f"SELECT {', '.join(COLUMNS)} FROM {NAME} "  # noqa: S608
        f"{'WHERE ' + ' AND '.join(where) if where else ''} "
        f"ORDER BY {expression} {order}, case_id {order}"
    )
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(
            text(sql), params
        )
        for part in result.mappings().partitions(batch):
            yield [CaseRow.model_validate(dict(r)) for r in part]


def open_cases_of_unit(source: Connection | Engine, unit_id: str) -> list[CaseSummary]:
    """The unit's cases still being worked on (open, or closure pending), by case id."""
    sql = (
        f"SELECT case_id, unit_id, title, description, category FROM {NAME} "  # noqa: S608
        "WHERE unit_id = :unit AND status IN ('open', 'closure_pending') ORDER BY case_id"
    )
    with _connection(source) as conn:
        rows = conn.execute(text(sql), {"unit": unit_id}).mappings().all()
    return [CaseSummary.model_validate(dict(r)) for r in rows]
