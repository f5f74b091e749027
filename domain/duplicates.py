"""Duplicate detection (减负): is a new finding a problem already open at the same unit?

Several channels (inspection, audit, petitions …) often report the same problem.
A finding that matches an open case of the same unit is merged into it
(``MergeDuplicateFinding``) instead of opening a second case; a supervisor can
override with ``OpenCase(override_duplicate=True)``.

Similarity is the Dice coefficient of character bigrams of the normalized
texts (bigrams suit Chinese, which has no spaces between words), weighted over
title, description and category. Exact fractions are used throughout and the
score is a ``Decimal`` with four places, so the same inputs always give the
same score on every machine (it ends up in an event).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from pydantic import BaseModel, ConfigDict

from domain.errors import InvalidCommand

__all__ = [
    "CaseSummary",
    "DuplicateMatch",
    "FindingText",
    "ensure_not_duplicate",
    "find_duplicate",
    "normalize",
    "similarity",
]

_TITLE_WEIGHT, _DESCRIPTION_WEIGHT, _CATEGORY_WEIGHT = 5, 3, 2
_PLACES = Decimal("0.0001")


class FindingText(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    description: str = ""
    category: str | None = None


class CaseSummary(FindingText):
    """An open case as the duplicate check sees it (from a read model)."""

    case_id: str
    unit_id: str


class DuplicateMatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    score: Decimal  # 0–1, four places; as a string in JSON

    @property
    def similarity(self) -> str:
        """The score as ``MergeDuplicateFinding.similarity`` wants it."""
        return str(self.score)


def normalize(text: str) -> str:
    """Full-width to half-width, case folded, only letters and digits kept."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _bigrams(text: str) -> Counter[str]:
    norm = normalize(text)
    if len(norm) < 2:
        return Counter([norm] if norm else [])
    return Counter(norm[i : i + 2] for i in range(len(norm) - 1))


def _dice(a: str, b: str) -> Fraction:
    grams_a, grams_b = _bigrams(a), _bigrams(b)
    total = sum(grams_a.values()) + sum(grams_b.values())
    if total == 0:
        return Fraction(0)
    return Fraction(2 * sum((grams_a & grams_b).values()), total)


def similarity(new: FindingText, existing: FindingText) -> Decimal:
    parts: list[tuple[Fraction, int]] = [(_dice(new.title, existing.title), _TITLE_WEIGHT)]
    if normalize(new.description) and normalize(existing.description):
        parts.append((_dice(new.description, existing.description), _DESCRIPTION_WEIGHT))
    if new.category and existing.category:
        same = Fraction(int(new.category == existing.category))
        parts.append((same, _CATEGORY_WEIGHT))
    score = sum((s * w for s, w in parts), Fraction(0)) / sum(w for _, w in parts)
    exact = Decimal(score.numerator) / Decimal(score.denominator)
    return exact.quantize(_PLACES, rounding=ROUND_HALF_EVEN)


def find_duplicate(
    new: FindingText,
    unit_id: str,
    open_cases: Iterable[CaseSummary],
    threshold: Decimal,
) -> DuplicateMatch | None:
    """The best-matching open case of the same unit scoring at least ``threshold``."""
    best: DuplicateMatch | None = None
    for case in sorted(open_cases, key=lambda c: c.case_id):  # ties go to the lowest id
        if case.unit_id != unit_id:
            continue
        score = similarity(new, case)
        if score >= threshold and (best is None or score > best.score):
            best = DuplicateMatch(case_id=case.case_id, score=score)
    return best


def ensure_not_duplicate(match: DuplicateMatch | None, override: bool) -> None:
    """Refuse to open a second case for the same problem unless a supervisor overrides."""
    if match is not None and not override:
        raise InvalidCommand(
            "duplicate_finding",
            f"该问题与在办案件 {match.case_id} 重复（相似度 {match.score}），"
            "请并入该案件，或由督查部门确认后另行立项",
            f"the finding duplicates open case {match.case_id} (similarity {match.score}); "
            "merge it, or have a supervisor override",
        )
