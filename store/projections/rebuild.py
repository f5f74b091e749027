"""Rebuild a projection from the whole log while the live one keeps serving.

1. Build ``<table>_rebuild`` from every event up to the head (one transaction,
   the live tables untouched; readers and the live runner go on).
2. In one short transaction: lock the live checkpoint row (the runner's batch
   in flight finishes first, the next one waits), apply to the new tables the
   events the live runner processed meanwhile, rename live → ``_old`` and
   ``_rebuild`` → live, drop ``_old``, and set the checkpoint. Readers see the
   old tables or the new ones, never a half; the runner resumes on the new ones
   (its statements name the tables, resolved again after the rename).

Two rebuilds of the same projection exclude each other with an advisory lock.
``rebuild_all`` builds every projection from one pass over the log
(``store.projections.one_pass``) and swaps them all in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from store.projections.base import Build, Progress, Projection
from store.projections.log import head
from store.projections.one_pass import build_all_shared
from store.projections.registry import PROJECTIONS
from store.projections.swap import (
    catch_up,
    copy_tables,
    lock_checkpoint,
    write_checkpoint,
)
from store.reading import Checkpoint

__all__ = ["RebuildBusy", "RebuildResult", "count_events", "rebuild", "rebuild_all"]

SUFFIX = "_rebuild"
_LOCK = "SELECT pg_try_advisory_lock(hashtextextended('rebuild:' || %s, 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended('rebuild:' || %s, 0))"


class RebuildBusy(RuntimeError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a rebuild of {name} is already running")
        self.name = name


@dataclass(frozen=True, slots=True)
class RebuildResult:
    name: str
    built_to: Checkpoint  # the head the build read up to
    checkpoint: Checkpoint  # where the swapped-in tables stand
    caught_up: int  # events applied after the build, in the swap


def _nothing(_: int) -> None:
    return None


def count_events(engine: Engine, bound: Checkpoint | None = None) -> int:
    """Events at or before ``bound`` (default: the head), for a progress bar's total."""
    with engine.connect() as conn:
        bound = bound or head(conn)
        row = conn.exec_driver_sql(
            "SELECT count(*) FROM events WHERE (tx_id, position) <= (%s::text::xid8, %s)",
            (str(bound.tx_id), bound.position),
        ).scalar()
    return int(row or 0)


def rebuild(
    engine: Engine,
    projection: Projection,
    *,
    on_start: Callable[[Checkpoint], None] = lambda _: None,
    progress: Progress = _nothing,
) -> RebuildResult:
    """Rebuild one projection with its own build."""
    return _rebuild(engine, (projection,), projection.build, on_start, progress)[0]


def rebuild_all(
    engine: Engine,
    *,
    on_start: Callable[[Checkpoint], None] = lambda _: None,
    progress: Progress = _nothing,
) -> list[RebuildResult]:
    """Rebuild every projection from one pass over the log (``one_pass.build_all``), and
    swap them all in in one transaction (each caught up to its live checkpoint)."""
    return _rebuild(engine, tuple(PROJECTIONS.values()), build_all_shared, on_start, progress)


def _lock(conn: Connection, projections: Sequence[Projection]) -> None:
    """Take each projection's rebuild lock, or none of them (RebuildBusy)."""
    taken: list[str] = []
    for projection in projections:
        if not conn.exec_driver_sql(_LOCK, (projection.name,)).scalar():
            for name in taken:
                conn.exec_driver_sql(_UNLOCK, (name,))
            conn.commit()
            raise RebuildBusy(projection.name)
        taken.append(projection.name)
    conn.commit()


def _rebuild(
    engine: Engine,
    projections: Sequence[Projection],
    build: Build,
    on_start: Callable[[Checkpoint], None],
    progress: Progress,
) -> list[RebuildResult]:
    with engine.connect() as conn:
        _lock(conn, projections)
        try:
            with conn.begin():
                # Committed before the build, so that its worker processes can write
                # into them (``one_pass.build_all_shared``); dropped below if it fails,
                # and by the next rebuild if this process dies.
                for projection in projections:
                    copy_tables(conn, projection, SUFFIX, temp=False)
            with conn.begin():
                # The build's commits need not wait for their WAL (all its rows) to
                # reach the disk: the swap's commit below waits for it first, and a
                # crash before that loses only the built copies, never the live tables.
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                built_to = head(conn)
                on_start(built_to)
                build(conn, SUFFIX, built_to, progress)
                # Planner statistics before the swap: a fresh table has none until
                # autovacuum comes by, and the case list's plans then walk whole indexes
                # (hundreds of ms a page at 100k cases instead of a few).
                for projection in projections:
                    for table in projection.tables:
                        conn.exec_driver_sql(f"ANALYZE {table}{SUFFIX}")
            with conn.begin():
                # Every checkpoint row first (the registry's order): each live runner
                # finishes its batch in flight, and the next waits for the swap.
                lives = [lock_checkpoint(conn, p.name) for p in projections]
                results = []
                for projection, live in zip(projections, lives, strict=True):
                    caught_up = 0
                    if live > built_to:
                        caught_up = catch_up(conn, projection, SUFFIX, built_to, live)
                    for table in projection.tables:
                        conn.exec_driver_sql(f"ALTER TABLE {table} RENAME TO {table}_old")
                        conn.exec_driver_sql(f"ALTER TABLE {table}{SUFFIX} RENAME TO {table}")
                        conn.exec_driver_sql(f"DROP TABLE {table}_old")
                    final = max(live, built_to)
                    write_checkpoint(conn, projection.name, final)
                    results.append(RebuildResult(projection.name, built_to, final, caught_up))
        finally:
            if conn.in_transaction():
                conn.rollback()
            with conn.begin():
                for projection in projections:  # left behind by a failed build
                    for table in projection.tables:
                        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}{SUFFIX}")
            for projection in projections:
                conn.exec_driver_sql(_UNLOCK, (projection.name,))
            conn.commit()
    return results
