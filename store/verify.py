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
  seal_signature  the seal's HMAC does not verify with the key that signed it
  seal_key        the seal names a key that is neither the current nor a retired
                  one, so its signature cannot be checked
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

from store.audit_keys import AuditKeys
from store.chain_checks import (
    Finding,
    Problem,
    bad_hashes,
    bad_heads,
    bad_links,
    bad_rows,
    count_log,
)
from store.merkle import MerkleAccumulator
from store.reading import Checkpoint
from store.seals import Seal, load_seals, merkle_over, seal_chain_problems

__all__ = ["Problem", "VerifyReport", "verify_log"]

_ZERO = bytes(32)


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


def verify_log(
    engine: Engine,
    keys: AuditKeys | bytes | None,
    *,
    stream_id: str | None = None,
    exported: Sequence[dict[str, Any]] = (),
    max_problems: int = 100,
) -> VerifyReport:
    """Check every chain and seal (or, with ``stream_id``, that stream's chain
    and the seals' signatures). Each seal's signature is checked with the key
    it names, current or retired; without keys, signatures are not checked.

    ``exported``: seals an inspector kept outside the system (the dicts of
    ``export_seals``); each must still be in the database, unchanged. Without
    them, someone with database rights could drop the seals and rewrite the
    whole log consistently."""
    report = VerifyReport(max_problems=max_problems)
    with engine.connect() as conn:
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        seals = load_seals(conn)
        report.seals = len(seals)
        for problem in seal_chain_problems(seals, None if keys is None else AuditKeys.of(keys)):
            report.add(problem)
        _check_exported(seals, exported, report)
        if stream_id is not None:
            chains = _check_chains(conn, stream_id, Checkpoint.START, max_problems)
            sealed: list[Finding] = []
            rows, heads = _check_rows(conn, stream_id, report)
        else:
            # Links need a look only after the last seal: a seal is laid only on
            # sound links, and a sealed event cannot change unseen (see
            # store.chain_checks). While a second connection hashes every event
            # (in parallel), this one recomputes the seals' roots and reads the
            # stream rows.
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            links_after = seals[-1].bound if seals else Checkpoint.START
            check = _ChainCheck(engine, snapshot, links_after, max_problems)
            check.start()
            sealed = _check_seal_roots(conn, seals, report)
            rows, heads = _check_rows(conn, None, report)
            chains = check.outcome()
        # First broken link first; the three lists cover different codes or ranges.
        for finding in sorted(chains.findings + sealed + rows, key=lambda f: f.at):
            report.add(finding.problem)
        report.problem_count += chains.unlisted
        for problem in heads:
            report.add(problem)
        conn.rollback()
    return report


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
) -> tuple[list[Finding], list[Problem]]:
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


def _check_seal_roots(conn: Connection, seals: list[Seal], report: VerifyReport) -> list[Finding]:
    """Recompute each seal's root; where one fails, look for the broken links
    in its range, so the report can name the stream and version."""
    driver = conn.connection.driver_connection
    assert driver is not None
    merkle = MerkleAccumulator()
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
        start = seal.bound
    return findings


def _check_seal(
    seal: Seal, merkle: MerkleAccumulator, start: tuple[int, int], report: VerifyReport
) -> bool:
    if merkle.count == seal.event_count and merkle.root() == seal.merkle_root:
        return True
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
    return False
