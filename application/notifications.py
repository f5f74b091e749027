"""The notification outbox for admins: what is dead, unaddressed or waiting, and a retry;
and each unit's contacts (who receives its notices, on which channel).

Newest first; the next page is ``before=<the last id>``. ``unaddressed`` rows are
notices whose recipient had no contact: nothing was sent, and a retry (after a
contact was added) addresses them to the contacts the unit has now.

Contacts: ``contact_list``, ``add_contact``, ``update_contact`` and ``remove_contact``
work on the store's ``UnitContacts`` (the CLI calls them so); ``unit_contacts``,
``create_contact``, ``change_contact`` and ``delete_contact`` are the same for an
admin of the console. A contact is checked before it is kept (an email address, an
http(s) URL, a robot's token, a webhook's signing key); a removed contact's queued
notices (pending or dead) are cancelled or moved to another contact, and a removal
with queued notices and no choice is refused, nothing changed.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from pydantic import BaseModel

from application.access import ensure_role
from application.caller import Caller
from application.errors import Refusal
from application.services import Services
from domain.vocabulary import Role
from store.outbox import (
    Channel,
    Contact,
    ContactError,
    ContactRole,
    OutboxError,
    OutboxRow,
    OutboxStatus,
    UnitContacts,
)

__all__ = [
    "ContactOut",
    "NotificationOut",
    "add_contact",
    "change_contact",
    "contact_list",
    "create_contact",
    "delete_contact",
    "notification_page",
    "remove_contact",
    "retry_notification",
    "unit_contacts",
    "update_contact",
]


class NotificationOut(BaseModel):
    id: int
    case_id: str
    kind: str
    level: int | None
    channel: str | None  # None: unaddressed
    recipient: str  # robot URLs without their access token; "<unit>/<role>" if unaddressed
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def _out(row: OutboxRow) -> NotificationOut:
    return NotificationOut(
        id=row.id,
        case_id=row.case_id,
        kind=row.kind,
        level=row.level,
        channel=None if row.channel is None else row.channel.value,
        recipient=row.shown_recipient,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


async def notification_page(
    services: Services,
    caller: Caller,
    status: OutboxStatus | None,
    case_id: str | None,
    limit: int,
    before: int | None,
) -> list[NotificationOut]:
    ensure_role(caller.actor, Role.ADMIN)
    rows = await asyncio.to_thread(
        services.outbox.page, status=status, case_id=case_id, limit=limit, before=before
    )
    return [_out(r) for r in rows]


async def retry_notification(
    services: Services, caller: Caller, notification_id: int
) -> NotificationOut:
    ensure_role(caller.actor, Role.ADMIN)
    try:
        row = await asyncio.to_thread(services.outbox.retry, notification_id)
    except OutboxError as exc:
        if exc.code == "not_found":
            raise Refusal(
                404,
                "notification_not_found",
                f"通知 {notification_id} 不存在",
                f"no notification {notification_id}",
            ) from exc
        if exc.code == "still_unaddressed":
            raise Refusal(
                409,
                "notification_still_unaddressed",
                f"通知 {notification_id} 的单位仍没有接收方",
                f"notification {notification_id}: its unit still has no contact",
            ) from exc
        raise Refusal(
            409,
            "notification_not_retryable",
            f"通知 {notification_id} 已发送或已取消，不能重试",
            f"notification {notification_id} is sent or cancelled; only dead or pending ones"
            " can be retried",
        ) from exc
    return _out(row)


# --- contacts -------------------------------------------------------------------------

ADDRESS_MAX = 2000  # the table's limit


class ContactOut(BaseModel):
    contact_id: int
    unit_id: str
    role: ContactRole
    channel: Channel
    address: str  # robot and webhook URLs without their query (it holds the token)
    name: str
    signed: bool  # has a signing key of its own (never shown)
    digest: bool  # one daily digest instead of each notice at once
    queued: int = 0  # its notices not delivered yet (pending or dead); counted on request


def _contact_out(contact: Contact, queued: int = 0) -> ContactOut:
    shown = (
        contact.address if contact.channel is Channel.EMAIL else contact.address.split("?", 1)[0]
    )
    return ContactOut(
        contact_id=contact.contact_id,
        unit_id=contact.unit_id,
        role=contact.role,
        channel=contact.channel,
        address=shown,
        name=contact.name,
        signed=contact.signed,
        digest=contact.digest,
        queued=queued,
    )


def _contact_refusal(exc: ContactError, unit_id: str | None = None) -> Refusal:
    found: dict[str, tuple[int, str, str]] = {
        "unit_not_found": (422, f"单位 {unit_id} 不存在", f"unit {unit_id} does not exist"),
        "contact_exists": (
            409,
            "该接收方已存在（同一单位、角色、渠道和地址）",
            "this contact exists already (same unit, role, channel and address)",
        ),
        "contact_not_found": (404, "接收方不存在", "no such contact"),
        "invalid_address": (
            422,
            "地址格式不对（邮箱，或 http(s) 网址；钉钉需 access_token，企业微信需 key）",
            f"not a usable address: {exc}",
        ),
        "secret_needed": (
            422,
            "Webhook 需要签名密钥（或设置 ZHENGGAI_WEBHOOK_SECRET）",
            "a webhook needs a signing secret (or ZHENGGAI_WEBHOOK_SECRET)",
        ),
        "queued_rows": (
            409,
            "该接收方还有待投递的通知：请选择取消这些通知，或转给另一个接收方",
            "this contact has notifications still queued: cancel them or send them to"
            " another contact",
        ),
        "invalid_choice": (
            422,
            "取消待投递的通知与转给另一个接收方只能选一个",
            "cancel the queued notifications or redirect them, not both",
        ),
    }
    status, zh, en = found.get(exc.code, (422, f"接收方有误：{exc}", str(exc)))
    return Refusal(status, exc.code, zh, en)


def _parsed_role(role: ContactRole | str) -> ContactRole:
    try:
        return ContactRole(role)
    except ValueError:
        raise Refusal(
            422, "contact_role_unknown", f"无此接收角色：{role}", f"no such contact role: {role}"
        ) from None


def _parsed_channel(channel: Channel | str) -> Channel:
    try:
        return Channel(channel)
    except ValueError:
        raise Refusal(
            422, "channel_unknown", f"无此通知渠道：{channel}", f"no such channel: {channel}"
        ) from None


def _check_length(address: str) -> None:
    if not 3 <= len(address) <= ADDRESS_MAX:
        raise Refusal(
            422,
            "invalid_address",
            f"地址长度须为 3 到 {ADDRESS_MAX} 个字符",
            f"an address has 3 to {ADDRESS_MAX} characters",
        )


def contact_list(
    contacts: UnitContacts, unit_id: str | None, *, with_queued: bool = False
) -> list[ContactOut]:
    """A unit's contacts (every unit's when None), oldest first, never their secrets."""
    return [
        _contact_out(c, contacts.queued(c.contact_id) if with_queued else 0)
        for c in contacts.contacts(unit_id)
    ]


def add_contact(
    contacts: UnitContacts,
    *,
    unit_id: str,
    role: ContactRole | str,
    channel: Channel | str,
    address: str,
    name: str = "",
    secret: str | None = None,
    digest: bool = False,
    default_secret: bool = False,
) -> ContactOut:
    """``default_secret``: ZHENGGAI_WEBHOOK_SECRET is set, so a webhook may go without a key."""
    unit_id, address, name = unit_id.strip(), address.strip(), name.strip()
    parsed_role, parsed_channel = _parsed_role(role), _parsed_channel(channel)
    if not unit_id:
        raise Refusal(422, "unit_required", "请选择单位", "choose a unit")
    _check_length(address)
    try:
        made = contacts.add(
            unit_id,
            parsed_role,
            parsed_channel,
            address,
            name=name,
            secret=secret or None,
            digest=digest,
            default_secret=default_secret,
        )
    except ContactError as exc:
        raise _contact_refusal(exc, unit_id) from exc
    return _contact_out(made)


def update_contact(
    contacts: UnitContacts,
    contact_id: int,
    *,
    address: str | None = None,
    name: str | None = None,
    secret: str | None = None,
    clear_secret: bool = False,
    digest: bool | None = None,
    default_secret: bool = False,
) -> ContactOut:
    """None: unchanged. Its queued notices follow the new address and digest choice."""
    if address is not None:
        address = address.strip()
        _check_length(address)
    try:
        changed = contacts.update(
            contact_id,
            address=address,
            name=None if name is None else name.strip(),
            secret=secret or None,
            clear_secret=clear_secret,
            digest=digest,
            default_secret=default_secret,
        )
    except ContactError as exc:
        raise _contact_refusal(exc) from exc
    return _contact_out(changed)


def remove_contact(
    contacts: UnitContacts,
    contact_id: int,
    *,
    cancel_queued: bool = False,
    redirect_to: int | None = None,
) -> None:
    """Its queued notices are cancelled (``cancel_queued``) or moved to ``redirect_to``;
    with queued notices and neither, refused (409 ``queued_rows``) and nothing changes."""
    try:
        removed = contacts.remove(contact_id, cancel_queued=cancel_queued, redirect_to=redirect_to)
    except ContactError as exc:
        raise _contact_refusal(exc) from exc
    if not removed:
        raise Refusal(
            404, "contact_not_found", f"接收方 {contact_id} 不存在", f"no contact {contact_id}"
        )


def _contacts(services: Services) -> UnitContacts:
    return UnitContacts(services.store.engine)


def _default_secret(services: Services) -> bool:
    return services.settings.webhook_secret is not None


async def unit_contacts(
    services: Services, caller: Caller, unit_id: str | None
) -> list[ContactOut]:
    """For an admin: with how many notices each still has queued."""
    ensure_role(caller.actor, Role.ADMIN)
    return await asyncio.to_thread(
        lambda: contact_list(_contacts(services), unit_id, with_queued=True)
    )


async def create_contact(
    services: Services,
    caller: Caller,
    *,
    unit_id: str,
    role: str,
    channel: str,
    address: str,
    name: str = "",
    secret: str | None = None,
    digest: bool = False,
) -> ContactOut:
    ensure_role(caller.actor, Role.ADMIN)
    return await asyncio.to_thread(
        lambda: add_contact(
            _contacts(services),
            unit_id=unit_id,
            role=role,
            channel=channel,
            address=address,
            name=name,
            secret=secret,
            digest=digest,
            default_secret=_default_secret(services),
        ),
    )


async def change_contact(
    services: Services,
    caller: Caller,
    contact_id: int,
    *,
    address: str | None = None,
    name: str | None = None,
    secret: str | None = None,
    clear_secret: bool = False,
    digest: bool | None = None,
) -> ContactOut:
    ensure_role(caller.actor, Role.ADMIN)
    return await asyncio.to_thread(
        lambda: update_contact(
            _contacts(services),
            contact_id,
            address=address,
            name=name,
            secret=secret,
            clear_secret=clear_secret,
            digest=digest,
            default_secret=_default_secret(services),
        ),
    )


async def delete_contact(
    services: Services,
    caller: Caller,
    contact_id: int,
    *,
    cancel_queued: bool = False,
    redirect_to: int | None = None,
) -> None:
    ensure_role(caller.actor, Role.ADMIN)
    await asyncio.to_thread(
        lambda: remove_contact(
            _contacts(services),
            contact_id,
            cancel_queued=cancel_queued,
            redirect_to=redirect_to,
        ),
    )
