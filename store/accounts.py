"""Console accounts and sessions (migration 0016): rows only, no policy.

The password hash is made and checked by ``application.accounts``; a session's
cookie value is random and only its SHA-256 is stored here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from store.errors import StoreError

__all__ = ["AccountExists", "AccountRecord", "AccountUnitNotFound", "Accounts", "SessionRecord"]


class AccountExists(StoreError):
    pass


class AccountUnitNotFound(StoreError):
    pass


@dataclass(frozen=True, slots=True)
class AccountRecord:
    account_id: str
    username: str
    display_name: str
    role: str
    unit_id: str | None
    password_hash: str
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    disabled_at: datetime | None
    unit_name: str | None = None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    account: AccountRecord
    csrf_secret: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime


_ACCOUNT = (
    "a.account_id, a.username, a.display_name, a.role, a.unit_id, a.password_hash, "
    "a.failed_attempts, a.locked_until, a.created_at, a.disabled_at, "
    # The unit's name, for the console's header (a unit id means nothing to a person).
    "(SELECT u.name FROM units u WHERE u.unit_id = a.unit_id) AS unit_name"
)


def session_digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class Accounts:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- accounts ---------------------------------------------------------------------

    def create(
        self,
        *,
        account_id: str,
        username: str,
        display_name: str,
        role: str,
        unit_id: str | None,
        password_hash: str,
    ) -> AccountRecord:
        with self._engine.begin() as conn:
            if unit_id is not None:
                found = conn.execute(
                    text("SELECT 1 FROM units WHERE unit_id = :id"), {"id": unit_id}
                ).first()
                if found is None:
                    raise AccountUnitNotFound(f"unit {unit_id} not found")
            try:
                conn.execute(
                    text(
                        "INSERT INTO console_accounts "
                        "(account_id, username, display_name, role, unit_id, password_hash) "
                        "VALUES (:id, :username, :display, :role, :unit, :hash)"
                    ),
                    {
                        "id": account_id,
                        "username": username,
                        "display": display_name,
                        "role": role,
                        "unit": unit_id,
                        "hash": password_hash,
                    },
                )
            except IntegrityError as exc:
                raise AccountExists(f"user name {username} is taken") from exc
        made = self.by_id(account_id)
        assert made is not None
        return made

    def by_username(self, username: str) -> AccountRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                text(f"SELECT {_ACCOUNT} FROM console_accounts a WHERE a.username = :u"),  # noqa: S608
                {"u": username},
            ).first()
        return None if row is None else AccountRecord(*row)

    def by_id(self, account_id: str) -> AccountRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                text(f"SELECT {_ACCOUNT} FROM console_accounts a WHERE a.account_id = :id"),  # noqa: S608
                {"id": account_id},
            ).first()
        return None if row is None else AccountRecord(*row)

    def all_accounts(self) -> list[AccountRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                text(f"SELECT {_ACCOUNT} FROM console_accounts a ORDER BY a.username")  # noqa: S608
            )
            return [AccountRecord(*row) for row in rows]

    def display_names(self, usernames: list[str]) -> dict[str, str]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT username, display_name FROM console_accounts "
                    "WHERE username = ANY(:names)"
                ),
                {"names": usernames},
            )
            return {str(u): str(d) for u, d in rows}

    def record_failure(self, account_id: str, max_failures: int, lock_until: datetime) -> int:
        """One more failed sign-in; at ``max_failures`` the account locks until ``lock_until``
        and the count starts again. Returns the count after this failure."""
        with self._engine.begin() as conn:
            count = conn.execute(
                text(
                    "UPDATE console_accounts SET failed_attempts = failed_attempts + 1 "
                    "WHERE account_id = :id RETURNING failed_attempts"
                ),
                {"id": account_id},
            ).scalar_one()
            if count >= max_failures:
                conn.execute(
                    text(
                        "UPDATE console_accounts SET failed_attempts = 0, locked_until = :until "
                        "WHERE account_id = :id"
                    ),
                    {"id": account_id, "until": lock_until},
                )
        return int(count)

    def record_success(self, account_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE console_accounts SET failed_attempts = 0, locked_until = NULL "
                    "WHERE account_id = :id"
                ),
                {"id": account_id},
            )

    def set_password_hash(self, account_id: str, password_hash: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                text("UPDATE console_accounts SET password_hash = :h WHERE account_id = :id"),
                {"id": account_id, "h": password_hash},
            )

    def set_disabled(self, account_id: str, disabled: bool) -> bool:
        with self._engine.begin() as conn:
            result = conn.execute(
                text(
                    "UPDATE console_accounts SET disabled_at = "
                    "CASE WHEN :d THEN COALESCE(disabled_at, now()) ELSE NULL END "
                    "WHERE account_id = :id"
                ),
                {"id": account_id, "d": disabled},
            )
            if disabled:
                conn.execute(
                    text(
                        "UPDATE console_sessions SET expires_at = now() "
                        "WHERE account_id = :id AND expires_at > now()"
                    ),
                    {"id": account_id},
                )
        return result.rowcount == 1

    # -- sessions ---------------------------------------------------------------------

    def start_session(
        self, secret: str, account_id: str, csrf_secret: str, expires_at: datetime
    ) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO console_sessions (session_hash, account_id, csrf_secret, "
                    "expires_at) VALUES (:h, :account, :csrf, :expires)"
                ),
                {
                    "h": session_digest(secret),
                    "account": account_id,
                    "csrf": csrf_secret,
                    "expires": expires_at,
                },
            )

    def session(self, secret: str) -> SessionRecord | None:
        """The session with this cookie value, whatever its expiry (the caller checks)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                text(
                    f"SELECT {_ACCOUNT}, s.csrf_secret, s.created_at, s.expires_at, "  # noqa: S608
                    "s.last_seen_at FROM console_sessions s "
                    "JOIN console_accounts a USING (account_id) WHERE s.session_hash = :h"
                ),
                {"h": session_digest(secret)},
            ).first()
        if row is None:
            return None
        return SessionRecord(AccountRecord(*row[:11]), *row[11:])

    def touch_session(self, secret: str, seen_at: datetime, expires_at: datetime) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE console_sessions SET last_seen_at = :seen, expires_at = :expires "
                    "WHERE session_hash = :h"
                ),
                {"h": session_digest(secret), "seen": seen_at, "expires": expires_at},
            )

    def end_session(self, secret: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE console_sessions SET expires_at = LEAST(expires_at, now()) "
                    "WHERE session_hash = :h"
                ),
                {"h": session_digest(secret)},
            )

    def end_sessions_of(self, account_id: str, keep: str | None = None) -> None:
        """Every live session of the account but ``keep`` (e.g. after a password change)."""
        kept = session_digest(keep) if keep is not None else b""
        with self._engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE console_sessions SET expires_at = now() "
                    "WHERE account_id = :id AND session_hash <> :keep AND expires_at > now()"
                ),
                {"id": account_id, "keep": kept},
            )
