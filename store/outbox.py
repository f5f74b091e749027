"""The notification outbox: rows written once per causing event, delivered by a dispatcher.

Life of a row: ``pending`` → ``sent`` (delivered), ``dead`` (too many failed
attempts; a human may retry it, back to ``pending``) or ``cancelled`` (its case
was closed or withdrawn before delivery).

A claim is a lease, not a held transaction: the dispatcher moves the claimed
rows' ``next_attempt_at`` a lease ahead and stamps a ``claim_token``, delivers
outside any transaction (an SMTP server may take seconds), then records the
outcome only if it still holds the token. A dispatcher that dies mid-delivery
lets its lease run out and another one takes the row.

Per-case order: a row is not claimed while an earlier row of the same case,
channel and recipient is still pending, so a receiver that was down gets a
case's messages in the order they were written.

Errors: ``OutboxError`` (``code``: not_found, not_retryable) and
``ContactError`` (``code``: unit_not_found, contact_exists), both ``StoreError``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError

from store.errors import StoreError

__all__ = [
    "Channel",
    "Contact",
    "ContactError",
    "ContactRole",
    "NewNotification",
    "Outbox",
    "OutboxError",
    "OutboxRow",
    "OutboxStatus",
    "UnitContacts",
]


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"  # our JSON body, HMAC-signed
    DINGTALK = "dingtalk"  # 钉钉群机器人
    WECOM = "wecom"  # 企业微信群机器人


class ContactRole(StrEnum):
    CONTACT = "contact"  # the responsible unit's contact person (联络人)
    LEADER = "leader"  # the unit's leader: from level 1 (催办)
    SUPERVISING = "supervising"  # the supervising department: from level 2 (督办)
    LISTED = "listed"  # listed-supervision recipients: from level 3 (挂牌督办)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
    CANCELLED = "cancelled"


class OutboxError(StoreError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ContactError(StoreError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Contact:
    contact_id: int
    unit_id: str
    role: ContactRole
    channel: Channel
    address: str
    name: str
    secret: str | None


@dataclass(frozen=True, slots=True)
class NewNotification:
    notice_key: str  # the causing event's id, as the workflow made it
    case_id: str
    stream_id: str
    kind: str
    level: int | None
    channel: Channel
    recipient: str
    payload: dict[str, Any]
    contact_id: int | None = None

    @property
    def idempotency_key(self) -> str:
        return f"{self.notice_key}|{self.channel.value}|{self.recipient}"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    idempotency_key: str
    notice_key: str
    case_id: str
    stream_id: str
    kind: str
    level: int | None
    channel: Channel
    recipient: str
    payload: dict[str, Any]
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    claim_token: uuid.UUID | None = None
    secret: str | None = None  # only on claimed rows: the contact's webhook key

    @property
    def shown_recipient(self) -> str:
        """For listings: robot URLs carry their access token in the query, so it is cut."""
        if self.channel is Channel.EMAIL:
            return self.recipient
        return self.recipient.split("?", 1)[0]


_ROW = (
    "o.id, o.idempotency_key, o.notice_key, o.case_id, o.stream_id, o.kind, o.level, "
    "o.channel, o.recipient, o.payload, o.status, o.attempts, o.next_attempt_at, "
    "o.last_error, o.created_at, o.sent_at, o.claim_token"
)

_CLAIM = f"""
    WITH due AS (
        SELECT o.id FROM notification_outbox o
        WHERE o.status = 'pending' AND o.next_attempt_at <= now()
          AND NOT EXISTS (
              SELECT 1 FROM notification_outbox e
              WHERE e.status = 'pending' AND e.case_id = o.case_id
                AND e.channel = o.channel AND e.recipient = o.recipient AND e.id < o.id)
        ORDER BY o.next_attempt_at, o.id
        LIMIT :limit
        FOR UPDATE OF o SKIP LOCKED
    )
    UPDATE notification_outbox o
    SET next_attempt_at = now() + make_interval(secs => :lease),
        claim_token = :token, updated_at = now()
    FROM due WHERE o.id = due.id
    RETURNING {_ROW}, (SELECT c.secret FROM unit_contacts c WHERE c.contact_id = o.contact_id)
