"""Duplicate detection (减负): is a new finding a problem already open at the same unit?

Several channels (inspection, audit, petitions …) often report the same problem.
A finding that matches an open case of the same unit is merged into it
(``MergeDuplicateFinding``) instead of opening a second case; a supervisor can
override with ``OpenCase(override_duplicate=True)``.

Two measures live here. ``similarity``/``find_duplicate``: the Dice coefficient of
character bigrams of the normalized texts, weighted over title, description and
category, at ``Policy.duplicate_threshold`` (the old check, kept as the baseline).
``judge``/``similar_cases`` (issue 27, below): robust to the rewordings offices use,
in two bands (``Policy.duplicate_auto_threshold`` merges without asking,
``duplicate_possible_threshold`` asks a person). Exact fractions are used throughout
and a score is a ``Decimal`` with four places, so the same inputs always give the
same score on every machine (it ends up in an event).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from fractions import Fraction

from pydantic import BaseModel, ConfigDict

from domain.errors import InvalidCommand

__all__ = [
    "Analysed",
    "Band",
    "CaseSummary",
    "DuplicateMatch",
    "FindingText",
    "Lexicon",
    "SimilarCase",
    "analyse",
    "band_of",
    "ensure_not_duplicate",
    "find_duplicate",
    "judge",
    "lexicon_from_mapping",
    "normalize",
    "reachable",
    "similar_cases",
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


# -- the measure robust to rewording (issue 27) ------------------------------------------
#
# The bigram Dice above is kept as the baseline (bench/duplicates.py) and for
# ``find_duplicate``; the API judges with ``judge`` and the two bands.
#
# 1. ``Lexicon.canonical``: width and case folded, punctuation dropped; in one pass,
#    longest first, every synonym or abbreviation replaced by its canonical form
#    (医保 → 医疗保障, 违反规定 → 违规, 河流 → 河道 …) and every filler deleted
#    (问题, 存在, 情况, 较为, 仍未整改到位 …). The words are data
#    (``application/duplicate_lexicon.toml``, extended by the policy file's
#    ``[duplicates]`` words), read outside the domain.
# 2. The caller segments the canonical text into words (jieba, outside the domain)
#    and hands ``analyse`` a ``segment`` function; the domain never imports it.
# 3. ``judge``: on the title, the containment of canonical character bigrams
#    (an added place, adverb or clause does not lower it much) averaged with their
#    Dice; a penalty when *both* sides hold words the other lacks (a substitution, not
#    an addition), heavier when such a word is an object: a place (镇, 村, 社区 …), an
#    organisation, a programme or object noun of the lexicon, or a number. The
#    description counts only when it raises the score, so a longer description cannot
#    hide a matching title; another category lowers it.
# All arithmetic is on integers and ``Fraction``: the same inputs give the same score
# everywhere (it is recorded in ``DuplicateFindingMerged.similarity``).


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it keys caches
class Lexicon:
    """Words of government language for the duplicate measure.

    ``synonyms``: variant -> canonical form; ``fillers``: words deleted before
    comparing; ``objects``: nouns naming an object or programme (a finding about
    another one is another problem); ``object_suffixes``: endings of place and
    organisation names.
    """

    synonyms: tuple[tuple[str, str], ...] = ()
    fillers: tuple[str, ...] = ()
    objects: frozenset[str] = frozenset()
    object_suffixes: tuple[str, ...] = ()
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _table: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A canonical form and an object stay themselves (no filler is cut out of them).
        kept = {c: c for _, c in self.synonyms} | {o: o for o in self.objects}
        table = {**dict.fromkeys(self.fillers, ""), **kept, **dict(self.synonyms)}
        keys = sorted((k for k in table if k), key=lambda k: (-len(k), k))
        pattern = re.compile("|".join(re.escape(k) for k in keys)) if keys else None
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_pattern", pattern)

    def extended(self, other: Lexicon) -> Lexicon:
        """This lexicon with ``other``'s words added (``other`` wins on a synonym)."""
        return Lexicon(
            synonyms=tuple({**dict(self.synonyms), **dict(other.synonyms)}.items()),
            fillers=tuple(dict.fromkeys(self.fillers + other.fillers)),
            objects=self.objects | other.objects,
            object_suffixes=tuple(dict.fromkeys(self.object_suffixes + other.object_suffixes)),
        )

    def canonical(self, text: str) -> str:
        """Normalized, synonyms replaced by their canonical form, fillers deleted
        (one pass, the longest word first at each place)."""
        norm = normalize(text)
        if self._pattern is None:
            return norm
        table = self._table
        return self._pattern.sub(lambda m: table[m.group(0)], norm)

    def is_object(self, word: str) -> bool:
        if any(ch.isdigit() or ch.isascii() for ch in word):
            return True
        if word in self.objects:
            return True
        return len(word) >= 2 and word.endswith(self.object_suffixes)


