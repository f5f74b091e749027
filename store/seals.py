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

Sealing first checks that the log still matches the previous seal and that
every link of the range it is about to cover is sound: a seal is never laid
over a log that was altered since, nor over a broken chain.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from store.audit_keys import MIN_KEY_BYTES, AuditKeys, key_id
from store.canonical import format_timestamp
from store.chain_checks import Problem, bad_links
from store.errors import SealError
from store.merkle import MerkleAccumulator
from store.reading import Checkpoint

__all__ = [
    "MIN_KEY_BYTES",
    "AuditKeys",
    "Seal",
    "SealOutcome",
    "export_seals",
    "key_id",
    "load_seals",
    "merkle_over",
    "seal_chain_problems",
    "seal_log",
    "sign",
]

_DOMAIN = b"zhenggai-seal-v1\n"
_ZERO = bytes(32)


@dataclass(frozen=True, slots=True)
class Seal:
    seq: int
    sealed_at: datetime
    up_to_tx_id: int
    up_to_position: int
    event_count: int
    merkle_root: bytes
    previous_signature: bytes
    key_id: str
    signature: bytes

    @property
    def bound(self) -> Checkpoint:
        return Checkpoint(self.up_to_tx_id, self.up_to_position)

    def message(self) -> bytes:
        body = {
            "seq": self.seq,
            "sealed_at": format_timestamp(self.sealed_at),
            "up_to_tx_id": self.up_to_tx_id,
            "up_to_position": self.up_to_position,
            "event_count": self.event_count,
            "merkle_root": self.merkle_root.hex(),
            "previous_signature": self.previous_signature.hex(),
            "key_id": self.key_id,
        }
        return _DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def signed_by(self, key: bytes) -> bool:
        return hmac.compare_digest(sign(key, self), self.signature)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "sealed_at": format_timestamp(self.sealed_at),
            "up_to_tx_id": self.up_to_tx_id,
            "up_to_position": self.up_to_position,
            "event_count": self.event_count,
            "merkle_root": self.merkle_root.hex(),
            "previous_signature": self.previous_signature.hex(),
            "key_id": self.key_id,
            "signature": self.signature.hex(),
        }