"""  # noqa: S608 - constant text


def _row(m: RowMapping) -> OutboxRow:
    return OutboxRow(
        id=m["id"],
        idempotency_key=m["idempotency_key"],
        notice_key=m["notice_key"],
        case_id=m["case_id"],
        stream_id=m["stream_id"],
        kind=m["kind"],
        level=m["level"],
        channel=Channel(m["channel"]),
        recipient=m["recipient"],
        payload=dict(m["payload"]),
        status=OutboxStatus(m["status"]),
        attempts=m["attempts"],
        next_attempt_at=m["next_attempt_at"],
        last_error=m["last_error"],
        created_at=m["created_at"],
        sent_at=m["sent_at"],
        claim_token=m["claim_token"],
        secret=m.get("secret"),
    )


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def enqueue(self, rows: Sequence[NewNotification]) -> int:
        """Writes the rows not yet there (by idempotency key); returns how many were new."""
        if not rows:
            return 0
        statement = text(
            "INSERT INTO notification_outbox (idempotency_key, notice_key, case_id, stream_id, "
            "kind, level, channel, recipient, contact_id, payload) VALUES (:key, :notice, :case, "
            ":stream, :kind, :level, :channel, :recipient, :contact, :payload) "
            "ON CONFLICT (idempotency_key) DO NOTHING"
        ).bindparams(bindparam("payload", type_=JSONB))
        added = 0
        with self.engine.begin() as conn:
            for r in rows:
                result = conn.execute(
                    statement,
                    {
                        "key": r.idempotency_key,
                        "notice": r.notice_key,
                        "case": r.case_id,
                        "stream": r.stream_id,
                        "kind": r.kind,
                        "level": r.level,
                        "channel": r.channel.value,
                        "recipient": r.recipient,
                        "contact": r.contact_id,
                        "payload": r.payload,
                    },
                )
                added += result.rowcount
        return added

    def claim(self, limit: int = 20, lease_seconds: float = 120.0) -> list[OutboxRow]:
        """Due pending rows, each the earliest pending one of its case and recipient."""
        token = uuid.uuid4()
        with self.engine.begin() as conn:
            found = conn.execute(
                text(_CLAIM), {"limit": limit, "lease": lease_seconds, "token": token}
            ).mappings()
            rows = [_row(m) for m in found]
        return sorted(rows, key=lambda r: r.id)

    def mark_sent(self, row: OutboxRow) -> bool:
        return self._finish(
            row, "sent", None, "status = 'sent', sent_at = now(), last_error = NULL"
        )

    def mark_failed(self, row: OutboxRow, error: str, *, delay: float, max_attempts: int) -> str:
        """One more failed attempt: pending again after ``delay`` seconds, or dead at the cap."""
        dead = row.attempts + 1 >= max_attempts
        outcome = "dead" if dead else "failed"
        status = "status = 'dead'" if dead else "status = 'pending'"
        self._finish(
            row,
            outcome,
            error,
            f"{status}, last_error = :error, "
            "next_attempt_at = now() + make_interval(secs => :delay)",
            delay=delay,
        )
        return outcome

    def cancel(self, row: OutboxRow, reason: str) -> bool:
        """Not attempted (its case is closed or withdrawn): no attempt is counted."""
        with self.engine.begin() as conn:
            result = conn.execute(
                text(
                    "UPDATE notification_outbox SET status = 'cancelled', last_error = :reason, "
                    "claim_token = NULL, updated_at = now() "
                    "WHERE id = :id AND claim_token = :token AND status = 'pending'"
                ),
                {"id": row.id, "token": row.claim_token, "reason": reason},
            )
        return result.rowcount == 1

    def _finish(
        self, row: OutboxRow, outcome: str, error: str | None, assignments: str, **params: Any
    ) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                text(
                    f"UPDATE notification_outbox SET {assignments}, attempts = attempts + 1, "  # noqa: S608
                    "claim_token = NULL, updated_at = now() "
                    "WHERE id = :id AND claim_token = :token AND status = 'pending'"
                ),
                {"id": row.id, "token": row.claim_token, "error": error, **params},
            )
            if result.rowcount != 1:
                return False  # the lease ran out and another dispatcher took the row
            conn.execute(
                text(
                    "INSERT INTO notification_attempts (outbox_id, attempt, outcome, error) "
                    "VALUES (:id, :attempt, :outcome, :error)"
                ),
                {"id": row.id, "attempt": row.attempts + 1, "outcome": outcome, "error": error},
            )
        return True

    def get(self, row_id: int) -> OutboxRow | None:
        with self.engine.connect() as conn:
            return self._get(conn, row_id)

    @staticmethod
    def _get(conn: Connection, row_id: int) -> OutboxRow | None:
        found = (
            conn.execute(
                text(f"SELECT {_ROW} FROM notification_outbox o WHERE o.id = :id"),  # noqa: S608
                {"id": row_id},
            )
            .mappings()
            .first()
        )
        return None if found is None else _row(found)

    def rows(
        self,
        *,
        status: OutboxStatus | None = None,
        case_id: str | None = None,
        limit: int = 100,
    ) -> list[OutboxRow]:
        where = ["TRUE"]
        params: dict[str, Any] = {"limit": limit}
        if status is not None:
            where.append("o.status = :status")
            params["status"] = status.value
        if case_id is not None:
            where.append("o.case_id = :case")
            params["case"] = case_id
        query = (
            f"SELECT {_ROW} FROM notification_outbox o WHERE {' AND '.join(where)} "  # noqa: S608
            "ORDER BY o.id LIMIT :limit"
        )
        with self.engine.connect() as conn:
            return [_row(m) for m in conn.execute(text(query), params).mappings()]

    def attempts(self, row_id: int) -> list[tuple[int, str, str | None, datetime]]:
        """(attempt, outcome, error, when) of every try, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT attempt, outcome, error, attempted_at FROM notification_attempts "
                    "WHERE outbox_id = :id ORDER BY id"
                ),
                {"id": row_id},
            )
            return [(r.attempt, r.outcome, r.error, r.attempted_at) for r in rows]

    def retry(self, row_id: int) -> OutboxRow:
        """By hand: a dead (or waiting) row is due now with a fresh count of attempts."""
        with self.engine.begin() as conn:
            row = self._get(conn, row_id)
            if row is None:
                raise OutboxError("not_found", f"no notification {row_id}")
            if row.status not in (OutboxStatus.DEAD, OutboxStatus.PENDING):
                raise OutboxError(
                    "not_retryable", f"notification {row_id} is {row.status.value}, not dead"
                )
            conn.execute(
                text(
                    "UPDATE notification_outbox SET status = 'pending', attempts = 0, "
                    "next_attempt_at = now(), claim_token = NULL, updated_at = now() "
                    "WHERE id = :id"
                ),
                {"id": row_id},
            )
            retried = self._get(conn, row_id)
        assert retried is not None
        return retried

    def counts(self) -> dict[OutboxStatus, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT status, count(*) AS n FROM notification_outbox GROUP BY status")
            )
            found = {OutboxStatus(r.status): int(r.n) for r in rows}
        return {s: found.get(s, 0) for s in OutboxStatus}


