"""The notification outbox: rows written once per causing event, delivered by a dispatcher.

Life of a row: ``pending`` → ``sent`` (delivered), ``dead`` (too many failed
attempts; a human may retry it, back to ``pending``, re-reading its contact) or
``cancelled`` (its case was closed or withdrawn before a time-bound notice went
out, or its contact was removed with ``--cancel-queued``). A notice whose
recipient has no contact is written as an ``unaddressed`` row (no channel; the
recipient names the unit and role that had nobody), never dropped: listed, counted
on the case, and a retry addresses it to the contacts set since. A row of a
contact that wants a daily digest is ``pending`` with ``digest`` set: not claimed
on its own, but gathered once a day into one digest row (its own status becomes
``digested``, ``digest_id`` the digest row).

A claim is a lease, not a held transaction: the dispatcher moves the claimed
rows' ``next_attempt_at`` a lease ahead and stamps a ``claim_token``, delivers
outside any transaction (an SMTP server may take seconds), then records the
outcome only if it still holds the token. A dispatcher that dies mid-delivery
lets its lease run out and another one takes the row.

Per-case order: a row is not claimed while an earlier row of the same case,
channel and recipient is still pending, so a receiver that was down gets a
case's messages in the order they were written.

Errors: ``OutboxError`` (``code``: not_found, not_retryable) and
``ContactError`` (``code``: unit_not_found, contact_exists, contact_not_found,
invalid_address, secret_needed, queued_rows), both ``StoreError``.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
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
    "check_contact",
    "delivery_id",
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
    UNADDRESSED = "unaddressed"  # nobody to send it to: visible, never delivered
    DIGESTED = "digested"  # delivered inside a daily digest row (digest_id)


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
    signed: bool  # a signing key of its own (the key itself is never read back here)
    digest: bool = False  # a daily digest on this channel instead of one message each


def delivery_id(idempotency_key: str) -> str:
    """The same for every try of one row (Message-ID, webhook Idempotency-Key)."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class NewNotification:
    notice_key: str  # the causing event's id, as the workflow made it
    case_id: str
    stream_id: str
    kind: str
    level: int | None
    channel: Channel | None  # None: unaddressed
    recipient: str
    payload: dict[str, Any]
    contact_id: int | None = None
    digest: bool = False

    @property
    def idempotency_key(self) -> str:
        channel = "unaddressed" if self.channel is None else self.channel.value
        return f"{self.notice_key}|{channel}|{self.recipient}"

    @property
    def status(self) -> OutboxStatus:
        return OutboxStatus.UNADDRESSED if self.channel is None else OutboxStatus.PENDING


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    idempotency_key: str
    notice_key: str
    case_id: str
    stream_id: str
    kind: str
    level: int | None
    channel: Channel | None  # None only on unaddressed rows
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
    contact_id: int | None = None
    digest: bool = False
    digest_id: int | None = None

    @property
    def delivery_id(self) -> str:
        return delivery_id(self.idempotency_key)

    @property
    def shown_recipient(self) -> str:
        """For listings: robot URLs carry their access token in the query, so it is cut."""
        if self.channel in (Channel.EMAIL, None):
            return self.recipient
        return self.recipient.split("?", 1)[0]


_ROW = (
    "o.id, o.idempotency_key, o.notice_key, o.case_id, o.stream_id, o.kind, o.level, "
    "o.channel, o.recipient, o.payload, o.status, o.attempts, o.next_attempt_at, "
    "o.last_error, o.created_at, o.sent_at, o.claim_token, o.contact_id, o.digest, o.digest_id"
)

