"""Idempotency-Keys: a caller's key claimed for a request, and its first answer kept.

A key belongs to the caller that sent it: the claim's scope is the kind of
request and the caller, so another caller's same key is a new request of theirs
and never gets someone else's answer. The first answer (a result, or a refusal
403/409/422) is kept with the claim; a repeat gets it back without running again.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from application.caller import Caller
from application.errors import Refusal
from store.idempotency import (
    IdempotencyKeyReused,
    IdempotencyKeys,
    KeyClaim,
    StoredAnswer,
    request_fingerprint,
)

__all__ = [
    "REFUSALS_KEPT",
    "caller_scope",
    "claim_key",
    "command_key",
    "keep_answer",
    "keep_refusal",
    "kept_refusal",
]

# Refusals by a rule are answers too: a repeat gets the same refusal, even if the
# case has since changed so that the command would now pass (send a new key for that).
REFUSALS_KEPT = frozenset({403, 409, 422})


def caller_scope(caller: Caller, kind: str) -> str:
    """``kind:<caller>``: the namespace of the caller's keys for one kind of request."""
    return f"{kind}:{caller.principal}"


def command_key(scope: str, key: str) -> str:
    """A fixed-length name of the caller's key, for the workflow that applies the command."""
    return hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()[:40]


async def claim_key(
    keys: IdempotencyKeys, caller: Caller, kind: str, key: str, body: Any, resource_id: str
) -> KeyClaim:
    """The claim of the caller's ``key`` for ``body``; the same key with another body is 422."""
    scope = caller_scope(caller, kind)
    try:
        return await asyncio.to_thread(
            keys.claim, scope, key, request_fingerprint(body), resource_id
        )
    except IdempotencyKeyReused as exc:
        raise Refusal(
            422, "idempotency_key_reused", "该 Idempotency-Key 已用于另一个请求", str(exc)
        ) from exc


async def keep_answer(
    keys: IdempotencyKeys, caller: Caller, kind: str, key: str, status: int, body: Any
) -> None:
    await asyncio.to_thread(keys.answer, caller_scope(caller, kind), key, status, body)


async def keep_refusal(
    keys: IdempotencyKeys, caller: Caller, kind: str, key: str, refusal: Refusal
) -> None:
    """Keep a refusal by a rule as the key's answer; a 503 or 500 is not an answer."""
    if refusal.status in REFUSALS_KEPT:
        body = {
            "code": refusal.code,
            "message_zh": refusal.message_zh,
            "message_en": refusal.message_en,
            "extra": refusal.extra,
        }
        await keep_answer(keys, caller, kind, key, refusal.status, body)


def kept_refusal(answer: StoredAnswer) -> Refusal:
    body = answer.body
    return Refusal(
        answer.status,
        body["code"],
        body["message_zh"],
        body["message_en"],
        replayed=True,
        **body.get("extra", {}),
    )
