"""Cadre archive (政绩档案): the domain's archive fold, per cadre and period.

A cadre's rows are a pure function of the streams that name the cadre (as
finding, opening, assignment or transfer target or source, accountability or
exemption subject; ``cadre_archive_links``) at or before the checkpoint:

- ``as_of`` is the latest business time among those events, so "overdue now"
  is judged as the log knows it (the workflow appends ``CaseOverdue`` the day
  a deadline passes, which moves ``as_of`` past it);
- one row per year and per quarter in which any of those events happened;
- the document is ``domain.archive.cadre_archives(...)`` serialised by
  pydantic, stored as text, so a rebuild gives the same bytes.

The fold counts for a cadre only events of streams that name them, so folding
just those streams gives the same figures as folding the whole log. A batch
recomputes the rows of every cadre named by a stream it touches, from those
cadres' streams read back up to the batch's last event; a rebuild computes
every cadre's rows from the same events in chunks of cadres, so its memory
holds one chunk, not the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from domain.archive import CadreArchive, Period, cadre_archives
from domain.archive import RecordedEvent as DomainRecord
from domain.events import EVENT_TYPES
from domain.policy import DEFAULT_POLICY
from store.projections.base import Progress, Projection
from store.projections.log import domain_records, read_streams, scan_streams
from store.projections.write import copy_rows
from store.reading import Checkpoint
from store.records import RecordedEvent

__all__ = ["PROJECTION", "archive_rows", "named_cadres", "read_archive"]

NAME = "cadre_archive"
_LINKS = "cadre_archive_links"
_CADRE_FIELDS = ("cadre_id", "previous_cadre_id")
_CHUNK_STREAMS = 4000


def named_cadres(event_type: str, data: dict[str, Any]) -> set[str]:
    """The cadres a stored case event names (the same two fields the SQL of a build reads)."""
    if event_type not in EVENT_TYPES:
        return set()
    return {v for f in _CADRE_FIELDS if isinstance(v := data.get(f), str)}


def _periods(streams: Sequence[Sequence[DomainRecord]]) -> list[Period]:
    days = {DEFAULT_POLICY.today(r.event.occurred_at) for s in streams for r in s}
    years = {d.year for d in days}
    quarters = {(d.year, (d.month - 1) // 3 + 1) for d in days}
    return [Period(year=y) for y in sorted(years)] + [
        Period(year=y, quarter=q) for y, q in sorted(quarters)
    ]


def archive_rows(
    cadre_id: str, streams: Sequence[Sequence[DomainRecord]]
) -> list[tuple[str, str, datetime, str]]:
    """(cadre, period label, as_of, document) for each period of ``streams``,
    which must be the cadre's streams in stream id order."""
    streams = [s for s in streams if s]
    if not streams:
        return []
    as_of = max(r.event.occurred_at for s in streams for r in s)
    archives = cadre_archives(streams, cadre_id, _periods(streams), as_of)
    return [(cadre_id, a.period.label, as_of, a.model_dump_json()) for a in archives]


def _driver(conn: Connection) -> Any:
    driver = conn.connection.driver_connection
    assert driver is not None
    return driver


def _write(conn: Connection, suffix: str, cadres: Sequence[str], rows: list[Any]) -> None:
    table = f"{NAME}{suffix}"
    with _driver(conn).cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE cadre_id = ANY(%s)", (list(cadres),))  # noqa: S608
    copy_rows(conn, table, ("cadre_id", "period", "as_of", "document"), rows)


