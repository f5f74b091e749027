"""Cadre archive (政绩档案): the domain's archive fold, per cadre and period.

A cadre's rows are a pure function of the streams that name the cadre (as
finding, opening, assignment or transfer target or source, accountability or
exemption subject; ``cadre_archive_links``) at or before the checkpoint:

- ``as_of`` is the latest business time among those events, so "overdue now"
  is judged as the log knows it (the workflow appends ``CaseOverdue`` the day
  a deadline passes, which moves ``as_of`` past it);
- one row per year and per quarter in which any of those events happened;
- the document is the JSON of ``domain.archive.archives_of(...)`` as pydantic
  serialises it, stored as text, so a rebuild gives the same bytes; it is
  written by ``archive_writer.archive_documents``, which gives that text from
  the same sums without building the models.

Each stream read is folded once (``archive_fold.case_facts``, the domain's fold
made fast), into its ``ArchiveCaseFacts``, and
each cadre's rows are summed from the facts of the cadre's streams.

The fold counts for a cadre only events of streams that name them, so folding
just those streams gives the same figures as folding the whole log. A batch
recomputes the rows of every cadre named by a stream it touches, from those
cadres' streams read back up to the batch's last event; a rebuild computes
every cadre's rows from the same events in chunks of cadres, so its memory
holds one chunk, not the log.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from datetime import datetime
from functools import cache
from itertools import chain, groupby, islice
from operator import itemgetter
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Connection, Engine, text

from domain.archive import CadreArchive, Period
from domain.events import (
    EVENT_TYPES,
    CaseWithdrawn,
    event_from_json_text,
    occurred_at_from_json_text,
    occurred_at_from_text,
)
from domain.policy import DEFAULT_POLICY
from store.projections.archive_fold import (
    TIME_ONLY,
    ArchiveCaseFacts,
    ArchiveEventRow,
    TimeOnly,
    case_facts,
    withdrawn_case_facts,
)
from store.projections.archive_writer import archive_documents
from store.projections.base import Apply, Progress, Projection
from store.projections.facts_memory import FactsMemory
from store.projections.log import (
    StreamEvent,
    case_events,
    domain_records,
    read_streams,
)
from store.projections.parallel import in_workers, worker_connection
from store.projections.swap import defer_indexes
from store.projections.write import binary_rows, copy_binary, copy_rows
from store.reading import Checkpoint
from store.records import RecordedEvent

__all__ = [
    "ARCHIVE_COLUMNS",
    "LINKS",
    "NAME",
    "PROJECTION",
    "ChunkJob",
    "ChunkRow",
    "archive_rows",
    "chunk_archive_rows",
    "chunk_records",
    "counted_here",
    "in_chunks",
    "named_cadres",
    "read_archive",
    "read_chunk",
]

NAME = "cadre_archive"
LINKS = "cadre_archive_links"
_CADRE_FIELDS = ("cadre_id", "previous_cadre_id")
# The case events with a field that names a cadre (events allow no other fields).
_NAMING_TYPES = frozenset(
    name for name, cls in EVENT_TYPES.items() if set(_CADRE_FIELDS) & set(cls.model_fields)
)
_CHUNK_STREAMS = 1000
_MANY_EVENTS = 20_000  # a log this long (by position) has several chunks
ARCHIVE_COLUMNS = ("cadre_id", "period", "as_of", "document")


def named_cadres(event_type: str, data: dict[str, Any]) -> set[str]:
    """The cadres a stored case event names (the same two fields the SQL of a build reads)."""
    if event_type not in _NAMING_TYPES:
        return set()
    return {v for f in _CADRE_FIELDS if isinstance(v := data.get(f), str)}


@cache
def _period(year: int, quarter: int | None) -> Period:
    return Period(year=year, quarter=quarter)


def _periods(cases: Sequence[ArchiveCaseFacts]) -> list[Period]:
    """Each year and each quarter in which an event of ``cases`` happened."""
    quarters = sorted(set[tuple[int, int]]().union(*(c.quarters for c in cases)))
    years = sorted({y for y, _ in quarters})
    return [_period(y, None) for y in years] + [_period(y, q) for y, q in quarters]


_WITHDRAWN = CaseWithdrawn.event_type


def _facts(events: Sequence[StreamEvent]) -> ArchiveCaseFacts:
    """``case_facts`` of the stream's case events; of a withdrawn case, which counts
    nothing, from its events' business times alone (``withdrawn_case_facts``: the
    same facts), so its events' other fields are not validated into models."""
    known = case_events(events)
    if any(e.type == _WITHDRAWN for e in known):
        moments = [occurred_at_from_json_text(e.type, e.schema_version, e.data) for e in known]
        return withdrawn_case_facts(moments, DEFAULT_POLICY)
    return case_facts(domain_records(known), DEFAULT_POLICY)


