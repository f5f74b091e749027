"""Recompute the hash chains and the seals; report what does not match.

One pass over the log in (tx_id, position) order does everything: for each
event it recomputes ``sha256(previous_hash || canonical bytes)`` from the
stored fields and follows its stream's chain (versions 1, 2, 3 … each linked
to the hash before), and it feeds the event's leaf to a Merkle accumulator,
checking each seal's root and count as the scan passes the seal's bound. At
the end each stream's row must name its last version and hash.

Problem codes (``Problem.code``):
  hash            the stored fields no longer give the stored hash (content altered)
  link            previous_hash is not the hash of the stream's version before
  version         a version is missing, repeated or out of order
  head            the streams row's version or head hash is not the last event's
  stream_row      events of a stream that has no streams row (or the reverse)
  seal_signature  the seal's HMAC does not verify with the key
  seal_chain      the seal does not chain to the seal before it
  seal_root       the events up to the seal's bound no longer give its root and count
  seal_export     a seal kept outside the system (``export_seals``) is missing from
                  the database or differs from it
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg.types.json import set_json_loads
from sqlalchemy import Connection, Engine, text

from store.canonical import GENESIS, encode_document, format_timestamp
from store.merkle import MerkleAccumulator, event_leaf
from store.seals import Seal, load_seals

__all__ = ["Problem", "VerifyReport", "verify_log"]

_ZERO = bytes(32)
_sha256 = hashlib.sha256
_decode = json.JSONDecoder().decode


def _loads(data: bytes | str) -> Any:
    """jsonb text to Python, without json.loads' encoding detection (jsonb is UTF-8)."""
    return _decode(data if isinstance(data, str) else data.decode("utf-8"))


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


_EVENT_COLUMNS = (
    "position, tx_id::text::bigint, stream_id, version, event_id::text, type, "
    "schema_version, data, metadata, recorded_at, previous_hash, hash"
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
        conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
        seals = load_seals(conn)
        report.seals = len(seals)
        _check_seal_chain(seals, key, report)
        _check_exported(seals, exported, report)
        heads = _stream_heads(conn, stream_id)
        if stream_id is None:
            sql = f"SELECT {_EVENT_COLUMNS} FROM events ORDER BY events.tx_id, events.position"  # noqa: S608
            params: tuple[Any, ...] = ()
        else:
            sql = f"SELECT {_EVENT_COLUMNS} FROM events WHERE stream_id = %s ORDER BY version"  # noqa: S608
            params = (stream_id,)
        chains = _scan(conn, sql, params, seals if stream_id is None else [], report)
        conn.rollback()
    _check_heads(chains, heads, report)
    report.streams = len(chains)
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


def _stream_heads(conn: Connection, stream_id: str | None) -> dict[str, tuple[int, bytes]]:
    sql = "SELECT stream_id, version, head_hash FROM streams"
    rows = (
        conn.execute(text(sql))
        if stream_id is None
        else conn.execute(text(sql + " WHERE stream_id = :id"), {"id": stream_id})
    )
    return {row[0]: (int(row[1]), bytes(row[2])) for row in rows}


def _scan(
    conn: Connection,
    sql: str,
    params: tuple[Any, ...],
    seals: list[Seal],
    report: VerifyReport,
) -> dict[str, list[Any]]:
    """The one pass; returns each stream's [next version, last hash]."""
    chains: dict[str, list[Any]] = {}
    merkle = MerkleAccumulator()
    pending = iter(seals)
    seal = next(pending, None)
    seal_start = (0, 0)
    bound = (seal.up_to_tx_id, seal.up_to_position) if seal else None
    last_moment: datetime | None = None
    last_text = ""
    count = 0
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor(name="zg_verify") as cursor:
        set_json_loads(_loads, cursor)
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(5_000):
            for row in rows:
                (position, tx_id, stream, version, event_id, type_, schema_version) = row[:7]
                data, metadata, recorded_at, previous_hash, stored_hash = row[7:]
                count += 1
                while bound is not None and (tx_id, position) > bound:
                    _check_seal(seal, merkle, seal_start, report)  # type: ignore[arg-type]
                    seal_start = bound
                    seal = next(pending, None)
                    bound = (seal.up_to_tx_id, seal.up_to_position) if seal else None
                if bound is not None:
                    merkle.add(event_leaf(tx_id, position, stored_hash))
                chain = chains.get(stream)
                if chain is None:
                    chain = chains[stream] = [1, GENESIS]
                if version != chain[0]:
                    report.add(
                        Problem(
                            "version", stream, version, expected=str(chain[0]), found=str(version)
                        )
                    )
                if previous_hash != chain[1]:
                    report.add(
                        Problem(
                            "link",
                            stream,
                            version,
                            expected=chain[1].hex(),
                            found=previous_hash.hex(),
                        )
                    )
                if recorded_at != last_moment:
                    last_moment, last_text = recorded_at, format_timestamp(recorded_at)
                document = encode_document(
                    stream, version, event_id, type_, schema_version, data, metadata, last_text
                )
                recomputed = _sha256(previous_hash + document).digest()
                if recomputed != stored_hash:
                    report.add(
                        Problem(
                            "hash",
                            stream,
                            version,
                            expected=recomputed.hex(),
                            found=stored_hash.hex(),
                        )
                    )
                chain[0] = version + 1
                chain[1] = stored_hash
    while seal is not None:
        _check_seal(seal, merkle, seal_start, report)
        seal_start = (seal.up_to_tx_id, seal.up_to_position)
        seal = next(pending, None)
    report.events = count
    return chains


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


def _check_heads(
    chains: dict[str, list[Any]], heads: dict[str, tuple[int, bytes]], report: VerifyReport
) -> None:
    for stream, (next_version, last_hash) in chains.items():
        head = heads.get(stream)
        if head is None:
            report.add(
                Problem("stream_row", stream, next_version - 1, expected="row", found="none")
            )
        elif head != (next_version - 1, last_hash):
            report.add(
                Problem(
                    "head",
                    stream,
                    head[0],
                    expected=f"version {next_version - 1}, hash {last_hash.hex()}",
                    found=f"version {head[0]}, hash {head[1].hex()}",
                )
            )
    for stream, (version, _) in heads.items():
        if stream not in chains and version > 0:
            report.add(Problem("stream_row", stream, version, expected="events", found="none"))