def _links_of(conn: Connection, suffix: str, cadres: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {c: [] for c in cadres}
    rows = _driver(conn).execute(
        f"SELECT cadre_id, stream_id FROM {_LINKS}{suffix} "  # noqa: S608
        "WHERE cadre_id = ANY(%s) ORDER BY cadre_id, stream_id",
        (list(cadres),),
    )
    for cadre, stream in rows:
        found[cadre].append(stream)
    return found


def _recompute(
    conn: Connection,
    suffix: str,
    cadres: Sequence[str],
    streams: dict[str, list[DomainRecord]],
    links: dict[str, list[str]],
) -> None:
    rows = [row for c in cadres for row in archive_rows(c, [streams.get(s, []) for s in links[c]])]
    _write(conn, suffix, cadres, rows)


def _apply(
    conn: Connection, suffix: str, batch: Sequence[RecordedEvent], bound: Checkpoint
) -> None:
    new_links = sorted({(e.stream_id, c) for e in batch for c in named_cadres(e.type, e.data)})
    driver = _driver(conn)
    if new_links:
        with driver.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {_LINKS}{suffix} (stream_id, cadre_id) VALUES (%s, %s) "  # noqa: S608
                "ON CONFLICT DO NOTHING",
                new_links,
            )
    touched = sorted({e.stream_id for e in batch if e.type in EVENT_TYPES})
    cadres = [
        row[0]
        for row in driver.execute(
            f"SELECT DISTINCT cadre_id FROM {_LINKS}{suffix} "  # noqa: S608
            "WHERE stream_id = ANY(%s) ORDER BY cadre_id",
            (touched,),
        )
    ]
    if not cadres:
        return
    links = _links_of(conn, suffix, cadres)
    wanted = sorted({s for streams in links.values() for s in streams})
    raw = read_streams(conn, wanted, bound)
    _recompute(conn, suffix, cadres, {s: domain_records(e) for s, e in raw.items()}, links)


_BUILD_LINKS = """
INSERT INTO {links} (stream_id, cadre_id)
SELECT DISTINCT e.stream_id, v.cadre_id
FROM events e, LATERAL (VALUES (e.data->>'cadre_id'), (e.data->>'previous_cadre_id')) v(cadre_id)
WHERE v.cadre_id IS NOT NULL AND e.type = ANY(%s)
  AND (e.tx_id, e.position) <= (%s::text::xid8, %s)
"""


def _chunks(conn: Connection, suffix: str) -> Iterable[list[str]]:
    """Cadres in id order, grouped so that each group names about _CHUNK_STREAMS streams."""
    rows = _driver(conn).execute(
        f"SELECT cadre_id, count(*) FROM {_LINKS}{suffix} GROUP BY cadre_id ORDER BY cadre_id"  # noqa: S608
    )
    chunk: list[str] = []
    size = 0
    for cadre, count in rows.fetchall():
        chunk.append(cadre)
        size += int(count)
        if size >= _CHUNK_STREAMS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _build(conn: Connection, suffix: str, bound: Checkpoint, progress: Progress) -> None:
    links_table = f"{_LINKS}{suffix}"
    conn.exec_driver_sql(
        _BUILD_LINKS.format(links=links_table),
        (sorted(EVENT_TYPES), str(bound.tx_id), bound.position),
    )
    for cadres in _chunks(conn, suffix):
        links = _links_of(conn, suffix, cadres)
        wanted = sorted({s for streams in links.values() for s in streams})
        # A stream shared by cadres of two chunks is counted once, in the first chunk.
        first = dict(
            _driver(conn).execute(
                f"SELECT stream_id, min(cadre_id) FROM {links_table} "  # noqa: S608
                "WHERE stream_id = ANY(%s) GROUP BY stream_id",
                (wanted,),
            )
        )
        in_chunk = set(cadres)
        streams: dict[str, list[DomainRecord]] = {}
        for events in scan_streams(conn, bound, where="AND stream_id = ANY(%s)", params=(wanted,)):
            streams[events[0].stream_id] = domain_records(events)
            if first.get(events[0].stream_id) in in_chunk:
                progress(len(events))
        _recompute(conn, suffix, cadres, streams, links)


PROJECTION = Projection(
    NAME,
    (_LINKS, NAME),
    (("cadre_id", "stream_id"), ("cadre_id", "period")),
    _apply,
    _build,
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
