"""Domain refusals as Temporal failures the caller can read.

The caller of a refused update (or of a failed start) gets an ``ApplicationError``
with ``type`` = the ``DomainError`` subclass name (PermissionDenied, InvalidCommand,
InvalidState), ``message`` = the English message and ``details`` = (code, Chinese
message). The API maps the type to 403/422/409.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from domain.errors import DomainError

__all__ = ["refusal"]


def refusal(exc: DomainError) -> ApplicationError:
    return ApplicationError(
        exc.message_en, exc.code, exc.message_zh, type=type(exc).__name__, non_retryable=True
    )
