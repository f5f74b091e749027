"""Building every read model in one pass over the log: each case stream is read and
folded once for the case summary, the unit board and the cadre archive together.

Built one after the other, the three read the log three times and fold each case
three times; a rebuild of all of them (``zhenggai projections rebuild``) would take the
sum. Here the archive's chunks of cadres (``cadre_archive.in_chunks``) read each
event whole, but those that none of the three needs the content of (``_TIME_ONLY``:
about half of a log), and ``archive_fold.case_facts_and_state`` gives, from one
fold of a case, the archive's facts and the state the other two read models are made
of. A
stream named by cadres of two chunks is read by both; its summary and board rows
come from the chunk that counts it (``counted_here``), so each is written once.
Streams that name no cadre are in no chunk (every case names its cadre from its
finding, so this finds none in a real log): they are read afterwards.

The rows are the same, to the byte, as each projection's own build gives: the same
functions of the same facts (``summary_row``, ``board_case_row``, ``archive_rows``),
checked by the tests that compare this build with the others.

Where the tables to fill are committed ones (a rebuild's, ``tables_shared``), each
worker writes its chunk's rows itself, in its own transaction, which commits: the
rows (about 3.6 MB a chunk, mostly archive documents) then cross no pipe to the
build process and are not sent on from there, which cost about a twentieth of a
100k-event rebuild's CPU, and the last chunk's rows are written by the worker that
computed them. A check's scratch copy is temporary, seen only by the check's own
session, so the workers hand their rows back and the build writes them.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import psycopg
from sqlalchemy import Connection

from domain.policy import DEFAULT_POLICY
from domain.state import LOOSE_TYPES
from store.projections import cadre_archive, case_summary, unit_board
from store.projections.archive_fold import ArchiveCaseFacts, case_facts_and_state
from store.projections.base import Progress
from store.projections.facts import CaseFacts, case_facts, facts_of
from store.projections.log import domain_records, read_streams
from store.projections.swap import defer_indexes
from store.projections.write import binary_rows, copy_binary, copy_rows
from store.reading import Checkpoint

__all__ = ["build_all", "build_all_shared"]

_UNLINKED_BATCH = 1000  # streams read at once by the pass over streams in no chunk
# Events read for their business time alone: the state's loose types, whose content
# neither the archive needs (they are in TIME_ONLY) nor the summary and the board (they
# change only fields of the state that ``summary_row`` and ``board_case_row`` do not
# read; the property tests check both).
_TIME_ONLY = LOOSE_TYPES

# A chunk's rows (the archive's, the summary's, the board's, in COPY's binary form), and
# the events the chunk counts.
_ChunkResult = tuple[bytes, bytes, bytes, int]


def _add_rows(
    facts: CaseFacts | None, summaries: list[tuple[Any, ...]], boards: list[tuple[Any, ...]]
) -> None:
    """A case's summary row, and its board row when the board counts it (opened, not
    withdrawn); None: the stream is not a case."""
    if facts is not None:
        summaries.append(case_summary.summary_row(facts))
        if (board := unit_board.board_case_row(facts)) is not None:
            boards.append(board)


def _chunk_all(
    conn: Connection | psycopg.Connection[Any], job: cadre_archive.ChunkJob
) -> _ChunkResult:
    mine = set(job[1])
    cases: dict[str, ArchiveCaseFacts] = {}
    summaries: list[tuple[Any, ...]] = []
    boards: list[tuple[Any, ...]] = []
    events = 0
    for stream_id, rows in cadre_archive.read_chunk(conn, job, time_only=_TIME_ONLY):
        records = cadre_archive.chunk_records(rows)
        cases[stream_id], state = case_facts_and_state(records, DEFAULT_POLICY)
        if not cadre_archive.counted_here(rows, mine):
            continue
        events += len(rows)
        if records:
            _add_rows(facts_of(stream_id, state, records[0].event), summaries, boards)
    archive = cadre_archive.chunk_archive_rows(job, cases)
    return archive, binary_rows(summaries), binary_rows(boards), events


def _chunk_written(
    suffix: str, conn: Connection | psycopg.Connection[Any], job: cadre_archive.ChunkJob
) -> int:
    """``_chunk_all``, its rows written into the ``<table><suffix>`` of the three
    read models with ``conn``; the events the chunk counts."""
    if isinstance(conn, psycopg.Connection):  # a worker's own transaction, which commits
        # Like the build's, its commit need not wait for the WAL: the swap's does.
        conn.execute("SET LOCAL synchronous_commit = off")
    archive, summaries, boards, events = _chunk_all(conn, job)
    copy_binary(conn, f"{cadre_archive.NAME}{suffix}", cadre_archive.ARCHIVE_COLUMNS, archive)
    copy_binary(conn, f"{case_summary.NAME}{suffix}", case_summary.COLUMNS, summaries)
    copy_binary(conn, f"{unit_board.CASES}{suffix}", unit_board.CASE_COLUMNS, boards)
    return events


def _unlinked(conn: Connection, suffix: str) -> list[str]:
    """Streams that no link names (the links table is whole once the chunks are read)."""
    rows = conn.exec_driver_sql(
        "SELECT stream_id FROM streams s WHERE NOT EXISTS ("  # noqa: S608
        f"SELECT 1 FROM {cadre_archive.LINKS}{suffix} l WHERE l.stream_id = s.stream_id"
        ") ORDER BY stream_id"
    )
    return [row[0] for row in rows]


def _build_unlinked(conn: Connection, suffix: str, bound: Checkpoint, progress: Progress) -> None:
    streams = _unlinked(conn, suffix)
    for i in range(0, len(streams), _UNLINKED_BATCH):
        read = read_streams(conn, streams[i : i + _UNLINKED_BATCH], bound)
        summaries: list[tuple[Any, ...]] = []
        boards: list[tuple[Any, ...]] = []
        for events in read.values():
            _add_rows(case_facts(domain_records(events)), summaries, boards)
        copy_rows(conn, f"{case_summary.NAME}{suffix}", case_summary.COLUMNS, summaries)
        copy_rows(conn, f"{unit_board.CASES}{suffix}", unit_board.CASE_COLUMNS, boards)
        progress(sum(len(events) for events in read.values()))


def build_all(
    conn: Connection,
    suffix: str,
    bound: Checkpoint,
    progress: Progress,
    *,
    tables_shared: bool = False,
) -> None:
    """Fill the empty ``<table><suffix>`` of the three read models from every event at
    or before ``bound``, in the connection's transaction; with ``tables_shared`` (the
    tables are committed, so other sessions see them), the workers write the chunks'
    rows in transactions of their own."""
    summary = f"{case_summary.NAME}{suffix}"
    board_cases = f"{unit_board.CASES}{suffix}"
    archive = f"{cadre_archive.NAME}{suffix}"
    if tables_shared:
        # The summary's and board's indexes stay: built here while the workers write,
        # the build's lock on the table would hold back their rows until it commits.
        written = partial(_chunk_written, suffix)
        for events in cadre_archive.in_chunks(conn, suffix, bound, written):
            progress(events)
    else:
        # Their secondary indexes are built once every chunk is handed out, not after
        # the last one is written: one core would be idle while they are.
        deferred = defer_indexes(conn, summary) + defer_indexes(conn, board_cases)
        for archive_rows, summaries, boards, events in cadre_archive.in_chunks(
            conn, suffix, bound, _chunk_all, indexes=deferred
        ):
            copy_binary(conn, archive, cadre_archive.ARCHIVE_COLUMNS, archive_rows)
            copy_binary(conn, summary, case_summary.COLUMNS, summaries)
            copy_binary(conn, board_cases, unit_board.CASE_COLUMNS, boards)
            progress(events)
    _build_unlinked(conn, suffix, bound, progress)
    unit_board.sum_board(conn, suffix)


# A rebuild's: its tables are committed before the build starts.
build_all_shared = partial(build_all, tables_shared=True)
