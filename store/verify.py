"""Recompute the hash chains and the seals; report what does not match.

The database recomputes every event's ``sha256(previous_hash || canonical
bytes)`` from its stored columns (``event_canonical``, see
``store.canonical``) and joins each event to the one before it in its stream,
in one parallel query that returns only what is wrong. Meanwhile, on a second
connection reading the same snapshot, each seal's Merkle root is recomputed
from the events' hashes in log order. Only the few bad rows and the hashes
travel to Python.

Problem codes (``Problem.code``):
  hash            the stored fields no longer give the stored hash (content altered)
  link            previous_hash is not the hash of the stream's version before
  version         the version before this one is missing (deleted, or never written)
  head            the streams row's version or head hash is not the last event's
  stream_row      events of a stream that has no streams row
  seal_signature  the seal's HMAC does not verify with the key
  seal_chain      the seal does not chain to the seal before it
  seal_root       the events up to the seal's bound no longer give its root and count
  seal_export     a seal kept outside the system (``export_seals``) is missing from
                  the database or differs from it

Problems are listed in log order (the first broken link first), then the
streams' heads.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, text

from store.merkle import MerkleAccumulator
from store.reading import Checkpoint
from store.seals import Seal, load_seals, merkle_over

__all__ = ["Problem", "VerifyReport", "verify_log"]

_ZERO = bytes(32)


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    stream_id: str | None = None
    version: int | None = None
    seal_seq: int | None = None
    expected: str = ""
    found: str = ""


@dataclass(slots=True)
class VerifyReport:
    events: int = 0
    streams: int = 0
    seals: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0  # problems found, also those beyond the kept list
    max_problems: int = 100

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(problem)


# Every event whose hash, link, version or stream row is wrong, in log order.
_BROKEN = """
SELECT e.tx_id::text::bigint, e.position, e.stream_id, e.version, e.hash,
       sha256(e.previous_hash || event_canonical(e.stream_id, e.version, e.event_id, e.type,
              e.schema_version, e.recorded_at, e.data, e.metadata)) AS recomputed,
       e.previous_hash, b.version IS NOT NULL AS has_before, b.hash AS before_hash,
       s.stream_id IS NOT NULL AS has_stream, s.version AS stream_version
FROM events e
LEFT JOIN events b ON b.stream_id = e.stream_id AND b.version = e.version - 1
LEFT JOIN streams s ON s.stream_id = e.stream_id
WHERE {scope}
  (sha256(e.previous_hash || event_canonical(e.stream_id, e.version, e.event_id, e.type,
          e.schema_version, e.recorded_at, e.data, e.metadata)) <> e.hash
   OR CASE WHEN e.version = 1 THEN e.previous_hash <> %(genesis)s
           ELSE b.hash IS DISTINCT FROM e.previous_hash END
   OR s.stream_id IS NULL
   OR e.version > s.version)
