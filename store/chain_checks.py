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

__all__ = ["Finding", "Problem", "bad_content", "bad_heads", "bad_links", "count_log"]


@dataclass(frozen=True, slots=True)
class Problem:
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
    problem: Problem


_RECOMPUTED = (
    "sha256(e.previous_hash || event_canonical(e.stream_id, e.version, e.event_id, e.type, "
    "e.schema_version, e.recorded_at, e.data, e.metadata))"
)

_CONTENT = f"""
SELECT e.tx_id::text::bigint, e.position, e.stream_id, e.version, e.hash, {_RECOMPUTED},
       s.stream_id IS NOT NULL, s.version
FROM events e
LEFT JOIN streams s ON s.stream_id = e.stream_id
WHERE {{scope}} ({_RECOMPUTED} <> e.hash OR s.stream_id IS NULL OR e.version > s.version)
"""  # noqa: S608 - constant text

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
_PLANS = {
    True: ("SET LOCAL enable_nestloop = off", "SET LOCAL enable_mergejoin = off"),
    False: ("SET LOCAL enable_nestloop = on", "SET LOCAL enable_mergejoin = on"),
}

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


def bad_content(cursor: Any, stream_id: str | None, limit: int) -> tuple[list[Finding], int]:
    """Events whose hash or stream row is wrong: the findings (at most about
    ``limit``) and the number of bad events."""
    if stream_id is None:
        for setting in ("SET LOCAL work_mem = '256MB'", *_PLANS[True]):
            cursor.execute(setting)
    sql = _CONTENT.format(scope=_scope("e", stream_id))
    rows, total = _capped(cursor, sql, {"stream": stream_id}, limit)
    found: list[Finding] = []
    for tx_id, position, stream, version, stored, recomputed, has_stream, top in rows:
        at = (int(tx_id), int(position))
        if recomputed != stored:
            problem = Problem(
                "hash", stream, version, expected=recomputed.hex(), found=stored.hex()
            )
            found.append(Finding(at, problem))
        if not has_stream:
            problem = Problem("stream_row", stream, version, expected="row", found="none")
            found.append(Finding(at, problem))
        elif version > top:
            expected, seen = f"at most version {top}", f"version {version}"
            found.append(
                Finding(at, Problem("head", stream, version, expected=expected, found=seen))
            )
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
    for setting in ("SET LOCAL work_mem = '256MB'", *_PLANS[many]):
        cursor.execute(setting)
    sql = _LINKS.format(scope=_scope("e", stream_id))
    rows, total = _capped(cursor, sql, params, limit)
    found: list[Finding] = []
    for tx_id, position, stream, version, previous, has_before, before in rows:
        at = (int(tx_id), int(position))
        if version == 1:
            problem = Problem("link", stream, version, expected=GENESIS.hex(), found=previous.hex())
        elif not has_before:
            expected = f"version {version - 1}"
            problem = Problem("version", stream, version, expected=expected, found="none")
        else:
            problem = Problem("link", stream, version, expected=before.hex(), found=previous.hex())
        found.append(Finding(at, problem))
    return found, total


def bad_heads(cursor: Any, stream_id: str | None, limit: int) -> list[Problem]:
    """Streams whose row does not name their last event."""
    cursor.execute(
        _HEADS.format(scope=_scope("s", stream_id)), {"stream": stream_id, "limit": limit}
    )
    problems = []
    for stream, version, head_hash, last_hash in cursor.fetchall():
        found = "no event" if last_hash is None else f"hash {last_hash.hex()}"
        expected = f"version {version}, hash {head_hash.hex()}"
        problems.append(Problem("head", stream, int(version), expected=expected, found=found))
    return problems