def sign(key: bytes, seal: Seal) -> bytes:
    return hmac.new(key, seal.message(), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class SealOutcome:
    seal: Seal | None  # the new seal, or the latest one when nothing was new
    created: bool


_SEAL_COLUMNS = (
    "seq, sealed_at, up_to_tx_id::text::bigint, up_to_position, event_count, "
    "merkle_root, previous_signature, key_id, signature"
)


def load_seals(conn: Connection) -> list[Seal]:
    rows = conn.execute(text(f"SELECT {_SEAL_COLUMNS} FROM seals ORDER BY seq"))  # noqa: S608
    return [
        Seal(
            seq=int(r[0]),
            sealed_at=r[1],
            up_to_tx_id=int(r[2]),
            up_to_position=int(r[3]),
            event_count=int(r[4]),
            merkle_root=bytes(r[5]),
            previous_signature=bytes(r[6]),
            key_id=str(r[7]),
            signature=bytes(r[8]),
        )
        for r in rows
    ]


def merkle_over(
    conn: Connection, after: Checkpoint, up_to: Checkpoint, accumulator: MerkleAccumulator
) -> None:
    """Add to ``accumulator`` the hash of every event after ``after`` up to
    ``up_to``, in log order. Read from the (tx_id, position) index, which
    carries the hash, in binary, and hashed a block at a time."""
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor(name="zg_leaves", binary=True) as cursor:
        cursor.execute(
            "SELECT hash FROM events "
            "WHERE (tx_id, position) > (%s::text::xid8, %s) "
            "AND (tx_id, position) <= (%s::text::xid8, %s) "
            "ORDER BY events.tx_id, events.position",
            (str(after.tx_id), after.position, str(up_to.tx_id), up_to.position),
        )
        while rows := cursor.fetchmany(32_768):
            accumulator.extend([row[0] for row in rows])


def seal_log(
    engine: Engine, keys: AuditKeys | bytes, *, now: datetime | None = None
) -> SealOutcome:
    """Seal every finished event with the current key; nothing is written when
    no event is new. Every seal before must verify with the key that signed
    it (the current one, or a retired one after a rotation) and chain to the
    one before it."""
    keys = AuditKeys.of(keys)
    key = keys.current
    with engine.begin() as conn:
        conn.execute(text("LOCK TABLE seals IN EXCLUSIVE MODE"))  # one sealer at a time
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
            return SealOutcome(previous, created=False)
        _check_links(conn, previous.bound if previous else Checkpoint.START, bound)
        accumulator = MerkleAccumulator()
        if previous is not None:  # the log must still match the last seal
            merkle_over(conn, Checkpoint.START, previous.bound, accumulator)
            _check_matches(previous, accumulator)
        merkle_over(conn, previous.bound if previous else Checkpoint.START, bound, accumulator)
        unsigned = Seal(
            seq=1 if previous is None else previous.seq + 1,
            sealed_at=now or datetime.now(UTC),
            up_to_tx_id=bound.tx_id,
            up_to_position=bound.position,
            event_count=accumulator.count,
            merkle_root=accumulator.root(),
            previous_signature=_ZERO if previous is None else previous.signature,
            key_id=key_id(key),
            signature=b"",
        )
        seal = dataclasses.replace(unsigned, signature=sign(key, unsigned))
        conn.execute(
            text(
                "INSERT INTO seals (seq, sealed_at, up_to_tx_id, up_to_position, event_count, "
                "merkle_root, previous_signature, key_id, signature) VALUES (:seq, :sealed_at, "
                "CAST(:tx AS text)::xid8, :position, :count, :root, :previous, :key_id, :signature)"
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
            },
        )
    return SealOutcome(seal, created=True)


def seal_chain_problems(seals: list[Seal], keys: AuditKeys | None) -> list[Problem]:
    """Each seal signed by the key it names (unless ``keys`` is None) and
    chained to the one before it, from the first."""
    problems: list[Problem] = []
    previous_signature = _ZERO
    for expected_seq, seal in enumerate(seals, start=1):
        signer = None if keys is None else keys.by_id(seal.key_id)
        if keys is not None and signer is None:
            problems.append(Problem("seal_key", seal_seq=seal.seq, found=seal.key_id))
        elif signer is not None and not seal.signed_by(signer):
            problems.append(Problem("seal_signature", seal_seq=seal.seq, found=seal.key_id))
        if seal.seq != expected_seq or seal.previous_signature != previous_signature:
            expected, found = previous_signature.hex(), seal.previous_signature.hex()
            problem = Problem("seal_chain", seal_seq=seal.seq, expected=expected, found=found)
            problems.append(problem)
        previous_signature = seal.signature
    return problems


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


def _check_links(conn: Connection, after: Checkpoint, up_to: Checkpoint) -> None:
    """A seal vouches for the links of what it covers (``audit verify`` relies
    on it), so a range with a broken link is not sealed."""
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        broken, _ = bad_links(cursor, None, 1, after, up_to)
    if broken:
        first = broken[0].problem
        raise SealError(
            f"stream {first.stream_id} version {first.version}: {first.code} broken "
            f"(expected {first.expected}, found {first.found}); "
            "run audit verify, nothing was sealed",
            "broken_links",
        )


def _check_matches(previous: Seal, accumulator: MerkleAccumulator) -> None:
    if accumulator.count != previous.event_count or accumulator.root() != previous.merkle_root:
        raise SealError(
            f"the log no longer matches seal #{previous.seq}; run audit verify, nothing was sealed",
            "log_changed",
        )


def export_seals(engine: Engine) -> list[dict[str, Any]]:
    """Every seal as a JSON-ready dict, oldest first (for the inspector to keep)."""
    with engine.connect() as conn:
        return [seal.to_json() for seal in load_seals(conn)]
