"""The checks of the per-stream hash chains, as SQL over the stored columns.

Three questions, each one query that returns only what is wrong:

- content: does every event's stored ``hash`` still equal
  ``sha256(previous_hash || event_canonical(its columns))``, and does its
  stream have a row that reaches its version? (a parallel scan of the log)
- links: is each event's ``previous_hash`` the hash of its stream's version
  before (``GENESIS`` for version 1), and is that version there? (a join of
  each event with its predecessor, over a range of the log)
- heads: does each streams row name its last event's version and hash?

``audit verify`` asks all three; ``audit seal`` asks about the links of the
range it is about to seal and refuses a broken one. A sealed event cannot
change without changing its hash (content) or the seal's root, so once a
range is sealed its links need no second look unless its root fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store.canonical import GENESIS
from store.reading import Checkpoint

__all__ = [
    "AuditProblem",
    "Finding",
    "bad_hashes",
    "bad_heads",
    "bad_links",
    "bad_rows",
    "count_log",
]


@dataclass(frozen=True, slots=True)
class AuditProblem:
    code: str
    stream_id: str | None = None
    version: int | None = None
    seal_seq: int | None = None
    expected: str = ""
    found: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem and where it sits in the log, (tx_id, position)."""

    at: tuple[int, int]
    problem: AuditProblem


_RECOMPUTED = (
    "sha256(e.previous_hash || event_canonical(e.stream_id, e.version, e.event_id, e.type, "
    "e.schema_version, e.recorded_at, e.data, e.metadata))"
)

_CONTENT = f"""
SELECT e.tx_id::text::bigint, e.position, e.stream_id, e.version, e.hash, {_RECOMPUTED}
FROM events e
WHERE {{scope}} {_RECOMPUTED} <> e.hash
"""  # noqa: S608 - constant text

# Streams that have events but no row: one index probe per stream (a loose
# index scan over the primary key), not a join of every event.
_ORPHANS = """
WITH RECURSIVE ids (stream_id) AS (
    (SELECT stream_id FROM events ORDER BY stream_id LIMIT 1)
    UNION ALL
    SELECT (SELECT e.stream_id FROM events e WHERE e.stream_id > ids.stream_id
            ORDER BY e.stream_id LIMIT 1)
    FROM ids WHERE ids.stream_id IS NOT NULL
)
SELECT e.tx_id::text::bigint, e.position, e.stream_id, e.version
FROM ids JOIN events e ON e.stream_id = ids.stream_id
WHERE ids.stream_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM streams s WHERE s.stream_id = ids.stream_id)
ORDER BY e.tx_id, e.position
LIMIT %(limit)s
"""

# Events past their stream row's version: versions have no gaps (the links
# and the seals see to that), so the one after the head is enough to look at.
_BEYOND = """
SELECT e.tx_id::text::bigint, e.position, s.stream_id, e.version, s.version
FROM streams s
CROSS JOIN LATERAL (
    SELECT tx_id, position, version FROM events
    WHERE events.stream_id = s.stream_id AND events.version = s.version + 1
    LIMIT 1
) AS e
WHERE {scope} true
ORDER BY e.tx_id, e.position
LIMIT %(limit)s
"""

_LINKS = """
SELECT e.tx_id::text::bigint, e.position, e.stream_id, e.version, e.previous_hash,
       b.version IS NOT NULL, b.hash
FROM events e
LEFT JOIN events b ON b.stream_id = e.stream_id AND b.version = e.version - 1
WHERE {scope} (e.tx_id, e.position) > (%(after_tx)s::text::xid8, %(after_position)s)
  AND (e.tx_id, e.position) <= (%(up_to_tx)s::text::xid8, %(up_to_position)s)
  AND CASE WHEN e.version = 1 THEN e.previous_hash <> %(genesis)s
           ELSE b.hash IS DISTINCT FROM e.previous_hash END
"""

_HEADS = """
SELECT s.stream_id, s.version, s.head_hash, e.hash
FROM streams s
LEFT JOIN events e ON e.stream_id = s.stream_id AND e.version = s.version
WHERE {scope} s.version > 0 AND e.hash IS DISTINCT FROM s.head_hash
ORDER BY s.stream_id
LIMIT %(limit)s
"""

_COUNT_RANGE = (
    "SELECT count(*) FROM events e WHERE {scope} "
    "(e.tx_id, e.position) > (%(after_tx)s::text::xid8, %(after_position)s) "
    "AND (e.tx_id, e.position) <= (%(up_to_tx)s::text::xid8, %(up_to_position)s)"
)

# Beyond this many events, a join probing the predecessor of each event one
# index lookup at a time loses to hashing them all, in parallel.
_HASH_JOIN_FROM = 50_000
# A scan of the whole log: hash joins, in parallel (the planner does not see
# what hashing each row costs and would scan a million events in one process).
_WHOLE_LOG_PLAN = (
    "SET LOCAL work_mem = '256MB'",
    "SET LOCAL parallel_setup_cost = 0",
    "SET LOCAL parallel_tuple_cost = 0",
    "SET LOCAL enable_nestloop = off",
    "SET LOCAL enable_mergejoin = off",
)
# A few events: one index probe each, as the planner would choose.
_FEW_EVENTS_PLAN = (
    "SET LOCAL enable_nestloop = on",
    "SET LOCAL enable_mergejoin = on",
    "SET LOCAL parallel_setup_cost = DEFAULT",
    "SET LOCAL parallel_tuple_cost = DEFAULT",
)

_END = Checkpoint(2**63 - 1, 2**63 - 1)


