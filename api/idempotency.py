"""Idempotency-Key on POSTs: claim the key for this request, or learn it is a repeat.

A key belongs to the caller that sent it (their token): the claim's scope is the
kind of request and the caller, so another caller's same key is a new request of
theirs and never gets someone else's answer.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated, Any

from fastapi import Header, Request

from api.problems import Problem
from store.idempotency import IdempotencyKeyReused, IdempotencyKeys, KeyClaim, request_fingerprint

__all__ = ["IdempotencyKey", "caller_scope", "claim_key", "command_key"]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="A repeat with the same key and body returns the first answer.",
    ),
]


def caller_scope(request: Request, kind: str) -> str:
    """``kind:<caller>``: the namespace of the caller's keys for one kind of request."""
    principal = getattr(request.state, "principal", None)
    if principal is None:  # every POST that takes a key authenticates first
        raise RuntimeError("an Idempotency-Key was claimed before the caller was known")
    return f"{kind}:{principal}"


def command_key(scope: str, key: str) -> str:
    """A fixed-length name of the caller's key, for the workflow that applies the command."""
    return hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()[:40]


async def claim_key(
    keys: IdempotencyKeys, request: Request, kind: str, key: str, body: Any, resource_id: str
) -> KeyClaim:
    """The claim of the caller's ``key`` for ``body``; the same key with another body is 422."""
    scope = caller_scope(request, kind)
    try:
        return await asyncio.to_thread(
            keys.claim, scope, key, request_fingerprint(body), resource_id
        )
    except IdempotencyKeyReused as exc:
        raise Problem(
            422, "idempotency_key_reused", "该 Idempotency-Key 已用于另一个请求", str(exc)
        ) from exc
