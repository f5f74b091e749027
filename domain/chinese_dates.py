"""How a date is written in a Chinese sentence: 2026年12月4日, never 2026-12-04.

The one place of the rule, for the domain's refusals and for every layer above that
writes a date into Chinese text (the console, the ledgers, the notices). English
text keeps ISO dates (``date.isoformat()``).
"""

from __future__ import annotations

from datetime import date

__all__ = ["zh_date"]


def zh_date(day: date) -> str:
    """``date(2026, 12, 4)`` → ``"2026年12月4日"``: no zero padding. A datetime gives
    its own calendar day (convert it to the wanted time zone first)."""
    return f"{day.year}年{day.month}月{day.day}日"
