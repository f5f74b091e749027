"""Check a live projection against a fresh build from the log, row by row.

The scratch copy (temporary tables, gone with the session) is built up to the
live checkpoint read at the start; then, holding the live checkpoint row lock
(the runner pauses, readers do not), the copy is brought to where the live
tables stand now and the two are compared on their primary keys: a row only in
one of them, or a row whose columns differ, is a difference. ``check_all`` builds
the copies of every projection from one pass over the log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from store.projections.base import Build, Progress, Projection
from store.projections.one_pass import build_all
from store.projections.registry import PROJECTIONS
from store.projections.swap import catch_up, copy_tables, lock_checkpoint
from store.reading import Checkpoint
from store.subscription import read_checkpoint

__all__ = ["CheckReport", "Difference", "check", "check_all"]

SUFFIX = "_check"


@dataclass(frozen=True, slots=True)
class Difference:
    table: str
    key: dict[str, Any]
    live: dict[str, Any] | None  # None: the row is missing from the live table
    rebuilt: dict[str, Any] | None  # None: the log gives no such row

    @property
    def key_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.key.items())

    def columns(self) -> list[str]:
        """The columns whose values differ, when the row is on both sides."""
        if self.live is None or self.rebuilt is None:
            return []
        return sorted(c for c in self.live if self.live.get(c) != self.rebuilt.get(c))

    def changes(self) -> list[tuple[str, Any, Any]]:
        """(what, live value, rebuilt value) of each differing column; a column holding a
        JSON document (an archive's) is opened, so that each figure that differs is
        named (``document.cases_closed``) instead of two documents of kilobytes."""
        if self.live is None or self.rebuilt is None:
            return []
        found: list[tuple[str, Any, Any]] = []
        for column in self.columns():
            live, rebuilt = self.live[column], self.rebuilt[column]
            was, should = _json_object(live), _json_object(rebuilt)
            inner = []
            if was is not None and should is not None:
                inner = [
                    (f"{column}.{k}", was.get(k), should.get(k))
                    for k in sorted(was.keys() | should.keys())
                    if was.get(k) != should.get(k)
                ]
            found.extend(inner or [(column, live, rebuilt)])
        return found

    def describe(self) -> str:
        """In English, for logs and test failures (the command line says it in the
        user's language)."""
        where = f"{self.table} [{self.key_text}]"
        if self.live is None:
            return f"{where}: missing (log: {json.dumps(self.rebuilt, default=str)})"
        if self.rebuilt is None:
            return f"{where}: extra (not in the log's result)"
        parts = "; ".join(f"{c}: {was!r} ≠ {should!r}" for c, was, should in self.changes())
        return f"{where}: {parts}"


def _json_object(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, str) or not value.startswith("{"):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


@dataclass(frozen=True, slots=True)
class CheckReport:
    name: str
    checkpoint: Checkpoint
    rows: int  # rows compared, live side
    differences: tuple[Difference, ...]  # the first ``limit`` of each table, in key order
    difference_count: int = 0  # all of them, listed or not

    @property
    def ok(self) -> bool:
        return not self.differences


def _compare(
    conn: Connection, table: str, key: tuple[str, ...], limit: int
) -> tuple[int, int, list[Difference]]:
    """(rows of the live table, how many rows differ, the first ``limit`` of them)."""
    on = " AND ".join(f"l.{k} = c.{k}" for k in key)
    sql = (
        f"SELECT to_jsonb(l), to_jsonb(c), count(*) OVER () FROM {table} l "  # noqa: S608
        f"FULL JOIN {table}{SUFFIX} c ON {on} "
        "WHERE l::text IS DISTINCT FROM c::text "
        f"ORDER BY {', '.join(f'COALESCE(l.{k}, c.{k})' for k in key)} LIMIT %s"
    )
    found, total = [], 0
    for live, rebuilt, differing in conn.exec_driver_sql(sql, (limit,)):
        either = live if live is not None else rebuilt
        found.append(Difference(table, {k: either[k] for k in key}, live, rebuilt))
        total = differing  # the same on every row: the count before the limit
    rows = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()  # noqa: S608
    return int(rows or 0), int(total), found


OnStart = Callable[[Checkpoint], None]  # told where the scratch build reads up to


def check(
    engine: Engine,
    projection: Projection,
    *,
    on_start: OnStart = lambda _: None,
    progress: Progress = lambda _: None,
    limit: int = 100,
) -> CheckReport:
    """Compare one projection with a fresh build of its own."""
    return _check(engine, (projection,), projection.build, on_start, progress, limit)[0]


def check_all(
    engine: Engine,
    *,
    on_start: OnStart = lambda _: None,
    progress: Progress = lambda _: None,
    limit: int = 100,
) -> list[CheckReport]:
    """Compare every projection with scratch copies built from one pass over the log
    (``one_pass.build_all``), each brought to its own live checkpoint."""
    return _check(engine, tuple(PROJECTIONS.values()), build_all, on_start, progress, limit)


def _check(
    engine: Engine,
    projections: Sequence[Projection],
    build: Build,
    on_start: OnStart,
    progress: Progress,
    limit: int,
) -> list[CheckReport]:
    reports = []
    with engine.connect() as conn:
        try:
            with conn.begin():
                # The copies are built to the earliest live checkpoint, and each is
                # caught up to its own.
                start = min(read_checkpoint(conn, p.name) for p in projections)
                on_start(start)
                for projection in projections:
                    copy_tables(conn, projection, SUFFIX, temp=True)
                build(conn, SUFFIX, start, progress)
            conn.begin()
            lives = [lock_checkpoint(conn, p.name) for p in projections]
            for projection, live in zip(projections, lives, strict=True):
                if live < start:  # a rebuild moved it back meanwhile: build it at its point
                    copy_tables(conn, projection, SUFFIX, temp=True)
                    projection.build(conn, SUFFIX, live, progress)
                else:
                    catch_up(conn, projection, SUFFIX, start, live)
                rows, total, differences = 0, 0, []
                for table, key in zip(projection.tables, projection.keys, strict=True):
                    count, differing, found = _compare(conn, table, key, limit)
                    rows += count
                    total += differing
                    differences.extend(found)
                report = CheckReport(projection.name, live, rows, tuple(differences), total)
                reports.append(report)
        finally:
            conn.rollback()  # releases the checkpoint row locks; the copies' changes go
            for projection in projections:
                for table in projection.tables:
                    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}{SUFFIX}")
            conn.commit()
    return reports