def _contact(m: RowMapping) -> Contact:
    return Contact(
        contact_id=m["contact_id"],
        unit_id=m["unit_id"],
        role=ContactRole(m["role"]),
        channel=Channel(m["channel"]),
        address=m["address"],
        name=m["name"],
        secret=m["secret"],
    )


_CONTACT = "c.contact_id, c.unit_id, c.role, c.channel, c.address, c.name, c.secret"
_INSERT_CONTACT = (
    "INSERT INTO unit_contacts AS c (unit_id, role, channel, address, name, secret) "  # noqa: S608
    f"VALUES (:unit, :role, :channel, :address, :name, :secret) RETURNING {_CONTACT}"
)


class UnitContacts:
    """Per unit: who receives a case's notices, in which role and on which channel."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        unit_id: str,
        role: ContactRole,
        channel: Channel,
        address: str,
        *,
        name: str = "",
        secret: str | None = None,
    ) -> Contact:
        try:
            with self.engine.begin() as conn:
                if (
                    conn.execute(
                        text("SELECT 1 FROM units WHERE unit_id = :id"), {"id": unit_id}
                    ).first()
                    is None
                ):
                    raise ContactError("unit_not_found", f"unit {unit_id} does not exist")
                found = (
                    conn.execute(
                        text(_INSERT_CONTACT),
                        {
                            "unit": unit_id,
                            "role": role.value,
                            "channel": channel.value,
                            "address": address,
                            "name": name,
                            "secret": secret,
                        },
                    )
                    .mappings()
                    .one()
                )
        except IntegrityError as exc:
            raise ContactError(
                "contact_exists", f"{unit_id} already has {role.value} {channel.value} {address}"
            ) from exc
        return _contact(found)

    def contacts(self, unit_id: str | None = None) -> list[Contact]:
        query = f"SELECT {_CONTACT} FROM unit_contacts c"  # noqa: S608 - constant text
        params: dict[str, str] = {}
        if unit_id is not None:
            query += " WHERE c.unit_id = :unit"
            params["unit"] = unit_id
        with self.engine.connect() as conn:
            rows = conn.execute(text(query + " ORDER BY c.contact_id"), params).mappings()
            return [_contact(m) for m in rows]

    def remove(self, contact_id: int) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                text("DELETE FROM unit_contacts WHERE contact_id = :id"), {"id": contact_id}
            )
        return result.rowcount == 1

    def resolve(self, unit_id: str, role: ContactRole) -> list[Contact]:
        """The unit's own contacts in that role. The supervising department and the
        listed-supervision recipients are usually set once for a whole subtree, so for
        those the nearest unit up the tree that has any is taken."""
        inherit = role in (ContactRole.SUPERVISING, ContactRole.LISTED)
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    f"SELECT {_CONTACT}, length(u.path) AS depth FROM unit_contacts c "  # noqa: S608
                    "JOIN units u ON u.unit_id = c.unit_id "
                    "JOIN units me ON me.unit_id = :unit "
                    "WHERE c.role = :role AND (c.unit_id = :unit OR "
                    "(:inherit AND me.path LIKE u.path || '%')) "
                    "ORDER BY depth DESC, c.contact_id"
                ),
                {"unit": unit_id, "role": role.value, "inherit": inherit},
            ).mappings()
            found = list(rows)
        if not found:
            return []
        nearest = found[0]["depth"]
        return [_contact(m) for m in found if m["depth"] == nearest]
