"""The operator's policy file (``ZHENGGAI_POLICY_FILE``): read, checked, told in one line
per problem.

The domain parses a mapping into a ``PolicyBook`` (``domain.policy``); reading the
file and wording its problems for an operator happen here, for every process that
starts with a policy (the API, the worker) and for ``zhenggai policy``.
"""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from pathlib import Path

from domain.policy import DEFAULT_BOOK, PolicyBook, PolicyInvalid, policy_book_from_mapping

__all__ = [
    "PROVISIONAL_WARNING_DAYS",
    "PolicyFileError",
    "policy_book",
    "provisional_warning",
    "provisional_years_ahead",
    "read_policy_file",
]

PROVISIONAL_WARNING_DAYS = 60


class PolicyFileError(Exception):
    """A policy file that cannot be used: ``lines`` holds one line per problem, each
    naming the file and the key."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = tuple(lines)


def _zh(language: str) -> bool:
    return language != "en"


def read_policy_file(path: Path, language: str = "zh-CN") -> PolicyBook:
    """The rules of the file at ``path``, or ``PolicyFileError`` naming every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        line = (
            f"{path}: 无法读取策略文件（{reason}）"
            if _zh(language)
            else f"{path}: cannot read the policy file ({reason})"
        )
        raise PolicyFileError([line]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = (
            f"{path}: 不是有效的 TOML（{exc}）"
            if _zh(language)
            else f"{path}: not valid TOML ({exc})"
        )
        raise PolicyFileError([line]) from None
    try:
        return policy_book_from_mapping(data)
    except PolicyInvalid as exc:
        raise PolicyFileError(
            [f"{path}: {problem.key}: {problem.message(language)}" for problem in exc.problems]
        ) from None


def policy_book(policy_file: Path | None, language: str = "zh-CN") -> PolicyBook:
    """The rules in force: the file's when one is set, else the built-in defaults."""
    return DEFAULT_BOOK if policy_file is None else read_policy_file(policy_file, language)


def provisional_years_ahead(
    book: PolicyBook, today: date, days: int = PROVISIONAL_WARNING_DAYS
) -> list[int]:
    """The years met within ``days`` of ``today`` that have no official or operator data."""
    last = today + timedelta(days=days)
    years = range(today.year, last.year + 1)
    return [year for year in years if book.base.calendar.year_source(year) == "provisional"]


def provisional_warning(book: PolicyBook, today: date, language: str = "zh-CN") -> str | None:
    """The warning line for ``zhenggai up`` and the worker, or None when all is known."""
    years = provisional_years_ahead(book, today)
    if not years:
        return None
    listed = "、".join(str(y) for y in years) if _zh(language) else ", ".join(map(str, years))
    if _zh(language):
        return (
            f"{listed} 年的工作日历尚无官方数据，按临时日历计算的期限会标为“临时”；"
            "国务院办公厅公布放假安排后，请把该年写入策略文件（[[calendar.years]]）"
            "并运行 zhenggai calendar apply"
        )
    return (
        f"no official working-day calendar for {listed}: deadlines counted on it are marked "
        "provisional; once the State Council's notice is out, add the year to the policy "
        "file ([[calendar.years]]) and run `zhenggai calendar apply`"
    )
