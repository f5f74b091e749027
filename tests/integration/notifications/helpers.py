"""Shared pieces: a small unit tree with contacts, delivery settings for tests, drain."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from activities.outbox_dispatcher.config import DeliveryConfig, RetryPolicy, SmtpConfig
from activities.outbox_dispatcher.dispatcher import Dispatcher
from store.directory import Directory
from store.outbox import Channel, ContactRole, NewNotification, Outbox, OutboxStatus, UnitContacts
from tests.integration.notifications.receivers import PASSWORD, USER

# prov ─ city ─ county-env: the case's unit has its own contact and leader; the
# supervising department is set on the city, the listed-supervision list on the province.
UNITS = [("prov", "某省", None), ("city", "某市", "prov"), ("county-env", "某县生态环境局", "city")]
MAILS = {
    ContactRole.CONTACT: ("county-env", "contact@county.example"),
    ContactRole.LEADER: ("county-env", "leader@county.example"),
    ContactRole.SUPERVISING: ("city", "duchaban@city.example"),
    ContactRole.LISTED: ("prov", "list@prov.example"),
}

# Fast retries: tests never wait on real backoff, and never assert timings.
FAST = RetryPolicy(max_attempts=5, backoff_base=0.01, backoff_cap=0.05)


def add_units_and_mail_contacts(engine: Engine) -> None:
    Directory(engine).add_units(UNITS)
    contacts = UnitContacts(engine)
    for role, (unit, address) in MAILS.items():
        contacts.add(unit, role, Channel.EMAIL, address, name=role.value)


def smtp_config(port: int, *, password: str = PASSWORD, host: str = "127.0.0.1") -> DeliveryConfig:
    return DeliveryConfig(
        smtp=SmtpConfig(
            host=host,
            port=port,
            security="none",
            username=USER,
            password=password,
            sender="zhenggai@example.gov.cn",
            timeout=5,
        ),
        retry=FAST,
        http_timeout=5,
    )


def drain(dispatcher: Dispatcher, outbox: Outbox, *, passes: int = 400) -> None:
    """Dispatch until no row is pending (rows backing off are waited for)."""
    for _ in range(passes):
        dispatcher.run_once()
        if outbox.counts()[OutboxStatus.PENDING] == 0:
            return
        time.sleep(0.02)
    raise AssertionError(f"rows still pending: {outbox.counts()}")


def notification(
    case_id: str,
    key: str,
    recipient: str,
    channel: Channel = Channel.EMAIL,
    contact_id: int | None = None,
    **payload: Any,
) -> NewNotification:
    return NewNotification(
        notice_key=key,
        case_id=case_id,
        stream_id=f"case-{case_id}",
        kind=payload.pop("kind", "reminder"),
        level=payload.pop("level", None),
        channel=channel,
        recipient=recipient,
        contact_id=contact_id,
        payload={
            "case_id": case_id,
            "title": "河道非法采砂整治不到位",
            "unit_id": "county-env",
            "unit_name": "某县生态环境局",
            "deadline": "2030-03-29",
            "light": "yellow",
            "occurred_at": datetime.now(UTC).isoformat(),
            **payload,
        },
    )
