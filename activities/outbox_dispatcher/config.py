"""What delivery needs to know, built from Settings by the composition root.

Activities may not import ``cli`` (tests/unit/test_import_rules.py), so the
settings arrive here as plain values.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["DeliveryConfig", "RetryPolicy", "SmtpConfig"]

SmtpSecurity = Literal["starttls", "tls", "none"]


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str | None = None  # None: no mail server, email rows wait (pending) until one is set
    port: int = 587
    security: SmtpSecurity = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "zhenggai@localhost"
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    backoff_base: float = 2.0  # seconds before the second attempt, doubled each time
    backoff_cap: float = 600.0

    def delay(self, attempts_done: int, rand: float | None = None) -> float:
        """Exponential with "equal jitter": half the step fixed, half random, so
        receivers coming back are not hit by every dispatcher at the same instant."""
        step = min(self.backoff_cap, self.backoff_base * 2.0 ** max(attempts_done - 1, 0))
        share: float = random.random() if rand is None else rand  # noqa: S311 - not cryptographic
        return step / 2 + share * step / 2


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    smtp: SmtpConfig = SmtpConfig()
    retry: RetryPolicy = RetryPolicy()
    language: str = "zh-CN"
    public_base_url: str = "http://127.0.0.1:8000"  # the site; links go to {base}/cases/{id}
    webhook_secret: str | None = field(default=None, repr=False)  # for contacts without one
    http_timeout: float = 10.0
    batch_size: int = 20
    poll_seconds: float = 2.0
    digest_hour: int = 8  # local hour from which each day's digests are gathered
    utc_offset_hours: int = 8  # China Standard Time

    @property
    def lease_seconds(self) -> float:
        """Long enough for a whole batch of slow receivers; a dead dispatcher's rows
        come back after it."""
        return self.batch_size * (max(self.smtp.timeout, self.http_timeout) + 5)