"""

# Streams whose row does not name their last event.
_HEADS = """
SELECT s.stream_id, s.version, s.head_hash, e.hash
FROM streams s
LEFT JOIN events e ON e.stream_id = s.stream_id AND e.version = s.version
WHERE {scope} s.version > 0 AND e.hash IS DISTINCT FROM s.head_hash
ORDER BY s.stream_id
LIMIT %(limit)s
"""

_COUNTS = (
    "SELECT (SELECT count(*) FROM events e WHERE {scope} true), "
    "(SELECT count(*) FROM streams s WHERE {stream_scope} true)"
)

# The whole log is checked with hash joins in parallel: nested loops would
# look up each event's predecessor one index probe at a time.
_WHOLE_LOG = (
    "SET LOCAL work_mem = '256MB'",
    "SET LOCAL enable_nestloop = off",
    "SET LOCAL enable_mergejoin = off",
)


def verify_log(
    engine: Engine,
    key: bytes | None,
    *,
    stream_id: str | None = None,
    exported: Sequence[dict[str, Any]] = (),
    max_problems: int = 100,
) -> VerifyReport:
    """Check every chain and seal (or, with ``stream_id``, that stream's chain
    and the seals' signatures). Without a key, signatures are not checked.

    ``exported``: seals an inspector kept outside the system (the dicts of
    ``export_seals``); each must still be in the database, unchanged. Without
    them, someone with database rights could drop the seals and rewrite the
    whole log consistently."""
    report = VerifyReport(max_problems=max_problems)
    with engine.connect() as conn:
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        seals = load_seals(conn)
        report.seals = len(seals)
        _check_seal_chain(seals, key, report)
        _check_exported(seals, exported, report)
        if stream_id is not None:
            _check_chains(conn, stream_id, report)
        else:
            # The chains on a second connection in the same snapshot, while
            # this one recomputes the seals' roots.
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            chains = _ChainCheck(engine, snapshot, max_problems)
            chains.start()
            roots = VerifyReport(max_problems=max_problems)
            _check_seal_roots(conn, seals, roots)
            chains.join()
            chains.merge_into(report)
            for problem in roots.problems:
                report.add(problem)
            report.problem_count += roots.problem_count - len(roots.problems)
        conn.rollback()
    return report


class _ChainCheck(threading.Thread):
    def __init__(self, engine: Engine, snapshot: str, max_problems: int) -> None:
        super().__init__(name="zg-verify-chains", daemon=True)
        self.engine = engine
        self.snapshot = snapshot
        self.report = VerifyReport(max_problems=max_problems)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
                conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
                _check_chains(conn, None, self.report)
                conn.rollback()
        except BaseException as exc:  # re-raised in the caller's thread
            self.error = exc

    def merge_into(self, report: VerifyReport) -> None:
        if self.error is not None:
            raise self.error
        report.events, report.streams = self.report.events, self.report.streams
        for problem in self.report.problems:
            report.add(problem)
        report.problem_count += self.report.problem_count - len(self.report.problems)


def _check_chains(conn: Connection, stream_id: str | None, report: VerifyReport) -> None:
    driver = conn.connection.driver_connection
    assert driver is not None
    scope = "" if stream_id is None else "e.stream_id = %(stream)s AND "
    stream_scope = "" if stream_id is None else "s.stream_id = %(stream)s AND "
    limit = report.max_problems
    params: dict[str, Any] = {"genesis": _ZERO, "limit": limit + 1, "stream": stream_id}
    broken = _BROKEN.format(scope=scope)
    heads: list[Problem] = []
    with driver.cursor() as cursor:
        cursor.execute(_HEADS.format(scope=stream_scope), params)
        for stream, version, head_hash, last_hash in cursor.fetchall():
            found = "no event" if last_hash is None else f"hash {bytes(last_hash).hex()}"
            expected = f"version {version}, hash {bytes(head_hash).hex()}"
            heads.append(Problem("head", stream, int(version), expected=expected, found=found))
        if stream_id is None:
            for setting in _WHOLE_LOG:
                cursor.execute(setting)
        cursor.execute(_COUNTS.format(scope=scope, stream_scope=stream_scope), params)
        counts = cursor.fetchone()
        assert counts is not None
        report.events, report.streams = int(counts[0]), int(counts[1])
        # Unordered, so the scan can run in parallel; a sound log returns nothing.
        cursor.execute(broken + " LIMIT %(limit)s", params)
        rows = cursor.fetchall()
        if len(rows) > limit:  # badly broken: find the first ones in log order
            cursor.execute(f"{broken} ORDER BY e.tx_id, e.position LIMIT %(limit)s", params)
            rows = cursor.fetchall()
            cursor.execute(f"SELECT count(*) FROM ({broken}) AS bad", params)  # noqa: S608
            bad = cursor.fetchone()
            assert bad is not None
            report.problem_count += int(bad[0]) - len(rows)  # at least one problem each
        for row in sorted(rows, key=lambda row: (row[0], row[1])):
            _report_event(row, report)
    for problem in heads:  # after the events: the first broken link comes first
        report.add(problem)


def _report_event(row: tuple[Any, ...], report: VerifyReport) -> None:
    (_, _, stream, version, stored, recomputed, previous, has_before, before_hash) = row[:9]
    has_stream, stream_version = row[9:]
    if recomputed != stored:
        report.add(
            Problem("hash", stream, version, expected=recomputed.hex(), found=bytes(stored).hex())
        )
    if version == 1 and previous != _ZERO:
        report.add(
            Problem("link", stream, version, expected=_ZERO.hex(), found=bytes(previous).hex())
        )
    elif version != 1 and not has_before:
        report.add(
            Problem("version", stream, version, expected=f"version {version - 1}", found="none")
        )
    elif version != 1 and before_hash != previous:
        report.add(
            Problem(
                "link",
                stream,
                version,
                expected=bytes(before_hash).hex(),
                found=bytes(previous).hex(),
            )
        )
    if not has_stream:
        report.add(Problem("stream_row", stream, version, expected="row", found="none"))
    elif version > stream_version:
        report.add(
            Problem(
                "head",
                stream,
                version,
                expected=f"at most version {stream_version}",
                found=f"version {version}",
            )
        )


def _check_seal_roots(conn: Connection, seals: list[Seal], report: VerifyReport) -> None:
    merkle = MerkleAccumulator()
    start = Checkpoint.START
    for seal in seals:
        if seal.bound < start:
            continue  # out of order: reported by the seal chain check
        merkle_over(conn, start, seal.bound, merkle)
        _check_seal(seal, merkle, (start.tx_id, start.position), report)
        start = seal.bound


def _check_exported(
    seals: list[Seal], exported: Sequence[dict[str, Any]], report: VerifyReport
) -> None:
    stored = {seal.seq: seal.to_json() for seal in seals}
    for kept in exported:
        seq = kept.get("seq")
        now = stored.get(seq) if isinstance(seq, int) else None
        if now is None:
            report.add(Problem("seal_export", seal_seq=seq, expected="present", found="missing"))
        elif now != kept:
            fields = sorted(k for k in kept.keys() | now.keys() if kept.get(k) != now.get(k))
            report.add(
                Problem("seal_export", seal_seq=seq, expected="as kept", found=", ".join(fields))
            )


def _check_seal_chain(seals: list[Seal], key: bytes | None, report: VerifyReport) -> None:
    previous_signature = _ZERO
    for expected_seq, seal in enumerate(seals, start=1):
        if key is not None and not seal.signed_by(key):
            report.add(Problem("seal_signature", seal_seq=seal.seq, found=seal.key_id))
        if seal.seq != expected_seq or seal.previous_signature != previous_signature:
            report.add(
                Problem(
                    "seal_chain",
                    seal_seq=seal.seq,
                    expected=previous_signature.hex(),
                    found=seal.previous_signature.hex(),
                )
            )
        previous_signature = seal.signature


def _check_seal(
    seal: Seal, merkle: MerkleAccumulator, start: tuple[int, int], report: VerifyReport
) -> None:
    if merkle.count != seal.event_count or merkle.root() != seal.merkle_root:
        report.add(
            Problem(
                "seal_root",
                seal_seq=seal.seq,
                expected=f"{seal.event_count} events, root {seal.merkle_root.hex()}",
                found=f"{merkle.count} events, root {merkle.root().hex()}; "
                f"changed between position {start[1]} (tx {start[0]}) "
                f"and {seal.up_to_position} (tx {seal.up_to_tx_id})",
            )
        )
