"""The 阶段节点 cell of a ledger: the milestones of a long-term case (长期整改) in one
cell, as offices write them, read by the import and written by the export.

One milestone per line, or separated by ``；`` / ``;``; each a date and a title in
either order::

    2027年3月31日 完成管网排查；2027年9月30日 一期管网改造完成
    完成管网排查（2027年3月31日前）
    1. 2027-03-31：完成管网排查
    2027年6月底前 完成二期设计

The date is found inside the text in the forms ``reading.parse_date`` reads
(2027年3月31日, 2027-03-31, 2027/3/31, 2027.3.31, 20270331, 2027年3月底); words around
it that only say "by" (前, 之前, 截至, 完成时间：…) and a leading number (1. 1、 （1） ①)
are not part of the title. A mark ``（已报告）``, which the export writes after a
reported milestone, is ignored. The milestones are numbered m1, m2 … in order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from application.ledgers.reading import Cell, cell_text, parse_date

__all__ = [
    "REPORTED_MARK",
    "CellMilestone",
    "MilestoneCellProblem",
    "format_milestones",
    "parse_milestones",
]

REPORTED_MARK = "（已报告）"
FORMS_ZH = "2027年3月31日、2027-03-31、2027/3/31、2027.3.31 或 2027年3月底"

_SEPARATORS = re.compile(r"[\n\r；;]+")
# A leading number of a list (1. 1、 1） （1） ①), not a decimal (1.5 公里).
_ENUMERATOR = re.compile(
    r"^\s*(?:[（(]\s*\d{1,2}\s*[)）]|\d{1,2}\s*(?:[、)）]|[.．](?!\d{1,3}(?!\d)))|[①-⑳])\s*"
)
_MARK = re.compile(r"[（(【\[]\s*已(?:报告|报送)\s*[)）】\]]")
_WIDE = str.maketrans("０１２３４５６７８９．／－", "0123456789./-")
# A date inside text: the forms parse_date reads, without the words around them.
_DATE = re.compile(
    r"(?<!\d)(?:"
    r"\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号]?|\s*[底末])?"
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
    r"|(?:19|20)\d{6}"
    r")(?!\d)"
)
_EIGHT_DIGITS = re.compile(r"^\d{8}$")
_BEFORE = re.compile(
    r"(?:^\s*在|(?:完成|截止|节点)?(?:时间|时限|日期|期限)\s*[:：为]?|截至|截止(?:到|至)?|于|到)\s*$"
)
_AFTER = re.compile(r"^\s*(?:前|之前|以前)")
_EMPTY_BRACKETS = re.compile(r"[（(【\[]\s*[)）】\]]")
_EDGES = " \t\u3000,，、:：.。·-—–~～"


@dataclass(frozen=True, slots=True)
class CellMilestone:
    """One milestone read from (or written to) a cell."""

    title: str
    due: date
    reported: bool = False


@dataclass(frozen=True, slots=True)
class MilestoneCellProblem:
    """What is wrong with a part of the cell, in Chinese and English."""

    message_zh: str
    message_en: str


def _dates(part: str) -> tuple[list[tuple[re.Match[str], date]], list[str]]:
    """The dates found in the part, and the date-like texts that are no date."""
    found: list[tuple[re.Match[str], date]] = []
    bad: list[str] = []
    for match in _DATE.finditer(part):
        text = re.sub(r"\s+", "", match.group(0))
        try:
            day = parse_date(text)
        except ValueError:
            # Eight digits that make no date are a number of the title (20000000 元).
            if not _EIGHT_DIGITS.match(text):
                bad.append(match.group(0))
            continue
        if day is not None:
            found.append((match, day))
    return found, bad


def _title(part: str, match: re.Match[str]) -> str:
    before, after = part[: match.start()], part[match.end() :]
    before = _BEFORE.sub("", before)
    after = _AFTER.sub("", after)
    title = f"{before.rstrip()} {after.lstrip()}".strip()
    title = _EMPTY_BRACKETS.sub("", title)
    return title.strip(_EDGES).strip()


def _part(part: str, number: int) -> tuple[CellMilestone | None, list[MilestoneCellProblem]]:
    shown = part.strip()
    at_zh, at_en = f"第 {number} 个节点「{shown}」", f"milestone {number} ({shown!r})"
    reported = _MARK.search(part) is not None
    text = _ENUMERATOR.sub("", _MARK.sub("", part), count=1)
    found, bad = _dates(text)
    if bad:
        return None, [
            MilestoneCellProblem(
                f"{at_zh}的日期「{bad[0]}」不是有效日期（可写 {FORMS_ZH}）",
                f"{at_en}: {bad[0]!r} is not a date",
            )
        ]
    if not found:
        return None, [
            MilestoneCellProblem(
                f"{at_zh}没有日期：每个节点须写明完成日期和节点内容，"
                f"如「2027年3月31日 完成管网排查」（日期可写 {FORMS_ZH}）",
                f"{at_en} has no date: write each milestone as a date and a title",
            )
        ]
    if len(found) > 1:
        return None, [
            MilestoneCellProblem(
                f"{at_zh}有多个日期：每个节点只写一个完成日期，节点之间用“；”或换行分隔",
                f"{at_en} has several dates: one date per milestone, separated by ; or a new line",
            )
        ]
    match, due = found[0]
    title = _title(text, match)
    if not title:
        return None, [
            MilestoneCellProblem(
                f"{at_zh}没有节点内容：请在日期旁写明该节点要完成什么，"
                "如「2027年3月31日 完成管网排查」",
                f"{at_en} has no title: write what is due beside the date",
            )
        ]
    return CellMilestone(title=title, due=due, reported=reported), []


def parse_milestones(value: Cell) -> tuple[list[CellMilestone], list[MilestoneCellProblem]]:
    """The milestones of a cell in order, and every problem of its parts (an empty
    cell has neither)."""
    # Full-width digits and date marks are read as ASCII; the rest of a title is kept.
    text = cell_text(value).translate(_WIDE)
    milestones: list[CellMilestone] = []
    problems: list[MilestoneCellProblem] = []
    parts = [p for p in _SEPARATORS.split(text) if p.strip(_EDGES)]
    for number, part in enumerate(parts, start=1):
        milestone, found = _part(part, number)
        problems += found
        if milestone is not None:
            milestones.append(milestone)
    return milestones, problems


def _cell_title(title: str) -> str:
    """A title as a cell holds it: its own separators would split it on import."""
    return re.sub(r"\s*[\n\r；;]+\s*", "，", title).strip()


def format_milestones(milestones: Iterable[CellMilestone]) -> str:
    """``2027年3月31日 完成管网排查；2027年9月30日 一期管网改造完成（已报告）``: what
    ``parse_milestones`` reads back (the mark is ignored there)."""
    return "；".join(
        f"{m.due.year}年{m.due.month}月{m.due.day}日 {_cell_title(m.title)}"
        + (REPORTED_MARK if m.reported else "")
        for m in milestones
    )
