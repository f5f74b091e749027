"""Seals: signed Merkle roots over the whole log, chained to each other.

A seal covers every event up to a bound in (tx_id, position) order; the bound
is the last event below the snapshot's xmin, so no event can ever be added
inside a sealed prefix. It stores the RFC 6962 root whose leaves are the
events' chain hashes in log order (each covers every immutable field of its
event and, through the chain, its stream's history), the count, the previous
seal's signature and

    signature = HMAC-SHA256(key, b"zhenggai-seal-v1\\n" + canonical JSON of the other fields)

The key comes from settings (``ZHENGGAI_AUDIT_KEY``; retired keys that still
verify older seals in ``ZHENGGAI_AUDIT_RETIRED_KEYS``, see ``store.audit_keys``)
and is never stored in the database, so someone with database rights who
rewrites events (and their hashes) cannot make matching seals. An inspector keeps ``export_seals``'
output outside the system and can compare it with the database later.

A seal also names the streams it covers (``seal_streams``, from migration
0012): per stream with events in its range, the first and last version and
their hashes, each row with its own HMAC under the seal's key, and the seal
signs how many rows there are and their digest. So one stream can be checked
against every seal that covered it by reading that stream's rows only, and a
sealed event that was rewritten (even with its stream's chain recomputed) or
deleted is named by stream and version. Seals laid before 0012 keep their
first signed form (``zhenggai-seal-v1``) and cover no stream by name.

Sealing first runs ``audit verify`` in the very snapshot it is about to seal
(``store.verify``): a seal is never laid over anything verify reports, be it a
broken link, a log that no longer matches an earlier seal, or a seal missing
from the database that the witness file (``store.witness``) still has. Once
committed, the seal is appended to the witness file, when one is configured.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from store.audit_keys import AuditKeys, key_id
from store.errors import SealError
from store.reading import Checkpoint
from store.seal_records import (
    GENESIS_SIGNATURE,
    Seal,
    SealedStream,
    load_seals,
    merkle_over,
    seal_chain_problems,
    sign,
    streams_digest,
)
from store.verify import VerifyReport, verify_for_sealing
from store.witness import WitnessError, append_seals

__all__ = ["SealOutcome", "SealRefused", "export_seals", "seal_log"]


@dataclass(frozen=True, slots=True)
class SealOutcome:
    seal: Seal | None  # the new seal, or the latest one when nothing was new
    created: bool
    witnessed: int = 0  # seals appended to the witness file
    witness_error: str | None = None  # the seal is made, but the witness could not be written


class SealRefused(SealError):
    """``audit verify`` reports problems in the snapshot to seal: nothing sealed."""

    def __init__(self, report: VerifyReport) -> None:
        first = report.problems[0] if report.problems else None
        where = "" if first is None else f"; first: {first.code} {first.stream_id or ''}"
        super().__init__(
            f"the log does not verify ({report.problem_count} problems{where}); nothing was sealed",
            "log_problems",
        )
        self.report = report


def seal_log(
    engine: Engine,
    keys: AuditKeys | bytes,
    *,
    now: datetime | None = None,
    witness: Path | None = None,
) -> SealOutcome:
    """Seal every finished event with the current key; nothing is written when
    no event is new. Every seal before must verify with the key that signed
    it (the current one, or a retired one after a rotation) and chain to the
    one before it, and the whole log must verify (``store.verify``, with the
    ``witness`` file when given) in the snapshot being sealed: otherwise
    ``SealRefused``, with the report. The committed seal (and any earlier one
    the witness lacks) is then appended to ``witness``."""
    keys = AuditKeys.of(keys)
    key = keys.current
    with engine.begin() as conn:
        # The lock comes before the snapshot (taken by the first query), so
        # the snapshot sees every seal and the sealer is alone.
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        conn.execute(text("LOCK TABLE seals IN EXCLUSIVE MODE"))
        seals = load_seals(conn)
        _check_seal_chain(seals, keys)
        previous = seals[-1] if seals else None
        bound_row = conn.execute(
            text(
                "SELECT tx_id::text::bigint, position FROM events "
                "WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot()) "
                "ORDER BY events.tx_id DESC, events.position DESC LIMIT 1"
            )
        ).first()
        bound = Checkpoint.START if bound_row is None else Checkpoint(*map(int, bound_row))
        if previous is not None and bound <= previous.bound:
            outcome = SealOutcome(previous, created=False)
        else:
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            report, accumulator = verify_for_sealing(engine, keys, str(snapshot), witness)
            if not report.ok:
                raise SealRefused(report)
            after = previous.bound if previous else Checkpoint.START
            merkle_over(conn, after, bound, accumulator)
            seq = 1 if previous is None else previous.seq + 1
            streams = _streams_in(conn, seq, after, bound, key)
            unsigned = Seal(
                seq=seq,
                sealed_at=now or datetime.now(UTC),
                up_to_tx_id=bound.tx_id,
                up_to_position=bound.position,
                event_count=accumulator.count,
                merkle_root=accumulator.root(),
                previous_signature=GENESIS_SIGNATURE if previous is None else previous.signature,
                key_id=key_id(key),
                signature=b"",
                stream_count=len(streams),
                streams_digest=streams_digest(streams),
            )
            made = dataclasses.replace(unsigned, signature=sign(key, unsigned))
            _insert(conn, made, streams)
            seals.append(made)
            outcome = SealOutcome(made, created=True)
    if witness is not None:
        try:
            written = append_seals(witness, [seal.to_json() for seal in seals])
        except WitnessError as exc:
            return dataclasses.replace(outcome, witness_error=str(exc))
        outcome = dataclasses.replace(outcome, witnessed=written)
    return outcome


def _streams_in(
    conn: Connection, seq: int, after: Checkpoint, up_to: Checkpoint, key: bytes
) -> list[SealedStream]:
    """Per stream with events in (after, up_to]: its versions there and their
    hashes, signed. Verify has just found every link sound, so the versions
    are consecutive."""
    rows = conn.execute(
        text(
            "SELECT stream_id, min(version), max(version), count(*), "
            "string_agg(hash, ''::bytea ORDER BY version) FROM events "
            "WHERE (tx_id, position) > (CAST(:after_tx AS text)::xid8, :after_position) "
            "AND (tx_id, position) <= (CAST(:up_to_tx AS text)::xid8, :up_to_position) "
            "GROUP BY stream_id ORDER BY stream_id"
        ),
        {
            "after_tx": str(after.tx_id),
            "after_position": after.position,
            "up_to_tx": str(up_to.tx_id),
            "up_to_position": up_to.position,
        },
    )
    streams: list[SealedStream] = []
    for stream_id, first, last, count, hashes in rows:
        if int(count) != int(last) - int(first) + 1:
            raise SealError(
                f"stream {stream_id}: versions {first} to {last} are not consecutive; "
                "run audit verify, nothing was sealed",
                "broken_links",
            )
        unsigned = SealedStream(
            seal_seq=seq,
            stream_id=str(stream_id),
            from_version=int(first),
            to_version=int(last),
            hashes_digest=hashlib.sha256(bytes(hashes)).digest(),
            mac=b"",
            hashes=bytes(hashes),
        )
        mac = hmac.new(key, unsigned.message(), hashlib.sha256).digest()
        streams.append(dataclasses.replace(unsigned, mac=mac))
    return streams


def _insert(conn: Connection, seal: Seal, streams: list[SealedStream]) -> None:
    conn.execute(
        text(
            "INSERT INTO seals (seq, sealed_at, up_to_tx_id, up_to_position, event_count, "
            "merkle_root, previous_signature, key_id, signature, stream_count, streams_digest) "
            "VALUES (:seq, :sealed_at, CAST(:tx AS text)::xid8, :position, :count, :root, "
            ":previous, :key_id, :signature, :stream_count, :streams_digest)"
        ),
        {
            "seq": seal.seq,
            "sealed_at": seal.sealed_at,
            "tx": str(seal.up_to_tx_id),
            "position": seal.up_to_position,
            "count": seal.event_count,
            "root": seal.merkle_root,
            "previous": seal.previous_signature,
            "key_id": seal.key_id,
            "signature": seal.signature,
            "stream_count": seal.stream_count,
            "streams_digest": seal.streams_digest,
        },
    )
    driver = conn.connection.driver_connection
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(
            "COPY seal_streams (seal_seq, stream_id, from_version, to_version, hashes, mac) "
            "FROM STDIN"
        ) as copy,
    ):
        for entry in streams:
            copy.write_row(
                (
                    entry.seal_seq,
                    entry.stream_id,
                    entry.from_version,
                    entry.to_version,
                    entry.hashes,
                    entry.mac,
                )
            )


# Why sealing stops, by the first problem of the seals already there.
_REFUSALS = {
    "seal_key": ("unknown_key", "was signed with key {key}, which we do not hold"),
    "seal_signature": ("bad_signature", "does not verify with its key {key}"),
    "seal_chain": ("broken_seal_chain", "does not chain to the seal before it"),
}


def _check_seal_chain(seals: list[Seal], keys: AuditKeys) -> None:
    """A new seal extends the chain of seals, so that chain must be sound."""
    problems = seal_chain_problems(seals, keys)
    if not problems:
        return
    first = problems[0]
    reason, what = _REFUSALS[first.code]
    key = next(s.key_id for s in seals if s.seq == first.seal_seq)
    raise SealError(
        f"seal #{first.seal_seq} {what.format(key=key)}; nothing was sealed",
        reason,
        seal_seq=first.seal_seq,
        key_id=key,
    )


def export_seals(engine: Engine) -> list[dict[str, Any]]:
    """Every seal as a JSON-ready dict, oldest first (for the inspector to keep)."""
    with engine.connect() as conn:
        return [seal.to_json() for seal in load_seals(conn)]
