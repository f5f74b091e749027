"""Idempotency-Key on POSTs: claim the key for this request, or learn it is a repeat."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import Header

from api.problems import Problem
from store.idempotency import IdempotencyKeyReused, IdempotencyKeys, KeyClaim, request_fingerprint

__all__ = ["IdempotencyKey", "claim_key"]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="A repeat with the same key and body returns the first answer.",
    ),
]


async def claim_key(
    keys: IdempotencyKeys, scope: str, key: str, body: Any, resource_id: str
) -> KeyClaim:
    """The claim of ``key`` for ``body``; the same key with another body is 422."""
    try:
        return await asyncio.to_thread(
            keys.claim, scope, key, request_fingerprint(body), resource_id
        )
    except IdempotencyKeyReused as exc:
        raise Problem(
            422, "idempotency_key_reused", "该 Idempotency-Key 已用于另一个请求", str(exc)
        ) from exc
