"""Webhooks: our signed JSON body, and the DingTalk and WeCom group robots' formats.

Our signature: ``X-Zhenggai-Signature: sha256=<hex HMAC-SHA256(secret, "<ts>." + body)>``
with ``X-Zhenggai-Timestamp: <unix seconds>``; a receiver recomputes it over the raw
body and refuses old timestamps, so a captured request cannot be replayed later.
DingTalk signs the URL instead (``timestamp`` in ms and ``sign`` =
base64(HMAC-SHA256(secret, "<ts>\\n<secret>"))); WeCom's robot URL carries its key.
Both robots answer HTTP 200 with ``errcode`` 0 on success.

Every try of one row carries the same ``Idempotency-Key`` and
``X-Zhenggai-Delivery`` headers (and ``delivery_id`` in the body): a receiver that
keeps the keys it has seen takes a retry after a lost answer only once. The
robots ignore such headers, so a DingTalk or WeCom group may see a repeat when
an answer was lost (a timeout after the robot posted the message).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import quote_plus

import httpx

from activities.outbox_dispatcher.errors import DeliveryFailed
from activities.outbox_dispatcher.messages import Message
from store.outbox import Channel, OutboxRow

__all__ = ["WebhookSender", "dingtalk_sign", "signature"]

SIGNATURE_HEADER = "X-Zhenggai-Signature"
TIMESTAMP_HEADER = "X-Zhenggai-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DELIVERY_HEADER = "X-Zhenggai-Delivery"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return quote_plus(base64.b64encode(digest.digest()))


def _body(row: OutboxRow, message: Message) -> dict[str, Any]:
    p = row.payload
    body: dict[str, Any] = {
        "id": row.id,
        "delivery_id": row.delivery_id,
        "idempotency_key": row.idempotency_key,
        "case_id": row.case_id,
        "kind": row.kind,
        "level": row.level,
        "light": p.get("light"),
        "title": p.get("title"),
        "unit_id": p.get("unit_id"),
        "unit_name": p.get("unit_name"),
        "deadline": p.get("deadline"),
        "deadline_provisional": bool(p.get("deadline_provisional")),
        "working_days_left": p.get("working_days_left"),
        "working_days_overdue": p.get("working_days_overdue"),
        "occurred_at": p.get("occurred_at"),
        "detail": p.get("detail") or {},
        "subject": message.subject,
        "text": message.text,
        "link": message.link,
    }
    if row.kind == "digest":
        body["items"] = p.get("items") or []
    return body


class WebhookSender:
    """One sender for the three webhook channels; ``default_secret`` signs our JSON
    webhooks whose contact has no secret of its own."""

    def __init__(self, *, timeout: float, default_secret: str | None = None) -> None:
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)
        self._default_secret = default_secret

    def close(self) -> None:
        self._client.close()

    def deliver(self, row: OutboxRow, message: Message) -> None:
        if row.channel is Channel.DINGTALK:
            self._robot(
                self._dingtalk_url(row),
                {
                    "msgtype": "markdown",
                    "markdown": {"title": message.subject, "text": message.markdown},
                },
            )
        elif row.channel is Channel.WECOM:
            self._robot(
                row.recipient, {"msgtype": "markdown", "markdown": {"content": message.markdown}}
            )
        else:
            self._signed(row, message)

    def _signed(self, row: OutboxRow, message: Message) -> None:
        secret = row.secret or self._default_secret
        if not secret:
            raise DeliveryFailed(
                "webhook has no secret: set one on the contact or ZHENGGAI_WEBHOOK_SECRET"
            )
        body = json.dumps(_body(row, message), ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(secret, timestamp, body),
            "X-Zhenggai-Idempotency-Key": row.idempotency_key,
            IDEMPOTENCY_HEADER: row.delivery_id,
            DELIVERY_HEADER: row.delivery_id,
        }
        self._post(row.recipient, content=body, headers=headers)

    def _dingtalk_url(self, row: OutboxRow) -> str:
        if not row.secret:
            return row.recipient  # a robot secured by keyword or IP list only
        now_ms = int(time.time() * 1000)
        joiner = "&" if "?" in row.recipient else "?"
        return f"{row.recipient}{joiner}timestamp={now_ms}&sign={dingtalk_sign(row.secret, now_ms)}"

    def _robot(self, url: str, body: dict[str, Any]) -> None:
        response = self._post(url, json=body)
        try:
            answer = response.json()
        except ValueError:
            return  # 2xx without JSON: taken as delivered
        if isinstance(answer, dict) and answer.get("errcode", 0) != 0:
            raise DeliveryFailed(
                f"robot refused: errcode {answer.get('errcode')} {answer.get('errmsg', '')}"
            )

    def _post(self, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.post(url, **kwargs)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"POST {_host(url)}: {type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise DeliveryFailed(
                f"POST {_host(url)}: HTTP {response.status_code} {response.text[:200]}".strip()
            )
        return response


def _host(url: str) -> str:
    """Robot URLs carry their access token: never write it to the outbox or the log."""
    try:
        parsed = httpx.URL(url)
    except Exception:
        return "webhook"
    port = "" if parsed.port is None else f":{parsed.port}"
    return f"{parsed.scheme}://{parsed.host}{port}{parsed.path}"