def archive_rows(
    cadre_id: str, cases: Sequence[ArchiveCaseFacts]
) -> list[tuple[str, str, datetime, str]]:
    """(cadre, period label, as_of, document) for each period of ``cases``, which must
    be the facts of the cadre's streams in stream id order."""
    cases = [c for c in cases if c.last_at is not None]
    if not cases:
        return []
    as_of = max(c.last_at for c in cases if c.last_at is not None)
    periods = _periods(cases)
    documents = archive_documents(cadre_id, cases, periods, as_of, DEFAULT_POLICY)
    return [(cadre_id, p.label, as_of, d) for p, d in zip(periods, documents, strict=True)]


def _rows(
    cadres: Sequence[str], links: dict[str, list[str]], cases: dict[str, ArchiveCaseFacts]
) -> list[tuple[str, str, datetime, str]]:
    """The rows of ``cadres``, from the facts of their linked streams (``cases``)."""
    return [
        row for c in cadres for row in archive_rows(c, [cases[s] for s in links[c] if s in cases])
    ]


def _driver(conn: Connection) -> Any:
    driver = conn.connection.driver_connection
    assert driver is not None
    return driver


def _write(conn: Connection, suffix: str, cadres: Sequence[str], rows: list[Any]) -> None:
    table = f"{NAME}{suffix}"
    with _driver(conn).cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE cadre_id = ANY(%s)", (list(cadres),))  # noqa: S608
    copy_rows(conn, table, ARCHIVE_COLUMNS, rows)


def _links_of(conn: Connection, suffix: str, cadres: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {c: [] for c in cadres}
    rows = _driver(conn).execute(
        f"SELECT cadre_id, stream_id FROM {LINKS}{suffix} "  # noqa: S608
        'WHERE cadre_id = ANY(%s) ORDER BY cadre_id, stream_id COLLATE "C"',
        (list(cadres),),
    )
    for cadre, stream in rows:
        found[cadre].append(stream)
    return found


def _recompute(
    conn: Connection,
    suffix: str,
    cadres: Sequence[str],
    cases: dict[str, ArchiveCaseFacts],
    links: dict[str, list[str]],
) -> None:
    _write(conn, suffix, cadres, _rows(cadres, links, cases))


def _apply(
    conn: Connection,
    suffix: str,
    batch: Sequence[RecordedEvent],
    bound: Checkpoint,
    memory: FactsMemory[ArchiveCaseFacts] | None = None,
) -> None:
    new_links = sorted({(e.stream_id, c) for e in batch for c in named_cadres(e.type, e.data)})
    driver = _driver(conn)
    if new_links:
        with driver.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {LINKS}{suffix} (stream_id, cadre_id) VALUES (%s, %s) "  # noqa: S608
                "ON CONFLICT DO NOTHING",
                new_links,
            )
    touched = sorted({e.stream_id for e in batch if e.type in EVENT_TYPES})
    cadres = [
        row[0]
        for row in driver.execute(
            f"SELECT DISTINCT cadre_id FROM {LINKS}{suffix} "  # noqa: S608
            "WHERE stream_id = ANY(%s) ORDER BY cadre_id",
            (touched,),
        )
    ]
    if not cadres:
        return
    links = _links_of(conn, suffix, cadres)
    wanted = sorted({s for streams in links.values() for s in streams})
    if memory is None:
        facts = {s: _facts(e) for s, e in read_streams(conn, wanted, bound).items()}
    else:
        facts = _facts_remembered(conn, memory, wanted, set(touched), bound)
    _recompute(conn, suffix, cadres, facts, links)


