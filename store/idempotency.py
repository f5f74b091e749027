"""Idempotency keys of POST requests: the first request with a key claims it; a
repeat with the same body gets the first answer; the same key with another body
is refused.

A key belongs to its caller: the scope names the kind of request and the caller
(``commands:<token id>``), so another caller's same key is a new request of theirs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from store.errors import StoreError

__all__ = [
    "IdempotencyKeyReused",
    "IdempotencyKeys",
    "KeyClaim",
    "StoredAnswer",
    "request_fingerprint",
]


class IdempotencyKeyReused(StoreError):
    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was already used with a different request")
        self.key = key


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status: int
    body: Any


@dataclass(frozen=True, slots=True)
class KeyClaim:
    resource_id: str
    replay: bool  # True: this key was seen before, with the same request
    answer: StoredAnswer | None = None  # the first request's answer, once it had one


def request_fingerprint(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyKeys:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(self, scope: str, key: str, fingerprint: str, resource_id: str) -> KeyClaim:
        with self._engine.begin() as conn:
            inserted = conn.execute(
                text(
                    "INSERT INTO idempotency_keys (scope, key, request_hash, resource_id) "
                    "VALUES (:scope, :key, :hash, :resource) "
                    "ON CONFLICT (scope, key) DO NOTHING RETURNING resource_id"
                ),
                {"scope": scope, "key": key, "hash": fingerprint, "resource": resource_id},
            ).first()
            if inserted is not None:
                return KeyClaim(resource_id, replay=False)
            row = conn.execute(
                text(
                    "SELECT request_hash, resource_id, answer_status, answer "
                    "FROM idempotency_keys WHERE scope = :scope AND key = :key"
                ),
                {"scope": scope, "key": key},
            ).one()
        if row.request_hash != fingerprint:
            raise IdempotencyKeyReused(key)
        answer = None if row.answer_status is None else StoredAnswer(row.answer_status, row.answer)
        return KeyClaim(str(row.resource_id), replay=True, answer=answer)

    def resolve(self, scope: str, key: str, resource_id: str) -> None:
        """Point a claimed key at what its first request finally produced."""
        with self._engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE idempotency_keys SET resource_id = :resource "
                    "WHERE scope = :scope AND key = :key"
                ),
                {"scope": scope, "key": key, "resource": resource_id},
            )

    def answer(self, scope: str, key: str, status: int, body: Any) -> None:
        """Keep the first answer of a claimed key; a later one never replaces it."""
        with self._engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE idempotency_keys SET answer_status = :status, "
                    "answer = CAST(:body AS jsonb), answered_at = now() "
                    "WHERE scope = :scope AND key = :key AND answer_status IS NULL"
                ),
                {
                    "scope": scope,
                    "key": key,
                    "status": status,
                    "body": json.dumps(body, ensure_ascii=False),
                },
            )
