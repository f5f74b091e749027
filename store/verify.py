"""Recompute the hash chains and the seals; report what does not match.

The database recomputes every event's ``sha256(previous_hash || canonical
bytes)`` from its stored columns (``event_canonical``, see
``store.canonical``) and joins each event to the one before it in its stream,
in one parallel query that returns only what is wrong. Meanwhile, on a second
connection reading the same snapshot, each seal's Merkle root is recomputed
from the events' hashes in log order. Only the few bad rows and the hashes
travel to Python.

Problem codes (``AuditProblem.code``):
  hash            the stored fields no longer give the stored hash (content altered)
  link            previous_hash is not the hash of the stream's version before
  version         the version before this one is missing (deleted, or never written)
  head            the streams row's version or head hash is not the last event's
  stream_row      events of a stream that has no streams row
  seal_signature  the seal's HMAC does not verify with the key that signed it
  seal_key        the seal names a key that is neither the current nor a retired
                  one, so its signature cannot be checked
  seal_chain      the seal does not chain to the seal before it
  seal_root       the events up to the seal's bound no longer give its root and count
  seal_export     a seal kept outside the system (``export_seals``) is missing from
                  the database or differs from it
  seal_missing    a seal in the witness file (``store.witness``) is not in the database
  seal_witness    a seal in the database differs from the witness file's copy
  seal_streams    a seal's record of a stream (``seal_streams``) does not verify: its
                  HMAC fails, its seal is gone, or the seal's signed count and digest
                  of the streams it names no longer match the records
  sealed_event    a sealed version of a stream no longer has the hash it had when
                  sealed (rewritten, even with the stream's chain recomputed); the
                  first such version of the stream
  sealed_missing  a sealed version of a stream is gone (the stream was truncated)
  seal_coverage   an event lies inside a seal's range but that seal does not name it
                  (its record was removed, or the event was moved or added there)

With ``stream_id`` the check is of that stream only and stays cheap: its events,
and the seals' records of that stream (by index), each checked with its own
HMAC. A stream changed anywhere a seal covered is then named with its first bad
version. Seals laid before migration 0012 name no stream; the log's Merkle roots
(the whole-log check) still cover them.

Problems are listed in log order (the first broken link first), then the
streams' heads.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from store.audit_keys import AuditKeys
from store.chain_checks import (
    AuditProblem,
    Finding,
    bad_hashes,
    bad_heads,
    bad_links,
    bad_rows,
    count_log,
)
from store.merkle import MerkleAccumulator
from store.reading import Checkpoint
from store.seal_records import (
    Seal,
    SealedStream,
    load_sealed_streams,
    load_seals,
    merkle_over,
    seal_chain_problems,
    streams_digest,
)
from store.witness import read_witness

__all__ = ["AuditProblem", "VerifyReport", "verify_for_sealing", "verify_log"]

_ZERO = bytes(32)


@dataclass(slots=True)
class VerifyReport:
    events: int = 0
    streams: int = 0
    seals: int = 0
    problems: list[AuditProblem] = field(default_factory=list)
    problem_count: int = 0  # problems found, also those beyond the kept list
    max_problems: int = 100
    # With ``stream_id``: how many seals name the stream, and the last version they cover.
    sealed_by: int = 0
    sealed_version: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, problem: AuditProblem) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(problem)


def verify_log(
    engine: Engine,
    keys: AuditKeys | bytes | None,
    *,
    stream_id: str | None = None,
    exported: Sequence[dict[str, Any]] = (),
    witness: Path | None = None,
    max_problems: int = 100,
) -> VerifyReport:
    """Check every chain and seal (or, with ``stream_id``, that stream's chain,
    its events against every seal that named it, and the seals' signatures).
    Each seal's signature is checked with the key it names, current or
    retired; without keys, signatures are not checked.

    ``exported``: seals an inspector kept outside the system (the dicts of
    ``export_seals``); ``witness``: the witness file the sealer appends to.
    Each seal there must still be in the database, unchanged. Without them,
    someone with database rights could drop the newest seals and rewrite what
    they covered. An unreadable witness file raises ``WitnessError``."""
    witnessed = [] if witness is None else read_witness(witness)
    report, _ = _verify(engine, keys, stream_id, exported, witnessed, max_problems, None)
    return report


def verify_for_sealing(
    engine: Engine, keys: AuditKeys, snapshot: str, witness: Path | None
) -> tuple[VerifyReport, MerkleAccumulator]:
    """The whole-log check in the sealer's ``snapshot``, and the Merkle
    accumulator up to the last seal's bound (to extend to the new one)."""
    witnessed = [] if witness is None else read_witness(witness)
    return _verify(engine, keys, None, (), witnessed, 100, snapshot)


def _verify(
    engine: Engine,
    keys: AuditKeys | bytes | None,
    stream_id: str | None,
    exported: Sequence[dict[str, Any]],
    witnessed: Sequence[dict[str, Any]],
    max_problems: int,
    snapshot: str | None,
) -> tuple[VerifyReport, MerkleAccumulator]:
    report = VerifyReport(max_problems=max_problems)
    keyring = None if keys is None else AuditKeys.of(keys)
    merkle = MerkleAccumulator()
    with engine.connect() as conn:
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        if snapshot is not None:
            conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        seals = load_seals(conn)
        report.seals = len(seals)
        for problem in seal_chain_problems(seals, keyring):
            report.add(problem)
        _check_kept(seals, exported, report, missing="seal_export", differs="seal_export")
        _check_kept(seals, witnessed, report, missing="seal_missing", differs="seal_witness")
        if stream_id is not None:
            chains = _check_chains(conn, stream_id, Checkpoint.START, max_problems)
            rows, heads = _check_rows(conn, stream_id, report)
            sealed = _check_stream_against_seals(conn, stream_id, seals, keyring, report)
        else:
            # Links need a look only after the last seal: a seal is laid only on
            # sound links, and a sealed event cannot change unseen (see
            # store.chain_checks). While a second connection hashes every event
            # (in parallel), this one recomputes the seals' roots and reads the
            # stream rows.
            if snapshot is None:
                snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            links_after = seals[-1].bound if seals else Checkpoint.START
            check = _ChainCheck(engine, snapshot, links_after, max_problems)
            check.start()
            sealed = _check_seal_roots(conn, seals, report, merkle)
            _check_seal_records(conn, seals, keyring, report)
            rows, heads = _check_rows(conn, None, report)
            chains = check.outcome()
        # First broken link first; the lists cover different codes or ranges.
        for finding in sorted(chains.findings + sealed + rows, key=lambda f: f.at):
            report.add(finding.problem)
        report.problem_count += chains.unlisted
        for problem in heads:
            report.add(problem)
        conn.rollback()
    return report, merkle


def _check_kept(
    seals: list[Seal],
    kept_seals: Sequence[dict[str, Any]],
    report: VerifyReport,
    *,
    missing: str,
    differs: str,
) -> None:
    """Seals kept outside the database (exported, or in the witness file)
    against the database's."""
    stored = {seal.seq: seal.to_json() for seal in seals}
    for kept in kept_seals:
        seq = kept.get("seq")
        now = stored.get(seq) if isinstance(seq, int) else None
        if now is None:
            report.add(AuditProblem(missing, seal_seq=seq, expected="present", found="missing"))
        elif now != kept:
            fields = sorted(k for k in kept.keys() | now.keys() if kept.get(k) != now.get(k))
            report.add(
                AuditProblem(differs, seal_seq=seq, expected="as kept", found=", ".join(fields))
            )


def _record_signed(
    record: SealedStream, seal: Seal | None, keys: AuditKeys | None
) -> AuditProblem | None:
    """Why a seal's record of a stream cannot be trusted, if it cannot."""
    if seal is None or not seal.names_streams:
        return AuditProblem(
            "seal_streams",
            record.stream_id,
            seal_seq=record.seal_seq,
            expected=f"seal #{record.seal_seq} naming streams",
            found="no such seal",
        )
    key = None if keys is None else keys.by_id(seal.key_id)
    if key is not None and not record.signed_by(key):
        return AuditProblem(
            "seal_streams",
            record.stream_id,
            seal_seq=record.seal_seq,
            expected=f"signed with key {seal.key_id}",
            found="signature does not verify",
        )
    return None  # a key we lack is reported once, on the seal itself


def _check_stream_against_seals(
    conn: Connection,
    stream_id: str,
    seals: list[Seal],
    keys: AuditKeys | None,
    report: VerifyReport,
) -> list[Finding]:
    """The stream's events against every seal's record of the stream: the
    first version that differs from what was sealed, is gone, or lies in a
    seal's range without being named by it. Reads this stream's rows only."""
    records = load_sealed_streams(conn, stream_id=stream_id, with_hashes=True)
    by_seq = {seal.seq: seal for seal in seals}
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(
            "SELECT version, tx_id::text::bigint, position, hash FROM events "
            "WHERE stream_id = %s ORDER BY version",
            (stream_id,),
        )
        events = {int(v): ((int(tx), int(pos)), bytes(h)) for v, tx, pos, h in cursor.fetchall()}
    findings: list[Finding] = []
    candidates: list[tuple[int, Finding]] = []
    covered: set[int] = set()
    for record in records:
        seal = by_seq.get(record.seal_seq)
        untrusted = _record_signed(record, seal, keys)
        if untrusted is not None:
            at = (seal.up_to_tx_id, seal.up_to_position) if seal else (0, 0)
            findings.append(Finding(at, untrusted))
            continue
        assert seal is not None
        report.sealed_by += 1
        report.sealed_version = max(report.sealed_version or 0, record.to_version)
        covered.update(range(record.from_version, record.to_version + 1))
        bound = (seal.up_to_tx_id, seal.up_to_position)
        for version in range(record.from_version, record.to_version + 1):
            sealed = record.sealed_hash(version)
            now = events.get(version)
            if now is None:
                problem = AuditProblem(
                    "sealed_missing",
                    stream_id,
                    version,
                    seal_seq=seal.seq,
                    expected=sealed.hex(),
                    found="none",
                )
                candidates.append((version, Finding(bound, problem)))
                break
            if now[1] != sealed:
                problem = AuditProblem(
                    "sealed_event",
                    stream_id,
                    version,
                    seal_seq=seal.seq,
                    expected=sealed.hex(),
                    found=now[1].hex(),
                )
                candidates.append((version, Finding(now[0], problem)))
                break
    ranges = _named_ranges(seals)
    for version, (at, _) in sorted(events.items()):
        if version in covered:
            continue
        seq = next((seq for low, high, seq in ranges if low < at <= high), None)
        if seq is not None:
            problem = AuditProblem(
                "seal_coverage",
                stream_id,
                version,
                seal_seq=seq,
                expected=f"named by seal #{seq}",
                found="not named",
            )
            candidates.append((version, Finding(at, problem)))
            break
    if candidates:  # the first bad version of the stream
        findings.append(min(candidates, key=lambda c: c[0])[1])
    return findings


def _named_ranges(seals: list[Seal]) -> list[tuple[tuple[int, int], tuple[int, int], int]]:
    """The ranges (after, up to] of the seals that name their streams."""
    ranges = []
    low = (0, 0)
    for seal in seals:
        high = (seal.up_to_tx_id, seal.up_to_position)
        if seal.names_streams:
            ranges.append((low, high, seal.seq))
        low = high
    return ranges


def _check_seal_records(
    conn: Connection, seals: list[Seal], keys: AuditKeys | None, report: VerifyReport
) -> None:
    """Every seal's records of the streams it names: each signed, and together
    the count and digest the seal signed (so none was removed or added)."""
    by_seq = {seal.seq: seal for seal in seals}
    per_seal: dict[int, list[SealedStream]] = {}
    for record in load_sealed_streams(conn):
        untrusted = _record_signed(record, by_seq.get(record.seal_seq), keys)
        if untrusted is not None:
            report.add(untrusted)
        per_seal.setdefault(record.seal_seq, []).append(record)
    for seal in seals:
        if not seal.names_streams:
            continue
        records = per_seal.get(seal.seq, [])
        if len(records) != seal.stream_count or streams_digest(records) != seal.streams_digest:
            report.add(
                AuditProblem(
                    "seal_streams",
                    seal_seq=seal.seq,
                    expected=f"{seal.stream_count} streams as signed",
                    found=f"{len(records)} streams, digest differs",
                )
            )


@dataclass(slots=True)
class _Chains:
    findings: list[Finding] = field(default_factory=list)
    unlisted: int = 0  # bad events beyond those listed


def _check_chains(
    conn: Connection, stream_id: str | None, links_after: Checkpoint, limit: int
) -> _Chains:
    """The hashes of every event and the links after ``links_after``."""
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        hashes, bad = bad_hashes(cursor, stream_id, limit)
        links, linked = bad_links(cursor, stream_id, limit, after=links_after)
    return _Chains(hashes + links, max(0, bad - limit) + max(0, linked - limit))


def _check_rows(
    conn: Connection, stream_id: str | None, report: VerifyReport
) -> tuple[list[Finding], list[AuditProblem]]:
    """Counts, stream rows and heads: the cheap part, by index."""
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        report.events, report.streams = count_log(cursor, stream_id)
        rows = bad_rows(cursor, stream_id, report.max_problems)
        heads = bad_heads(cursor, stream_id, report.max_problems)
    return rows, heads


class _ChainCheck(threading.Thread):
    """The chains of the whole log, on a second connection in the caller's snapshot."""

    def __init__(self, engine: Engine, snapshot: str, links_after: Checkpoint, limit: int) -> None:
        super().__init__(name="zg-verify-chains", daemon=True)
        self.engine = engine
        self.snapshot = snapshot
        self.links_after = links_after
        self.limit = limit
        self.result: _Chains | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
                conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
                self.result = _check_chains(conn, None, self.links_after, self.limit)
                conn.rollback()
        except BaseException as exc:  # re-raised in the caller's thread
            self.error = exc

    def outcome(self) -> _Chains:
        self.join()
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def _check_seal_roots(
    conn: Connection, seals: list[Seal], report: VerifyReport, merkle: MerkleAccumulator
) -> list[Finding]:
    """Recompute each seal's root (into ``merkle``); where one fails, look in
    its range for what differs from its records of the streams (a rewrite,
    even with the chain recomputed, or a truncation) and for broken links, so
    the report can name the stream and version."""
    driver = conn.connection.driver_connection
    assert driver is not None
    start = Checkpoint.START
    findings: list[Finding] = []
    for seal in seals:
        if seal.bound < start:
            continue  # out of order: reported by the seal chain check
        merkle_over(conn, start, seal.bound, merkle)
        if not _check_seal(seal, merkle, (start.tx_id, start.position), report):
            with driver.cursor() as cursor:
                links, _ = bad_links(cursor, None, report.max_problems, start, seal.bound)
                findings.extend(links)
                if seal.names_streams:
                    findings.extend(_sealed_differences(cursor, seal, start, report.max_problems))
        start = seal.bound
    return _first_per_stream(findings)


_SEALED_CODES = frozenset({"sealed_event", "sealed_missing", "seal_coverage"})


def _first_per_stream(findings: list[Finding]) -> list[Finding]:
    """A rewrite with the chain recomputed changes every later version, which
    later seals report again: keep each stream's first bad version only."""
    first: dict[str | None, Finding] = {}
    kept: list[Finding] = []
    for finding in findings:
        problem = finding.problem
        if problem.code not in _SEALED_CODES:
            kept.append(finding)
            continue
        seen = first.get(problem.stream_id)
        if seen is None or (problem.version or 0) < (seen.problem.version or 0):
            first[problem.stream_id] = finding
    return kept + list(first.values())


# Per stream the seal names, the first version whose hash is not the sealed one.
_SEALED_DIFFERENCES = """
SELECT DISTINCT ON (h.stream_id) h.stream_id, v.version, h.sealed, e.hash,
       e.tx_id::text::bigint, e.position
FROM seal_streams r
CROSS JOIN LATERAL generate_series(r.from_version, r.to_version) AS v (version)
CROSS JOIN LATERAL (
    SELECT r.stream_id, substring(r.hashes FROM (v.version - r.from_version) * 32 + 1 FOR 32)
) AS h (stream_id, sealed)
LEFT JOIN events e ON e.stream_id = r.stream_id AND e.version = v.version
WHERE r.seal_seq = %(seq)s AND e.hash IS DISTINCT FROM h.sealed
ORDER BY h.stream_id, v.version
LIMIT %(limit)s
"""

# Per stream, the first event in the seal's range that the seal does not name.
_UNNAMED = """
SELECT DISTINCT ON (e.stream_id) e.stream_id, e.version, e.tx_id::text::bigint, e.position
FROM events e
WHERE (e.tx_id, e.position) > (%(after_tx)s::text::xid8, %(after_position)s)
  AND (e.tx_id, e.position) <= (%(up_to_tx)s::text::xid8, %(up_to_position)s)
  AND NOT EXISTS (SELECT 1 FROM seal_streams h
                  WHERE h.stream_id = e.stream_id AND h.seal_seq = %(seq)s
                    AND e.version BETWEEN h.from_version AND h.to_version)
ORDER BY e.stream_id, e.version
LIMIT %(limit)s
"""


def _sealed_differences(cursor: Any, seal: Seal, after: Checkpoint, limit: int) -> list[Finding]:
    bound = (seal.up_to_tx_id, seal.up_to_position)
    cursor.execute(_SEALED_DIFFERENCES, {"seq": seal.seq, "limit": limit})
    findings: list[Finding] = []
    for stream, version, sealed, now, tx_id, position in cursor.fetchall():
        first = int(version)
        if now is None:
            problem = AuditProblem(
                "sealed_missing",
                stream,
                first,
                seal.seq,
                expected=bytes(sealed).hex(),
                found="none",
            )
            findings.append(Finding(bound, problem))
        else:
            problem = AuditProblem(
                "sealed_event",
                stream,
                first,
                seal.seq,
                expected=bytes(sealed).hex(),
                found=bytes(now).hex(),
            )
            findings.append(Finding((int(tx_id), int(position)), problem))
    cursor.execute(
        _UNNAMED,
        {
            "seq": seal.seq,
            "limit": limit,
            "after_tx": str(after.tx_id),
            "after_position": after.position,
            "up_to_tx": str(seal.up_to_tx_id),
            "up_to_position": seal.up_to_position,
        },
    )
    for stream, version, tx_id, position in cursor.fetchall():
        problem = AuditProblem(
            "seal_coverage",
            stream,
            int(version),
            seal.seq,
            expected=f"named by seal #{seal.seq}",
            found="not named",
        )
        findings.append(Finding((int(tx_id), int(position)), problem))
    return findings


def _check_seal(
    seal: Seal, merkle: MerkleAccumulator, start: tuple[int, int], report: VerifyReport
) -> bool:
    if merkle.count == seal.event_count and merkle.root() == seal.merkle_root:
        return True
    report.add(
        AuditProblem(
            "seal_root",
            seal_seq=seal.seq,
            expected=f"{seal.event_count} events, root {seal.merkle_root.hex()}",
            found=f"{merkle.count} events, root {merkle.root().hex()}; "
            f"changed between position {start[1]} (tx {start[0]}) "
            f"and {seal.up_to_position} (tx {seal.up_to_tx_id})",
        )
    )
    return False