def _facts_remembered(
    conn: Connection,
    memory: FactsMemory[ArchiveCaseFacts],
    wanted: Sequence[str],
    touched: set[str],
    bound: Checkpoint,
) -> dict[str, ArchiveCaseFacts]:
    """The facts of ``wanted``: those the batch did not touch and whose head has not
    moved from memory, the others read and folded (and remembered)."""
    untouched = [s for s in wanted if s not in touched]
    facts = memory.fresh(_driver(conn), untouched)
    unknown = [s for s in wanted if s not in facts]
    for stream_id, events in read_streams(conn, unknown, bound).items():
        facts[stream_id] = _facts(events)
        if events:
            memory.keep(stream_id, events[-1].version, facts[stream_id])
    return facts


# Streams whose facts a runner keeps: a cadre's cases are summed at each event of any of
# them, and a cadre may have hundreds. A case's facts take about 3.3 kB (measured on the
# bench's log), so 10,000 of them about 33 MiB of the projector.
REMEMBERED_STREAMS = 10_000


def _remembering() -> Apply:
    """``_apply`` with a memory of folded streams, one per runner (``Projection.handler``)."""
    memory: FactsMemory[ArchiveCaseFacts] = FactsMemory(REMEMBERED_STREAMS)

    def apply(
        conn: Connection, suffix: str, batch: Sequence[RecordedEvent], bound: Checkpoint
    ) -> None:
        memory.at(bound)
        try:
            _apply(conn, suffix, batch, bound, memory)
        except BaseException:
            memory.clear()  # the batch rolls back: what it folded may be retried otherwise
            raise

    return apply


# Each link of the log up to the bound, straight from the events that name a cadre
# (the same two fields as ``named_cadres``), in (cadre, stream) byte order: one query
# per field, each read in order from its partial index (migration 0009), merged by
# ``_links``. The build writes the links table from this one pass. Byte order is the
# order of Python's strings, so the merge and the chunks' "lowest cadre" agree with
# the database; within a cadre, streams come in the order ``_links_of`` gives them to a
# batch, which is the order ``domain.archive`` sums cases in (stream ids by code point,
# the same as by UTF-8 bytes).
_PLAN = """
SELECT (data->>'{field}') COLLATE "C", stream_id COLLATE "C"
FROM events
WHERE type = ANY(%s) AND (data->>'{field}') IS NOT NULL
    AND (tx_id, position) <= (%s::text::xid8, %s)
ORDER BY 1, 2
"""
# Each field that names a cadre, and the case event types that have it.
_PLAN_FIELDS = {
    field: sorted(name for name in _NAMING_TYPES if field in EVENT_TYPES[name].model_fields)
    for field in _CADRE_FIELDS
}

# A chunk's streams, each in version order. Of an event of a type in ``time_only``
# (TIME_ONLY, or some of it) only its business time is sent, not its data:
# the server skips the JSON output, the worker the parsing (see ``chunk_records``). The
# last two columns are the cadres an event names (as ``_PLAN`` reads them), so a chunk
# knows every cadre of its streams.
_CHUNK_EVENTS = """
SELECT stream_id, event_id::text, type, schema_version,
    CASE WHEN type = ANY(%(time_only)s) THEN NULL ELSE data::text END,
    CASE WHEN type = ANY(%(time_only)s) THEN data->>'occurred_at' END,
    CASE WHEN type = ANY(%(naming)s) THEN data->>'cadre_id' END,
    CASE WHEN type = ANY(%(naming)s) THEN data->>'previous_cadre_id' END
FROM events
WHERE stream_id = ANY(%(streams)s) AND (tx_id, position) <= (%(tx)s::text::xid8, %(pos)s)
ORDER BY stream_id, version
"""

# What a chunk's rows are computed from: (bound, cadres, each cadre's streams, the
# streams to read).
ChunkJob = tuple[Checkpoint, list[str], dict[str, list[str]], list[str]]
# One row of ``_CHUNK_EVENTS``: (stream, event id, type, schema version, data,
# occurred_at text, cadre named, previous cadre named): the data of events of a type in
# TIME_ONLY (read for their business time) is None, the occurred_at text of the others.
ChunkRow = tuple[str, str | None, str, int, str | None, str | None, str | None, str | None]


