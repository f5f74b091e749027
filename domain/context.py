"""What every decision may consult besides the case and the command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.policy import Policy

__all__ = ["Context"]


@dataclass(frozen=True, slots=True)
class Context:
    now: datetime
    today: date  # the business date in China (see ``Policy.today``)
    policy: Policy
