"""Which open cases a finding may repeat (减负): the use case behind
``GET /findings/similar``, the check of ``POST /findings``, the console and the importers.

The unit's open cases come from the case summary; each is judged by
``domain.duplicates.judge`` on text prepared by ``application.duplicate_text``
(jieba words, the shipped lexicon and the policy's ``[duplicates]`` words). Two
bands from the unit class's policy: at least ``duplicate_auto_threshold`` the finding
is merged without asking; from ``duplicate_possible_threshold`` a person decides.

Speed: the analyses are cached by text, so a unit's open cases are segmented once
per process, and each unit keeps an inverted index of its open cases' title bigrams
(brought up to date with the case summary's rows on every check): only the cases
sharing bigrams with the new title whose upper bound reaches the possible band are
judged.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from application.access import ensure_role, in_scope
from application.caller import Caller
from application.duplicate_text import analysed, lexicon_of
from application.errors import Refusal
from application.services import Services
from domain.duplicates import (
    Analysed,
    CaseSummary,
    FindingText,
    Lexicon,
    SimilarCase,
    reachable,
    similar_cases,
)
from domain.policy import Policy
from domain.vocabulary import Role
from store.projections.case_summary import open_cases_of_unit

__all__ = ["judge_against", "similar_open_cases"]


class _Index:
    """One unit's open cases, analysed, with an inverted index of their titles'
    bigrams: a check looks only at the cases sharing a bigram with the new title and
    whose bound (``reachable``) reaches the possible band, not at every open case.
    A case's title, description and category are those of its first finding and
    never change, so the index follows the open cases by id."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[str, tuple[CaseSummary, Analysed]] = {}
        self.sizes: dict[str, int] = {}
        self.postings: dict[str, set[str]] = {}

    def sync(self, cases: Iterable[CaseSummary], lexicon: Lexicon) -> None:
        current = {c.case_id: c for c in cases}
        known = self.entries.keys()
        for case_id in known - current.keys():
            _, found = self.entries.pop(case_id)
            del self.sizes[case_id]
            for gram in found.title.grams:
                self.postings[gram].discard(case_id)
        for case_id in current.keys() - known:
            case = current[case_id]
            found = analysed(case.title, case.description, case.category, lexicon)
            self.entries[case_id] = (case, found)
            self.sizes[case_id] = len(found.title.grams)
            for gram in found.title.grams:
                self.postings.setdefault(gram, set()).add(case_id)

    def candidates(self, new: Analysed, possible: Decimal) -> list[tuple[CaseSummary, Analysed]]:
        shared: Counter[str] = Counter()
        for gram in new.title.grams:
            shared.update(self.postings.get(gram, ()))
        sizes, entries = self.sizes, self.entries
        return [
            entries[case_id]
            for case_id, common in shared.items()
            if reachable(new, common, sizes[case_id], possible)
        ]


_INDEXES: dict[tuple[str, int], _Index] = {}
_INDEXES_LOCK = threading.Lock()


def _index(unit_id: str, lexicon: Lexicon) -> _Index:
    with _INDEXES_LOCK:
        return _INDEXES.setdefault((unit_id, id(lexicon)), _Index())


def judge_against(
    text: FindingText,
    open_cases: Iterable[CaseSummary],
    policy: Policy,
    limit: int = 10,
    unit_id: str | None = None,
) -> list[SimilarCase]:
    """The open cases in a band for ``text``, best first. With ``unit_id`` the unit's
    index is kept in this process and brought up to date with ``open_cases``."""
    lexicon = lexicon_of(policy)
    new = analysed(text.title, text.description, text.category, lexicon)
    possible = policy.duplicate_possible_threshold
    if unit_id is None:
        candidates: Iterable[tuple[CaseSummary, Analysed]] = (
            (case, analysed(case.title, case.description, case.category, lexicon))
            for case in open_cases
        )
    else:
        index = _index(unit_id, lexicon)
        with index.lock:
            index.sync(open_cases, lexicon)
            candidates = index.candidates(new, possible)
    return similar_cases(new, candidates, policy.duplicate_auto_threshold, possible, limit)


def similar_to(
    services: Services, unit_id: str, text: FindingText, policy: Policy
) -> list[SimilarCase]:
    open_cases = open_cases_of_unit(services.store.engine, unit_id)
    return judge_against(text, open_cases, policy, unit_id=unit_id)


async def similar_open_cases(
    services: Services, caller: Caller, unit_id: str, text: FindingText
) -> list[SimilarCase]:
    """Ask before submitting: the unit's open cases the finding may repeat, with
    scores and bands. The unit must be in the supervisor's subtree."""
    ensure_role(caller.actor, Role.SUPERVISOR)

    def run() -> list[SimilarCase]:
        unit = services.directory.unit(unit_id)
        if unit is None or not in_scope(services.directory, caller.actor, unit_id):
            raise Refusal(
                422,
                "unit_not_found",
                f"责任单位 {unit_id} 不存在或不在您的管辖范围内",
                f"unit {unit_id} does not exist within your scope",
                errors=[{"field": "query.unit_id", "message": "unknown unit"}],
            )
        policy = services.policy.for_class(unit.unit_class)
        return similar_to(services, unit_id, text, policy)

    return await asyncio.to_thread(run)