def _links(conn: Connection, bound: Checkpoint) -> Iterator[tuple[str, str]]:
    """Each (cadre, stream) link at or before ``bound`` once, in byte order: the
    plan's queries, one per field that names a cadre, read with server-side cursors
    (memory holds a few thousand links) and merged."""
    driver = _driver(conn)
    with ExitStack() as stack:
        cursors = []
        for field, types in _PLAN_FIELDS.items():
            cursor = stack.enter_context(driver.cursor(name=f"cadre_archive_plan_{field}"))
            cursor.itersize = 2000
            cursor.execute(_PLAN.format(field=field), (types, str(bound.tx_id), bound.position))
            cursors.append(cursor)
        last = None
        for link in heapq.merge(*cursors):
            # A stream names a cadre in several events (its finding, its opening …).
            if link != last:
                last = link
                yield link


def _jobs(
    conn: Connection, suffix: str, bound: Checkpoint, indexes: Sequence[str]
) -> Iterator[ChunkJob]:
    """Cadres in chunks that each name about _CHUNK_STREAMS streams, read from the
    events in one pass (``_links``: memory holds one chunk); each chunk's
    links are written to the links table as it is handed out. Once the last is, the
    links' indexes left out and ``indexes`` are built."""
    links: dict[str, list[str]] = {}
    size = 0
    table = f"{LINKS}{suffix}"
    deferred = [*defer_indexes(conn, table), *indexes]

    def job() -> ChunkJob:
        rows = ((stream, cadre) for cadre, streams in links.items() for stream in streams)
        copy_binary(conn, table, ("stream_id", "cadre_id"), binary_rows(rows))
        wanted = sorted({s for streams in links.values() for s in streams})
        return bound, list(links), links, wanted

    for cadre, stream in _links(conn, bound):
        if cadre not in links:
            if size >= _CHUNK_STREAMS:
                yield job()
                links, size = {}, 0
            links[cadre] = []
        links[cadre].append(stream)
        size += 1
    if links:
        yield job()
    # Every link is written: build the indexes left out (while the last chunks are
    # computed), the same as those ``copy_tables`` made, and the caller's.
    for definition in deferred:
        _driver(conn).execute(definition)


def chunk_records(rows: Sequence[ChunkRow]) -> list[ArchiveEventRow]:
    """One stream as ``read_chunk`` reads it, as the domain reads a case: events of
    TIME_ONLY types by their business time (when read so), the others parsed; [] when
    the stream is not a case (it does not start with a finding), and events of unknown
    types (other stream kinds) are left out. (A withdrawn case, one in twenty-five in
    the bench's log, is not told apart by the query: ``case_facts`` gives its facts
    from its events' times.)"""
    known = [r for r in rows if r[2] in EVENT_TYPES]
    if not known or known[0][2] != "FindingRecorded":
        return []
    return [
        ArchiveEventRow(
            r[1] or "",
            r[0],
            event_from_json_text(r[2], r[3], r[4])
            if r[4] is not None
            else _time_only(r[2], r[3], r[5] or ""),
        )
        for r in known
    ]


def _time_only(event_type: str, schema_version: int, occurred_at: str) -> TimeOnly:
    if event_type not in TIME_ONLY:  # the query and TIME_ONLY disagree
        raise AssertionError(f"an event of type {event_type} was read for its time only")
    return TimeOnly(event_type, occurred_at_from_text(event_type, schema_version, occurred_at))


def read_chunk(
    conn: Connection | psycopg.Connection[Any],
    job: ChunkJob,
    *,
    time_only: frozenset[str] = TIME_ONLY,
) -> Iterator[tuple[str, list[ChunkRow]]]:
    """The chunk's streams, each with its events in version order; of the events of the
    types in ``time_only`` (some of TIME_ONLY) only the business time is read."""
    if not time_only <= TIME_ONLY:
        raise ValueError(f"not in TIME_ONLY: {sorted(time_only - TIME_ONLY)}")
    bound, _, _, wanted = job
    driver = conn if isinstance(conn, psycopg.Connection) else _driver(conn)
    params = {
        "time_only": sorted(time_only),
        "naming": sorted(_NAMING_TYPES),
        "streams": wanted,
        "tx": str(bound.tx_id),
        "pos": bound.position,
    }
    with driver.cursor(name="cadre_archive_chunk") as cursor:
        cursor.itersize = 10_000
        cursor.execute(_CHUNK_EVENTS, params)
        for stream_id, group in groupby(cursor, itemgetter(0)):
            yield stream_id, list(group)