_CLAIM = f"""
    WITH due AS (
        SELECT o.id FROM notification_outbox o
        WHERE o.status = 'pending' AND NOT o.digest AND o.next_attempt_at <= now()
          AND NOT EXISTS (
              SELECT 1 FROM notification_outbox e
              WHERE e.status = 'pending' AND NOT e.digest AND e.case_id = o.case_id
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


_INSERT_ROW = text(
    "INSERT INTO notification_outbox (idempotency_key, notice_key, case_id, stream_id, "
    "kind, level, channel, recipient, contact_id, payload, status, digest, last_error) "
    "VALUES (:key, :notice, :case, :stream, :kind, :level, :channel, :recipient, "
    ":contact, :payload, :status, :digest, :error) "
    "ON CONFLICT (idempotency_key) DO NOTHING"
).bindparams(bindparam("payload", type_=JSONB))
_UNADDRESSED_NOTE = "没有接收方：请为该单位设置接收方后重试 no contact: add one, then retry"


def _row(m: RowMapping) -> OutboxRow:
    return OutboxRow(
        id=m["id"],
        idempotency_key=m["idempotency_key"],
        notice_key=m["notice_key"],
        case_id=m["case_id"],
        stream_id=m["stream_id"],
        kind=m["kind"],
        level=m["level"],
        channel=None if m["channel"] is None else Channel(m["channel"]),
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
        contact_id=m.get("contact_id"),
        digest=bool(m.get("digest", False)),
        digest_id=m.get("digest_id"),
    )


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def enqueue(self, rows: Sequence[NewNotification]) -> int:
        """Writes the rows not yet there (by idempotency key); returns how many were new."""
        if not rows:
            return 0
        with self.engine.begin() as conn:
            return self._insert(conn, rows)

    @staticmethod
    def _insert(conn: Connection, rows: Sequence[NewNotification]) -> int:
        added = 0
        for r in rows:
            result = conn.execute(
                _INSERT_ROW,
                {
                    "key": r.idempotency_key,
                    "notice": r.notice_key,
                    "case": r.case_id,
                    "stream": r.stream_id,
                    "kind": r.kind,
                    "level": r.level,
                    "channel": None if r.channel is None else r.channel.value,
                    "recipient": r.recipient,
                    "contact": r.contact_id,
                    "payload": r.payload,
                    "status": r.status.value,
                    "digest": r.digest,
                    "error": None if r.channel is not None else _UNADDRESSED_NOTE,
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
    def _get(conn: Connection, row_id: int, *, lock: bool = False) -> OutboxRow | None:
        lock_clause = " FOR UPDATE" if lock else ""
        found = (
            conn.execute(
                text(f"SELECT {_ROW} FROM notification_outbox o WHERE o.id = :id{lock_clause}"),  # noqa: S608
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
        """Oldest first (see ``page`` for listings: newest first, with paging)."""
        return self._select(status=status, case_id=case_id, limit=limit, newest_first=False)

    def page(
        self,
        *,
        status: OutboxStatus | None = None,
        case_id: str | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> list[OutboxRow]:
        """Newest first; the next page is ``before=<the last row's id>``."""
        return self._select(
            status=status, case_id=case_id, limit=limit, newest_first=True, before=before
        )

    def _select(
        self,
        *,
        status: OutboxStatus | None,
        case_id: str | None,
        limit: int,
        newest_first: bool,
        before: int | None = None,
    ) -> list[OutboxRow]:
        where = ["TRUE"]
        params: dict[str, Any] = {"limit": limit}
        if status is not None:
            where.append("o.status = :status")
            params["status"] = status.value
        if case_id is not None:
            where.append("o.case_id = :case")
            params["case"] = case_id
        if before is not None:
            where.append("o.id < :before")
            params["before"] = before
        order = "o.id DESC" if newest_first else "o.id"
        query = (
            f"SELECT {_ROW} FROM notification_outbox o WHERE {' AND '.join(where)} "  # noqa: S608
            f"ORDER BY {order} LIMIT :limit"
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
        """By hand: a dead (or waiting) row is due now with a fresh count of attempts, sent
        to its contact's address as it is now (a contact fixed since is used). An
        ``unaddressed`` row is written anew for the contacts its unit has now (it becomes
        ``cancelled``, naming how many rows replaced it)."""
        with self.engine.begin() as conn:
            row = self._get(conn, row_id, lock=True)
            if row is None:
                raise OutboxError("not_found", f"no notification {row_id}")
            if row.status is OutboxStatus.UNADDRESSED:
                return self._readdress(conn, row)
            if row.status not in (OutboxStatus.DEAD, OutboxStatus.PENDING):
                raise OutboxError(
                    "not_retryable", f"notification {row_id} is {row.status.value}, not dead"
                )
            conn.execute(
                text(
                    "UPDATE notification_outbox o SET status = 'pending', attempts = 0, "
                    "next_attempt_at = now(), claim_token = NULL, updated_at = now(), "
                    "recipient = COALESCE((SELECT c.address FROM unit_contacts c "
                    "WHERE c.contact_id = o.contact_id AND c.channel = o.channel), o.recipient) "
                    "WHERE o.id = :id"
                ),
                {"id": row_id},
            )
            retried = self._get(conn, row_id)
        assert retried is not None
        return retried

    def _readdress(self, conn: Connection, row: OutboxRow) -> OutboxRow:
        unit, role = row.payload.get("contact_unit"), row.payload.get("contact_role")
        if not isinstance(unit, str) or role not in {r.value for r in ContactRole}:
            raise OutboxError("not_retryable", f"notification {row.id} names no unit and role")
        contacts = _resolve(conn, unit, ContactRole(str(role)))
        if not contacts:
            raise OutboxError(
                "still_unaddressed", f"unit {unit} still has no {role} contact for {row.id}"
            )
        payload = {
            k: v for k, v in row.payload.items() if k not in ("contact_unit", "contact_role")
        }
        added = self._insert(
            conn,
            [
                NewNotification(
                    notice_key=row.notice_key,
                    case_id=row.case_id,
                    stream_id=row.stream_id,
                    kind=row.kind,
                    level=row.level,
                    channel=c.channel,
                    recipient=c.address,
                    payload=payload,
                    contact_id=c.contact_id,
                    digest=c.digest,
                )
                for c in contacts
            ],
        )
        conn.execute(
            text(
                "UPDATE notification_outbox SET status = 'cancelled', updated_at = now(), "
                "last_error = :note WHERE id = :id"
            ),
            {"id": row.id, "note": f"已改投 {added} 个接收方 addressed to {added} contacts"},
        )
        found = self._get(conn, row.id)
        assert found is not None
        return found

    def counts(self, case_id: str | None = None) -> dict[OutboxStatus, int]:
        """Rows by status (all, or one case's)."""
        query = "SELECT status, count(*) AS n FROM notification_outbox"
        params: dict[str, str] = {}
        if case_id is not None:
            query += " WHERE case_id = :case"
            params["case"] = case_id
        with self.engine.connect() as conn:
            rows = conn.execute(text(query + " GROUP BY status"), params)
            found = {OutboxStatus(r.status): int(r.n) for r in rows}
        return {s: found.get(s, 0) for s in OutboxStatus}

    # -- daily digests ----------------------------------------------------------------

    def gather_digests(self, day: date) -> list[int]:
        """For each contact with rows waiting for its digest: one digest row for ``day``
        (its key names the contact and the day, so at most one a day), holding the
        waiting rows' facts; those rows become ``digested``. Rows that arrive after
        the day's digest wait for the next day's. Returns the digest rows' ids."""
        made: list[int] = []
        with self.engine.connect() as conn:
            contacts = [
                int(r.contact_id)
                for r in conn.execute(
                    text(
                        "SELECT DISTINCT contact_id FROM notification_outbox "
                        "WHERE digest AND status = 'pending' AND contact_id IS NOT NULL"
                    )
                )
            ]
        for contact_id in contacts:
            with self.engine.begin() as conn:
                made_id = self._digest_one(conn, contact_id, day)
            if made_id is not None:
                made.append(made_id)
        return made

    def _digest_one(self, conn: Connection, contact_id: int, day: date) -> int | None:
        waiting = [
            _row(m)
            for m in conn.execute(
                text(
                    f"SELECT {_ROW} FROM notification_outbox o "  # noqa: S608
                    "WHERE o.contact_id = :c AND o.digest AND o.status = 'pending' "
                    "ORDER BY o.id LIMIT 500 FOR UPDATE SKIP LOCKED"
                ),
                {"c": contact_id},
            ).mappings()
        ]
        contact = (
            conn.execute(
                text(f"SELECT {_CONTACT} FROM unit_contacts c WHERE c.contact_id = :c"),  # noqa: S608
                {"c": contact_id},
            )
            .mappings()
            .first()
        )
        if not waiting or contact is None:
            return None
        items = [
            {**r.payload, "kind": r.kind, "level": r.level, "case_id": r.case_id} for r in waiting
        ]
        key = f"digest:{contact_id}:{day.isoformat()}"
        digest = NewNotification(
            notice_key=key,
            case_id="",
            stream_id="",
            kind="digest",
            level=None,
            channel=Channel(contact["channel"]),
            recipient=contact["address"],
            payload={"day": day.isoformat(), "items": items, "unit_id": contact["unit_id"]},
            contact_id=contact_id,
        )
        found = conn.execute(
            text(
                "INSERT INTO notification_outbox (idempotency_key, notice_key, case_id, "
                "stream_id, kind, channel, recipient, contact_id, payload) VALUES (:key, "
                ":notice, '', '', 'digest', :channel, :recipient, :contact, :payload) "
                "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
            ).bindparams(bindparam("payload", type_=JSONB)),
            {
                "key": digest.idempotency_key,
                "notice": key,
                "channel": contact["channel"],
                "recipient": contact["address"],
                "contact": contact_id,
                "payload": digest.payload,
            },
        ).first()
        if found is None:
            return None  # today's digest went out already: these wait for tomorrow's
        conn.execute(
            text(
                "UPDATE notification_outbox SET status = 'digested', digest_id = :d, "
                "updated_at = now() WHERE id = ANY(:ids)"
            ),
            {"d": found.id, "ids": [r.id for r in waiting]},
        )
        return int(found.id)


def _contact(m: RowMapping) -> Contact:
    return Contact(
        contact_id=m["contact_id"],
        unit_id=m["unit_id"],
        role=ContactRole(m["role"]),
        channel=Channel(m["channel"]),
        address=m["address"],
        name=m["name"],
        signed=bool(m["signed"]),
        digest=bool(m["digest"]),
    )


# Who receives, never the signing key: the API (the console's admin page) reads and
# writes contacts but may not read a key back (migration 0018); the dispatcher reads
# the key when it claims a row.
_CONTACT = "c.contact_id, c.unit_id, c.role, c.channel, c.address, c.name, c.signed, c.digest"
_INSERT_CONTACT = (
    "INSERT INTO unit_contacts AS c (unit_id, role, channel, address, name, secret, digest) "  # noqa: S608
    f"VALUES (:unit, :role, :channel, :address, :name, :secret, :digest) RETURNING {_CONTACT}"
)
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")
_ROBOT_TOKEN = {Channel.DINGTALK: "access_token", Channel.WECOM: "key"}


def check_contact(
    channel: Channel, address: str, signed: bool, *, default_secret: bool = False
) -> None:
    """Refuses a contact that can never receive anything: a malformed email address, a
    URL that is not http(s), a robot URL without its token (DingTalk ``access_token``,
    WeCom ``key``), or a signed webhook with no secret of its own and no
    ``ZHENGGAI_WEBHOOK_SECRET`` to fall back on."""
    from urllib.parse import parse_qs, urlsplit

    if channel is Channel.EMAIL:
        if len(address) > 254 or not _EMAIL.match(address):
            raise ContactError("invalid_address", f"{address!r} is not an email address")
        return
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ContactError("invalid_address", f"{address.split('?', 1)[0]!r} is not an http(s) URL")
    token = _ROBOT_TOKEN.get(channel)
    if token is not None and not parse_qs(parts.query).get(token):
        raise ContactError(
            "invalid_address", f"a {channel.value} robot URL needs its ?{token}=… in the query"
        )
    if channel is Channel.WEBHOOK and not signed and not default_secret:
        raise ContactError(
            "secret_needed", "a webhook needs --secret (or ZHENGGAI_WEBHOOK_SECRET) to sign with"
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
        digest: bool = False,
        default_secret: bool = False,
    ) -> Contact:
        """Checked first (``check_contact``); ``default_secret``: ZHENGGAI_WEBHOOK_SECRET is set."""
        check_contact(channel, address, bool(secret), default_secret=default_secret)
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
                            "digest": digest,
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

    def get(self, contact_id: int) -> Contact | None:
        with self.engine.connect() as conn:
            found = (
                conn.execute(
                    text(f"SELECT {_CONTACT} FROM unit_contacts c WHERE c.contact_id = :id"),  # noqa: S608
                    {"id": contact_id},
                )
                .mappings()
                .first()
            )
        return None if found is None else _contact(found)

    def contacts(self, unit_id: str | None = None) -> list[Contact]:
        query = f"SELECT {_CONTACT} FROM unit_contacts c"  # noqa: S608 - constant text
        params: dict[str, str] = {}
        if unit_id is not None:
            query += " WHERE c.unit_id = :unit"
            params["unit"] = unit_id
        with self.engine.connect() as conn:
            rows = conn.execute(text(query + " ORDER BY c.contact_id"), params).mappings()
            return [_contact(m) for m in rows]

    def update(
        self,
        contact_id: int,
        *,
        address: str | None = None,
        name: str | None = None,
        secret: str | None = None,
        clear_secret: bool = False,
        digest: bool | None = None,
        default_secret: bool = False,
    ) -> Contact:
        """Changes a contact in place (checked like ``add``). Its queued rows (pending or
        dead) follow the new address and digest choice; a dead row still needs a retry."""
        try:
            with self.engine.begin() as conn:
                found = (
                    conn.execute(
                        text(
                            f"SELECT {_CONTACT} FROM unit_contacts c "  # noqa: S608
                            "WHERE c.contact_id = :id FOR UPDATE"
                        ),
                        {"id": contact_id},
                    )
                    .mappings()
                    .first()
                )
                if found is None:
                    raise ContactError("contact_not_found", f"no contact {contact_id}")
                old = _contact(found)
                # The key is written only when it changes: the old one is never read.
                new_key = clear_secret or secret is not None
                signed = False if clear_secret else (bool(secret) if new_key else old.signed)
                new_address = address if address is not None else old.address
                new_digest = old.digest if digest is None else digest
                check_contact(old.channel, new_address, signed, default_secret=default_secret)
                set_key = "secret = :secret, " if new_key else ""
                updated = (
                    conn.execute(
                        text(
                            "UPDATE unit_contacts AS c SET address = :address, name = :name, "  # noqa: S608
                            f"{set_key}digest = :digest, updated_at = now() "
                            f"WHERE c.contact_id = :id RETURNING {_CONTACT}"
                        ),
                        {
                            "id": contact_id,
                            "address": new_address,
                            "name": old.name if name is None else name,
                            "secret": None if clear_secret else (secret or None),
                            "digest": new_digest,
                        },
                    )
                    .mappings()
                    .one()
                )
                conn.execute(
                    text(
                        "UPDATE notification_outbox SET recipient = :address, updated_at = now(), "
                        "digest = CASE WHEN status = 'pending' THEN :digest ELSE digest END "
                        "WHERE contact_id = :id AND status IN ('pending', 'dead')"
                    ),
                    {"id": contact_id, "address": new_address, "digest": new_digest},
                )
        except IntegrityError as exc:
            raise ContactError("contact_exists", f"another contact has {address}") from exc
        return _contact(updated)

    def queued(self, contact_id: int) -> int:
        """Rows of this contact not delivered yet (pending or dead)."""
        with self.engine.connect() as conn:
            n = conn.execute(
                text(
                    "SELECT count(*) FROM notification_outbox "
                    "WHERE contact_id = :id AND status IN ('pending', 'dead')"
                ),
                {"id": contact_id},
            ).scalar_one()
        return int(n)

    def remove(
        self, contact_id: int, *, cancel_queued: bool = False, redirect_to: int | None = None
    ) -> bool:
        """Deletes the contact. Its queued rows (pending or dead) are cancelled, or moved to
        contact ``redirect_to`` (due now, attempts from zero; a row whose notice that
        contact already has is cancelled instead). With queued rows and neither choice:
        ``ContactError("queued_rows")`` and nothing changes. A row a dispatcher is
        delivering at this very moment may still go out."""
        if cancel_queued and redirect_to is not None:
            raise ContactError(
                "invalid_choice", "choose --cancel-queued or --redirect-to, not both"
            )
        with self.engine.begin() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM unit_contacts WHERE contact_id = :id FOR UPDATE"),
                {"id": contact_id},
            ).first()
            if exists is None:
                return False
            queued = int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM notification_outbox "
                        "WHERE contact_id = :id AND status IN ('pending', 'dead')"
                    ),
                    {"id": contact_id},
                ).scalar_one()
            )
            if redirect_to is not None:
                self._redirect(conn, contact_id, redirect_to)
            elif queued and not cancel_queued:
                raise ContactError(
                    "queued_rows",
                    f"contact {contact_id} has {queued} queued notifications: "
                    "--cancel-queued or --redirect-to ID",
                )
            conn.execute(
                text(
                    "UPDATE notification_outbox SET status = 'cancelled', claim_token = NULL, "
                    "last_error = :note, updated_at = now() "
                    "WHERE contact_id = :id AND status IN ('pending', 'dead')"
                ),
                {"id": contact_id, "note": f"接收方已删除 contact {contact_id} removed"},
            )
            conn.execute(
                text("DELETE FROM unit_contacts WHERE contact_id = :id"), {"id": contact_id}
            )
        return True

    @staticmethod
    def _redirect(conn: Connection, contact_id: int, target_id: int) -> None:
        target = (
            conn.execute(
                text(f"SELECT {_CONTACT} FROM unit_contacts c WHERE c.contact_id = :id FOR SHARE"),  # noqa: S608
                {"id": target_id},
            )
            .mappings()
            .first()
        )
        if target is None or target_id == contact_id:
            raise ContactError("contact_not_found", f"no other contact {target_id} to redirect to")
        conn.execute(
            text(
                "UPDATE notification_outbox o SET contact_id = :target, channel = :channel, "
                "recipient = :address, digest = :digest, status = 'pending', attempts = 0, "
                "next_attempt_at = now(), claim_token = NULL, last_error = NULL, "
                "updated_at = now() "
                "WHERE o.contact_id = :id AND o.status IN ('pending', 'dead') AND NOT EXISTS ("
                "SELECT 1 FROM notification_outbox t WHERE t.notice_key = o.notice_key "
                "AND t.id <> o.id AND t.channel = :channel AND t.recipient = :address)"
            ),
            {
                "id": contact_id,
                "target": target_id,
                "channel": target["channel"],
                "address": target["address"],
                "digest": bool(target["digest"]),
            },
        )

    def resolve(self, unit_id: str, role: ContactRole) -> list[Contact]:
        """The unit's own contacts in that role. The supervising department and the
        listed-supervision recipients are usually set once for a whole subtree, so for
        those the nearest unit up the tree that has any is taken."""
        with self.engine.connect() as conn:
            return _resolve(conn, unit_id, role)


def _resolve(conn: Connection, unit_id: str, role: ContactRole) -> list[Contact]:
    inherit = role in (ContactRole.SUPERVISING, ContactRole.LISTED)
    found = list(
        conn.execute(
            text(
                f"SELECT {_CONTACT}, length(u.path) AS depth "  # noqa: S608
                "FROM unit_contacts c "
                "JOIN units u ON u.unit_id = c.unit_id "
                "JOIN units me ON me.unit_id = :unit "
                "WHERE c.role = :role AND (c.unit_id = :unit OR "
                "(:inherit AND starts_with(me.path, u.path))) "
                "ORDER BY depth DESC, c.contact_id"
            ),
            {"unit": unit_id, "role": role.value, "inherit": inherit},
        ).mappings()
    )
    if not found:
        return []
    nearest = found[0]["depth"]
    return [_contact(m) for m in found if m["depth"] == nearest]
