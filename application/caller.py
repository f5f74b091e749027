"""Who asks: the person or machine behind a request, whichever door it came through."""

from __future__ import annotations

from dataclasses import dataclass

from domain.vocabulary import Actor

__all__ = ["Caller"]


@dataclass(frozen=True, slots=True)
class Caller:
    actor: Actor  # goes into every event the request causes
    principal: str  # what the caller's Idempotency-Keys belong to, e.g. "token:<id>"
    request_id: str | None = None