def counted_here(rows: Sequence[ChunkRow], cadres: set[str]) -> bool:
    """Whether a chunk of ``cadres`` is the one that counts this stream: a stream named
    by cadres of several chunks is read by each of them, and counted (for progress, and
    in one pass for the other read models) in the chunk of its lowest cadre, the one
    where the plan lists it first."""
    named = {c for r in rows for c in (r[6], r[7]) if c is not None}
    return bool(named) and min(named) in cadres


def chunk_archive_rows(job: ChunkJob, cases: dict[str, ArchiveCaseFacts]) -> bytes:
    """The chunk's archive rows, in COPY's binary form, from its streams' facts."""
    _, cadres, links, _ = job
    return binary_rows(_rows(cadres, links, cases))


def _chunk_rows(conn: Connection | psycopg.Connection[Any], job: ChunkJob) -> tuple[bytes, int]:
    """A chunk's rows, in COPY's binary form, and how many events it counts."""
    mine = set(job[1])
    cases: dict[str, ArchiveCaseFacts] = {}
    events_counted = 0
    for stream_id, rows in read_chunk(conn, job):
        cases[stream_id] = case_facts(chunk_records(rows), DEFAULT_POLICY)
        if counted_here(rows, mine):
            events_counted += len(rows)
    return chunk_archive_rows(job, cases), events_counted


Computed = TypeVar("Computed")
ChunkFunction = Callable[[Connection | psycopg.Connection[Any], ChunkJob], Computed]


def _chunk_task(task: tuple[ChunkFunction[Computed], ChunkJob]) -> Computed:
    """``compute`` of a chunk in a worker, in a transaction of its own that commits
    what it wrote (a computation that writes rows itself; most only read)."""
    compute, job = task
    conn = worker_connection()
    try:
        result = compute(conn, job)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return result


def in_chunks(
    conn: Connection,
    suffix: str,
    bound: Checkpoint,
    compute: ChunkFunction[Computed],
    *,
    indexes: Sequence[str] = (),
) -> Iterator[Computed]:
    """``compute`` of each chunk of cadres (``_jobs``: which also writes the links table),
    in worker processes when there are several, each chunk in a worker's transaction
    of its own, which commits; ``compute`` must be a module-level function or a partial
    of one (it is sent to the workers). ``indexes`` (definitions) are built once every
    chunk is handed out, while the last ones are computed: the rows written after that
    go into them one by one, the others are indexed at once."""
    jobs = _jobs(conn, suffix, bound, indexes)
    task: Callable[[tuple[ChunkFunction[Computed], ChunkJob]], Computed] = _chunk_task
    if bound.position >= _MANY_EVENTS:
        # Surely several chunks: the workers start while the plan's query runs.
        yield from in_workers(conn, task, ((compute, job) for job in jobs))
        return
    first = list(islice(jobs, 2))
    if len(first) > 1:
        yield from in_workers(conn, task, ((compute, job) for job in chain(first, jobs)))
    else:
        yield from (compute(conn, job) for job in first)


def _build(conn: Connection, suffix: str, bound: Checkpoint, progress: Progress) -> None:
    for rows, events in in_chunks(conn, suffix, bound, _chunk_rows):
        copy_binary(conn, f"{NAME}{suffix}", ARCHIVE_COLUMNS, rows)
        progress(events)


PROJECTION = Projection(
    NAME,
    (LINKS, NAME),
    (("cadre_id", "stream_id"), ("cadre_id", "period")),
    _apply,
    _build,
    remembering=_remembering,
)


def read_archive(engine: Engine, cadre_id: str, period: Period) -> CadreArchive | None:
    """The projected archive of ``cadre_id`` for ``period``; None when no event of the
    period concerns the cadre (the caller shows all figures zero)."""
    with engine.connect() as conn:
        document = conn.execute(
            text(f"SELECT document FROM {NAME} WHERE cadre_id = :c AND period = :p"),  # noqa: S608
            {"c": cadre_id, "p": period.label},
        ).scalar()
    return None if document is None else CadreArchive.model_validate_json(document)