def lexicon_from_mapping(data: dict[str, object]) -> Lexicon:
    """A lexicon from the TOML shape: ``[synonyms] canonical = [variants…]``,
    ``fillers = [...]``, ``objects = [...]``, ``object_suffixes = [...]``."""
    synonyms: dict[str, str] = {}
    raw = data.get("synonyms", {})
    if not isinstance(raw, dict):
        raise ValueError("synonyms must be a table: canonical = [variants]")
    for canonical, variants in raw.items():
        if isinstance(variants, str):
            variants = [variants]
        if not isinstance(variants, list):
            raise ValueError(f"synonyms.{canonical} must be a list of variants")
        for variant in variants:
            key = normalize(str(variant))
            if key and key != normalize(canonical):
                synonyms[key] = normalize(canonical)

    def words(name: str) -> tuple[str, ...]:
        value = data.get(name, [])
        if not isinstance(value, list):
            raise ValueError(f"{name} must be a list of words")
        return tuple(w for w in (normalize(str(v)) for v in value) if w)

    return Lexicon(
        synonyms=tuple(synonyms.items()),
        fillers=words("fillers"),
        objects=frozenset(words("objects")),
        object_suffixes=words("object_suffixes"),
    )


@dataclass(frozen=True, slots=True)
class _Field:
    text: str  # canonical
    words: tuple[str, ...]  # the canonical text segmented, stop characters dropped
    grams: frozenset[str]  # character bigrams of ``text``
    objects: frozenset[str]  # words naming an object or place


@dataclass(frozen=True, slots=True)
class Analysed:
    """A finding's text prepared for ``judge`` (prepare once, compare many times)."""

    title: _Field
    description: _Field
    category: str | None


_STOP = frozenset("的了和与及或等在对把被由于以为是有、")


def _field(text: str, lexicon: Lexicon, segment: Callable[[str], Sequence[str]]) -> _Field:
    canon = lexicon.canonical(text)
    words = tuple(w for w in segment(canon) if w and w not in _STOP)
    grams = frozenset(canon[i : i + 2] for i in range(len(canon) - 1)) or frozenset(
        [canon] if canon else []
    )
    named = (o for o in lexicon.objects if o in canon)
    objects = frozenset(w for w in words if lexicon.is_object(w)).union(named)
    return _Field(canon, words, grams, objects)


def _characters(text: str) -> list[str]:
    return list(text)


def analyse(
    finding: FindingText,
    lexicon: Lexicon,
    segment: Callable[[str], Sequence[str]] = _characters,
) -> Analysed:
    """``segment``: the word segmenter (the application passes jieba's); by default
    single characters, which leaves only the bigram part of the measure."""
    title = _field(finding.title, lexicon, segment)
    description = _field(finding.description, lexicon, segment)
    category = finding.category or None
    return Analysed(title, description, category)


_OBJECT_PENALTY = Fraction(2, 5)  # a different object leaves at most 2/5 of the score
_WORD_PENALTY = Fraction(1, 8)  # per character of other words on both sides
_MAX_WORD_PENALTY = Fraction(1, 2)
_CATEGORY_PENALTY = Fraction(3, 4)
_DESCRIPTION_SHARE = Fraction(1, 3)
_TITLE_FLOOR = Fraction(1, 4)  # a description confirms a title at least this close


def _unique(words: tuple[str, ...], other: str) -> list[str]:
    """The words not found in the other text (as a substring: segmentation may differ)."""
    return [w for w in words if w not in other]


def _other_object(a: _Field, only_a: list[str], b: _Field) -> bool:
    """``a`` names an object ``b`` lacks: a word of the lexicon's objects or a place,
    or a word of its own in the leading noun phrase (the first half of the text,
    where findings name what they are about)."""
    if any(o not in b.text for o in a.objects):
        return True
    half = len(a.text) // 2
    return any(a.text.find(w) < half for w in only_a)


