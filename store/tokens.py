"""API bearer tokens: shown once at creation; only a SHA-256 of each is stored.

Tokens are 256-bit random values, so a plain SHA-256 (no salt, no slow hash)
is enough: there is nothing to guess from a leaked hash.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text

from store.errors import StoreError

__all__ = ["IssuedToken", "TokenRecord", "TokenUnitNotFound", "Tokens"]

PREFIX = "zg_"


class TokenUnitNotFound(StoreError):
    pass


@dataclass(frozen=True, slots=True)
class TokenRecord:
    token_id: str
    name: str
    role: str
    unit_id: str | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    secret: str  # shown once, never stored
    record: TokenRecord


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class Tokens:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, *, role: str, unit_id: str | None, name: str) -> IssuedToken:
        token_id = secrets.token_hex(6)
        secret = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        with self._engine.begin() as conn:
            if unit_id is not None:
                exists = conn.execute(
                    text("SELECT 1 FROM units WHERE unit_id = :id"), {"id": unit_id}
                ).first()
                if exists is None:
                    raise TokenUnitNotFound(f"unit {unit_id} not found")
            row = conn.execute(
                text(
                    "INSERT INTO api_tokens (token_id, token_hash, name, role, unit_id) "
                    "VALUES (:id, :hash, :name, :role, :unit) "
                    "RETURNING token_id, name, role, unit_id, created_at, revoked_at"
                ),
                {
                    "id": token_id,
                    "hash": _digest(secret),
                    "name": name,
                    "role": role,
                    "unit": unit_id,
                },
            ).one()
        return IssuedToken(secret, TokenRecord(*row))

    def authenticate(self, secret: str) -> TokenRecord | None:
        """The live token with this secret, or None (unknown or revoked)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT token_id, name, role, unit_id, created_at, revoked_at "
                    "FROM api_tokens WHERE token_hash = :hash AND revoked_at IS NULL"
                ),
                {"hash": _digest(secret)},
            ).first()
        return None if row is None else TokenRecord(*row)

    def list(self) -> list[TokenRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT token_id, name, role, unit_id, created_at, revoked_at "
                    "FROM api_tokens ORDER BY created_at, token_id"
                )
            )
            return [TokenRecord(*row) for row in rows]

    def revoke(self, token_id: str) -> bool:
        """True when a live token was revoked; False when none was (unknown or already)."""
        with self._engine.begin() as conn:
            result = conn.execute(
                text(
                    "UPDATE api_tokens SET revoked_at = now() "
                    "WHERE token_id = :id AND revoked_at IS NULL"
                ),
                {"id": token_id},
            )
        return result.rowcount == 1
