"""Why a delivery failed, in one line: what the outbox records and the operator reads."""

from __future__ import annotations

__all__ = ["DeliveryFailed"]


class DeliveryFailed(Exception):
    """The receiver did not take the message; the dispatcher retries it later."""
