"""How a use case says no: one error type that every door (API, console, importers) shows.

``Refusal`` carries the kind of refusal as the HTTP status the API answers with
(404 not found or not in scope, 403 not allowed, 409 not in this state, 413 too
large, 415 not an accepted kind of file, 422 invalid input, 503 a service is
away, 500 failed), a stable ``code``, and the message in Chinese and English.
The console and the importers show the messages; the API renders problem+json
(``api.problems``). Domain errors become refusals in ``from_domain``, the one
place that says which domain error is which kind.
"""

from __future__ import annotations

from typing import Any

from domain.errors import DomainError, InvalidCommand, InvalidState, PermissionDenied

__all__ = ["RETRY_AFTER_SECONDS", "Refusal", "from_domain"]

# What a 503 tells clients to wait: about the time `zhenggai up` takes to restart a
# dead child, or a database to come back from a failover.
RETRY_AFTER_SECONDS = 5


class Refusal(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message_zh: str,
        message_en: str,
        *,
        retry_after: int | None = None,
        replayed: bool = False,
        **extra: Any,
    ) -> None:
        super().__init__(message_en)
        self.status = status
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.retry_after = retry_after  # seconds, for a refusal that passes (503)
        self.replayed = replayed  # the kept first answer of an Idempotency-Key
        self.extra = extra  # e.g. ``errors`` (the wrong fields), ``case_id``

    def message(self, language: str) -> str:
        return self.message_en if language == "en" else self.message_zh


def from_domain(error: DomainError) -> Refusal:
    status = 422
    if isinstance(error, PermissionDenied):
        status = 403
    elif isinstance(error, InvalidState):
        status = 409
    elif isinstance(error, InvalidCommand):
        status = 422
    return Refusal(status, error.code, error.message_zh, error.message_en)