def _field_score(a: _Field, b: _Field) -> Fraction:
    if not a.grams or not b.grams:
        return Fraction(0)
    if a.text == b.text:
        return Fraction(1)
    common = len(a.grams & b.grams)
    containment = Fraction(common, min(len(a.grams), len(b.grams)))
    dice = Fraction(2 * common, len(a.grams) + len(b.grams))
    base = (containment + dice) / 2
    only_a, only_b = _unique(a.words, b.text), _unique(b.words, a.text)
    if not only_a or not only_b:
        return base  # one side only adds words: a place, an adverb, a clause
    penalty = min(
        _MAX_WORD_PENALTY,
        _WORD_PENALTY * min(sum(map(len, only_a)), sum(map(len, only_b))),
    )
    score = base * (1 - penalty)
    if _other_object(a, only_a, b) and _other_object(b, only_b, a):
        score *= _OBJECT_PENALTY  # the same pattern about another place or object
    return score


def _judge(a: Analysed, b: Analysed) -> Fraction:
    title = _field_score(a.title, b.title)
    score = title
    if title >= _TITLE_FLOOR and a.description.grams and b.description.grams:
        both = (1 - _DESCRIPTION_SHARE) * title + _DESCRIPTION_SHARE * _field_score(
            a.description, b.description
        )
        score = max(title, both)  # a description may confirm, never hide, a title
    if a.category and b.category and a.category != b.category:
        score *= _CATEGORY_PENALTY
    return score


def judge(a: Analysed, b: Analysed) -> Decimal:
    """How surely ``a`` and ``b`` describe the same problem: 0–1, four places."""
    score = _judge(a, b)
    exact = Decimal(score.numerator) / Decimal(score.denominator)
    return exact.quantize(_PLACES, rounding=ROUND_HALF_EVEN)


class Band(StrEnum):
    AUTOMATIC = "automatic"  # merged without asking
    POSSIBLE = "possible"  # a person decides: merge into it, or open a new case


class SimilarCase(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    title: str
    score: Decimal
    band: Band


def band_of(score: Decimal, automatic: Decimal, possible: Decimal) -> Band | None:
    if score >= automatic:
        return Band.AUTOMATIC
    if score >= possible:
        return Band.POSSIBLE
    return None


def reachable(new: Analysed, common: int, other_size: int, possible: Decimal) -> bool:
    """Whether a case whose title has ``other_size`` bigrams, ``common`` of them shared
    with ``new``'s title, could score at least ``possible`` (an upper bound: the
    title's score is at most the mean of the containment and the Dice of the bigrams,
    and a description raises it by at most a third of the rest)."""
    size = len(new.title.grams)
    if not size or not other_size or not common:
        return False
    t = (common / min(size, other_size) + 2 * common / (size + other_size)) / 2
    bar = float(possible) - 1e-9
    if t >= bar:
        return True
    described = bool(new.description.grams)
    return t >= _TITLE_FLOOR and described and t + (1 - t) * float(_DESCRIPTION_SHARE) >= bar


def similar_cases(
    new: Analysed,
    candidates: Iterable[tuple[CaseSummary, Analysed]],
    automatic: Decimal,
    possible: Decimal,
    limit: int = 10,
) -> list[SimilarCase]:
    """The candidates in a band, best first (ties: lowest case id), at most ``limit``.

    The prefilter: a candidate whose score cannot reach ``possible`` is skipped
    without being judged. The title's score is at most ``t``, the mean of the
    containment and the Dice of its bigrams (penalties only lower it), and a
    description raises it to at most ``t + (1 - t) / 3`` (only from ``_TITLE_FLOOR``
    up), so a bound under the threshold rules the candidate out."""
    found: list[SimilarCase] = []
    grams = new.title.grams
    for case, analysed in candidates:
        other = analysed.title.grams
        if not reachable(new, len(grams & other), len(other), possible):
            continue
        score = judge(new, analysed)
        band = band_of(score, automatic, possible)
        if band is not None:
            found.append(
                SimilarCase(case_id=case.case_id, title=case.title, score=score, band=band)
            )
    found.sort(key=lambda s: (-s.score, s.case_id))
    return found[:limit]
