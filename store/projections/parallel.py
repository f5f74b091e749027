"""Building in worker processes: a build's independent pieces (ranges of streams,
chunks of cadres) computed by ``WORKERS`` processes at once; the rows come back to
the build, which writes them in its own transaction.

A worker reads with its own connection: every event at or before the build's
bound has committed and stays as it is (``store.projections.log``), so each
process sees the same log the build does. Workers are forked, so they start
without importing anything again; they use nothing of the parent's but the
code, and open their connection in the child. A build of one piece runs in
the build's own process and connection (small logs, tests).
"""

from __future__ import annotations

import gc
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.util import Finalize
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Connection

from domain.policy import DEFAULT_POLICY
from store.projections.log import Span, StreamEvent, scan_span, stream_spans
from store.reading import Checkpoint

__all__ = ["SPAN_STREAMS", "WORKERS", "in_workers", "stream_rows", "worker_connection"]

SPAN_STREAMS = 1000  # streams per piece of a per-stream build
WORKERS = 2  # this machine class has two cores; the server's backends share them
_WINDOW = 2 * WORKERS  # pieces handed out ahead: bounds the rows waiting in memory

Task = TypeVar("Task")
Result = TypeVar("Result")
Row = TypeVar("Row")

_connection: psycopg.Connection[Any] | None = None


def _start(conninfo: str) -> None:
    global _connection
    # What a worker makes (a piece's rows, events, facts, documents) holds no reference
    # cycles, yet each collection of the young generation walks it: about a tenth of a
    # worker's CPU. Leave out the objects inherited from the build process and collect
    # far less often (cycles are still collected).
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
    _connection = psycopg.connect(conninfo, application_name="zhenggai-build")
    Finalize(_connection, _connection.close, exitpriority=10)


def _ready() -> None:
    return None


def worker_connection() -> psycopg.Connection[Any]:
    """The worker process's own connection (each task ends its transaction)."""
    assert _connection is not None, "not in a build worker"
    return _connection


def _conninfo(conn: Connection) -> str:
    url = conn.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def in_workers(
    conn: Connection, function: Callable[[Task], Result], tasks: Iterable[Task]
) -> Iterator[Result]:
    """``map(function, tasks)``, results in task order, computed by ``WORKERS`` forked
    processes. ``tasks`` is drawn in the caller's thread, a few ahead of the results
    (so it may use ``conn`` between two results)."""
    # Made once here for every worker to inherit, not by each one at its first case's
    # traffic light: the working calendar, whose holidays' data module is imported on
    # first use (on a machine without cached bytecode, compiled too: about a twentieth
    # of a worker's CPU in a 100k-event rebuild).
    DEFAULT_POLICY.working_calendar()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        WORKERS, mp_context=context, initializer=_start, initargs=(_conninfo(conn),)
    ) as pool:
        # The processes start (and connect) at the first submit: before the first task
        # is drawn, which may wait for a query (the archive's plan).
        pool.submit(_ready)
        pending: deque[Future[Result]] = deque()
        try:
            for task in tasks:
                pending.append(pool.submit(function, task))
                if len(pending) >= _WINDOW:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _rows_of_span(
    conn: Connection | psycopg.Connection[Any],
    row_of: Callable[[list[StreamEvent]], Row | None],
    bound: Checkpoint,
    span: Span,
) -> tuple[list[Row], int]:
    rows: list[Row] = []
    count = 0
    for events in scan_span(conn, bound, span):
        count += len(events)
        row = row_of(events)
        if row is not None:
            rows.append(row)
    return rows, count


def _span_task(
    job: tuple[Callable[[list[StreamEvent]], Row | None], Checkpoint, Span],
) -> tuple[list[Row], int]:
    conn = worker_connection()
    try:
        return _rows_of_span(conn, *job)
    finally:
        conn.rollback()


def stream_rows(
    conn: Connection, bound: Checkpoint, row_of: Callable[[list[StreamEvent]], Row | None]
) -> Iterator[tuple[list[Row], int]]:
    """``row_of`` each stream at or before ``bound`` (None: no row), in stream id order,
    in pieces of about ``SPAN_STREAMS`` streams: (the piece's rows, events read).
    ``row_of`` must be a module-level function (it is sent to the workers)."""
    spans = stream_spans(conn, SPAN_STREAMS)
    if len(spans) == 1:
        yield _rows_of_span(conn, row_of, bound, spans[0])
        return
    task: Callable[[Any], tuple[list[Row], int]] = _span_task
    yield from in_workers(conn, task, ((row_of, bound, span) for span in spans))
