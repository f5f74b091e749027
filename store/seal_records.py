"""Seals as the database keeps them, and the checks that need no sealing: the seal
and stream-row records (``Seal``, ``SealedStream``), their signed messages, loading
them, the Merkle pass over the log, and whether the chain of seals is sound.

Both sides of the audit read these: ``store.verify`` checks the log against the
seals, ``store.seals`` lays a new one (after running verify). Kept apart from both
so the imports point one way: seals -> verify -> seal_records.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from store.audit_keys import AuditKeys
from store.canonical import format_timestamp
from store.chain_checks import AuditProblem
from store.merkle import MerkleAccumulator
from store.reading import Checkpoint

__all__ = [
    "GENESIS_SIGNATURE",
    "HASH_BYTES",
    "Seal",
    "SealedStream",
    "load_sealed_streams",
    "load_seals",
    "merkle_over",
    "seal_chain_problems",
    "sign",
    "streams_digest",
]

_DOMAIN = b"zhenggai-seal-v1\n"
_DOMAIN_V2 = b"zhenggai-seal-v2\n"
_STREAM_DOMAIN = b"zhenggai-seal-stream-v1\n"
_STREAMS_DIGEST_DOMAIN = b"zhenggai-seal-streams-v1\n"
GENESIS_SIGNATURE = bytes(32)  # what the first seal chains to
HASH_BYTES = 32


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
    # Migration 0012 on: how many streams the seal names, and their digest
    # (``streams_digest``). None on the seals laid before, signed as v1.
    stream_count: int | None = None
    streams_digest: bytes | None = None

    @property
    def bound(self) -> Checkpoint:
        return Checkpoint(self.up_to_tx_id, self.up_to_position)

    @property
    def names_streams(self) -> bool:
        return self.streams_digest is not None

    def message(self) -> bytes:
        body: dict[str, Any] = {
            "seq": self.seq,
            "sealed_at": format_timestamp(self.sealed_at),
            "up_to_tx_id": self.up_to_tx_id,
            "up_to_position": self.up_to_position,
            "event_count": self.event_count,
            "merkle_root": self.merkle_root.hex(),
            "previous_signature": self.previous_signature.hex(),
            "key_id": self.key_id,
        }
        domain = _DOMAIN
        if self.streams_digest is not None:
            domain = _DOMAIN_V2
            body["stream_count"] = self.stream_count
            body["streams_digest"] = self.streams_digest.hex()
        return domain + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def signed_by(self, key: bytes) -> bool:
        return hmac.compare_digest(sign(key, self), self.signature)

    def to_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
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
        if self.streams_digest is not None:
            shown["stream_count"] = self.stream_count
            shown["streams_digest"] = self.streams_digest.hex()
        return shown


def sign(key: bytes, seal: Seal) -> bytes:
    return hmac.new(key, seal.message(), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class SealedStream:
    """What one seal covers of one stream: versions ``from_version`` to
    ``to_version`` and their hashes (``hashes``, 32 bytes each, in version
    order; empty when read without them), whose SHA-256 is ``hashes_digest``."""

    seal_seq: int
    stream_id: str
    from_version: int
    to_version: int
    hashes_digest: bytes
    mac: bytes
    hashes: bytes = b""

    def message(self) -> bytes:
        body = {
            "seq": self.seal_seq,
            "stream_id": self.stream_id,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "hashes": self.hashes_digest.hex(),
        }
        return _STREAM_DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def signed_by(self, key: bytes) -> bool:
        expected = hmac.new(key, self.message(), hashlib.sha256).digest()
        return hmac.compare_digest(expected, self.mac)

    def sealed_hash(self, version: int) -> bytes:
        at = (version - self.from_version) * HASH_BYTES
        return self.hashes[at : at + HASH_BYTES]


def streams_digest(streams: Iterable[SealedStream]) -> bytes:
    """The digest a seal signs over the streams it names, in stream id order."""
    digest = hashlib.sha256(_STREAMS_DIGEST_DOMAIN)
    for entry in sorted(streams, key=lambda e: e.stream_id):
        line = [entry.stream_id, entry.from_version, entry.to_version, entry.hashes_digest.hex()]
        digest.update(json.dumps(line, separators=(",", ":")).encode() + b"\n")
    return digest.digest()


def load_sealed_streams(
    conn: Connection, *, stream_id: str | None = None, with_hashes: bool = False
) -> list[SealedStream]:
    """The seals' rows of one stream (by its index: cheap) or of every stream,
    in (seal, stream) order. Without ``with_hashes`` only their digest travels."""
    hashes = "hashes" if with_hashes else "''::bytea"
    where = "" if stream_id is None else "WHERE stream_id = :stream"
    rows = conn.execute(
        text(
            f"SELECT seal_seq, stream_id, from_version, to_version, sha256(hashes), mac, {hashes} "  # noqa: S608
            f"FROM seal_streams {where} ORDER BY seal_seq, stream_id"
        ),
        {"stream": stream_id},
    )
    return [
        SealedStream(
            seal_seq=int(r[0]),
            stream_id=str(r[1]),
            from_version=int(r[2]),
            to_version=int(r[3]),
            hashes_digest=bytes(r[4]),
            mac=bytes(r[5]),
            hashes=bytes(r[6]),
        )
        for r in rows
    ]


_SEAL_COLUMNS = (
    "seq, sealed_at, up_to_tx_id::text::bigint, up_to_position, event_count, "
    "merkle_root, previous_signature, key_id, signature, stream_count, streams_digest"
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
            stream_count=None if r[9] is None else int(r[9]),
            streams_digest=None if r[10] is None else bytes(r[10]),
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


def seal_chain_problems(seals: list[Seal], keys: AuditKeys | None) -> list[AuditProblem]:
    """Each seal signed by the key it names (unless ``keys`` is None) and
    chained to the one before it, from the first."""
    problems: list[AuditProblem] = []
    previous_signature = GENESIS_SIGNATURE
    for expected_seq, seal in enumerate(seals, start=1):
        signer = None if keys is None else keys.by_id(seal.key_id)
        if keys is not None and signer is None:
            problems.append(AuditProblem("seal_key", seal_seq=seal.seq, found=seal.key_id))
        elif signer is not None and not seal.signed_by(signer):
            problems.append(AuditProblem("seal_signature", seal_seq=seal.seq, found=seal.key_id))
        if seal.seq != expected_seq or seal.previous_signature != previous_signature:
            expected, found = previous_signature.hex(), seal.previous_signature.hex()
            problem = AuditProblem("seal_chain", seal_seq=seal.seq, expected=expected, found=found)
            problems.append(problem)
        previous_signature = seal.signature
    return problems