def _scope(alias: str, stream_id: str | None) -> str:
    return "" if stream_id is None else f"{alias}.stream_id = %(stream)s AND "


def count_log(cursor: Any, stream_id: str | None) -> tuple[int, int]:
    """(events, streams) in the log or in one stream."""
    cursor.execute(
        f"SELECT (SELECT count(*) FROM events e WHERE {_scope('e', stream_id)} true), "  # noqa: S608
        f"(SELECT count(*) FROM streams s WHERE {_scope('s', stream_id)} true)",
        {"stream": stream_id},
    )
    events, streams = cursor.fetchone()
    return int(events), int(streams)


def _capped(cursor: Any, sql: str, params: dict[str, Any], limit: int) -> tuple[list[Any], int]:
    """Up to ``limit`` rows, the first in log order, and how many there are in all.
    A sound log returns nothing, so the unordered (parallel) query runs first."""
    cursor.execute(sql + " LIMIT %(cap)s", {**params, "cap": limit + 1})
    rows = cursor.fetchall()
    if len(rows) <= limit:
        return rows, len(rows)
    cursor.execute(f"{sql} ORDER BY e.tx_id, e.position LIMIT %(cap)s", {**params, "cap": limit})
    rows = cursor.fetchall()
    cursor.execute(f"SELECT count(*) FROM ({sql}) AS bad", params)  # noqa: S608
    return rows, int(cursor.fetchone()[0])


def bad_rows(cursor: Any, stream_id: str | None, limit: int) -> list[Finding]:
    """Events whose stream has no row, or whose version is past the row's."""
    params: dict[str, Any] = {"stream": stream_id, "limit": limit}
    found: list[Finding] = []
    if stream_id is None:
        cursor.execute(_ORPHANS, params)
    else:
        cursor.execute(
            "SELECT tx_id::text::bigint, position, stream_id, version FROM events e "
            "WHERE stream_id = %(stream)s AND NOT EXISTS "
            "(SELECT 1 FROM streams s WHERE s.stream_id = e.stream_id) "
            "ORDER BY version LIMIT %(limit)s",
            params,
        )
    for tx_id, position, stream, version in cursor.fetchall():
        problem = AuditProblem("stream_row", stream, version, expected="row", found="none")
        found.append(Finding((int(tx_id), int(position)), problem))
    cursor.execute(_BEYOND.format(scope=_scope("s", stream_id)), params)
    for tx_id, position, stream, version, top in cursor.fetchall():
        expected, seen = f"at most version {top}", f"version {version}"
        problem = AuditProblem("head", stream, version, expected=expected, found=seen)
        found.append(Finding((int(tx_id), int(position)), problem))
    return found


def bad_hashes(cursor: Any, stream_id: str | None, limit: int) -> tuple[list[Finding], int]:
    """Events whose stored columns no longer give their stored hash: the
    findings (at most ``limit``, the first in log order) and how many in all."""
    if stream_id is None:
        for setting in _WHOLE_LOG_PLAN:
            cursor.execute(setting)
    sql = _CONTENT.format(scope=_scope("e", stream_id))
    rows, total = _capped(cursor, sql, {"stream": stream_id}, limit)
    found: list[Finding] = []
    for tx_id, position, stream, version, stored, recomputed in rows:
        problem = AuditProblem(
            "hash", stream, version, expected=recomputed.hex(), found=stored.hex()
        )
        found.append(Finding((int(tx_id), int(position)), problem))
    return found, total


def bad_links(
    cursor: Any,
    stream_id: str | None,
    limit: int,
    after: Checkpoint = Checkpoint.START,
    up_to: Checkpoint = _END,
) -> tuple[list[Finding], int]:
    """Events in (after, up_to] whose link to the version before is broken."""
    params: dict[str, Any] = {
        "stream": stream_id,
        "genesis": GENESIS,
        "after_tx": str(after.tx_id),
        "after_position": after.position,
        "up_to_tx": str(up_to.tx_id),
        "up_to_position": up_to.position,
    }
    cursor.execute(_COUNT_RANGE.format(scope=_scope("e", stream_id)), params)
    many = int(cursor.fetchone()[0]) > _HASH_JOIN_FROM
    for setting in _WHOLE_LOG_PLAN if many else _FEW_EVENTS_PLAN:
        cursor.execute(setting)
    sql = _LINKS.format(scope=_scope("e", stream_id))
    rows, total = _capped(cursor, sql, params, limit)
    found: list[Finding] = []
    for tx_id, position, stream, version, previous, has_before, before in rows:
        at = (int(tx_id), int(position))
        if version == 1:
            problem = AuditProblem(
                "link", stream, version, expected=GENESIS.hex(), found=previous.hex()
            )
        elif not has_before:
            expected = f"version {version - 1}"
            problem = AuditProblem("version", stream, version, expected=expected, found="none")
        else:
            problem = AuditProblem(
                "link", stream, version, expected=before.hex(), found=previous.hex()
            )
        found.append(Finding(at, problem))
    return found, total


def bad_heads(cursor: Any, stream_id: str | None, limit: int) -> list[AuditProblem]:
    """Streams whose row does not name their last event."""
    cursor.execute(
        _HEADS.format(scope=_scope("s", stream_id)), {"stream": stream_id, "limit": limit}
    )
    problems = []
    for stream, version, head_hash, last_hash in cursor.fetchall():
        found = "no event" if last_hash is None else f"hash {last_hash.hex()}"
        expected = f"version {version}, hash {head_hash.hex()}"
        problems.append(AuditProblem("head", stream, int(version), expected=expected, found=found))
    return problems
