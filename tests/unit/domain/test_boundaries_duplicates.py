"""The duplicate bands (domain/duplicates.py): a score on the threshold merges, a score
just under it does not; ties go to the lowest case id; other units never match.

Titles are built so their Dice coefficient of bigrams is known by hand: "ABCDEF" and
"ABCDXY" share AB, BC, CD of five bigrams each, 2 * 3 / 10 = 0.6.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.duplicates import CaseSummary, FindingText, find_duplicate, similarity
from domain.policy import DEFAULT_POLICY

NEW = FindingText(title="ABCDEF")
STEP = Decimal("0.0001")  # scores have four places


def _case(title: str, case_id: str = "C-1", unit_id: str = "unit-a") -> CaseSummary:
    return CaseSummary(case_id=case_id, unit_id=unit_id, title=title)


@pytest.mark.parametrize(
    ("title", "score"),
    [
        ("ABCDEF", Decimal("1.0000")),
        ("ABCDXY", Decimal("0.6000")),  # 3 of 5 + 5 bigrams
        ("ABCDEXY", Decimal("0.7273")),  # 2 * 4 / (5 + 6)
        ("ABCXYZ", Decimal("0.4000")),  # 2 of 5 + 5
        ("ABCDXYZ", Decimal("0.5455")),  # 2 * 3 / (5 + 6)
        ("UVWXYZ", Decimal("0.0000")),
    ],
)
def test_similarity_is_the_dice_coefficient_of_bigrams(title: str, score: Decimal) -> None:
    assert similarity(NEW, FindingText(title=title)) == score


@pytest.mark.parametrize(
    ("threshold", "matches"),
    [
        (Decimal("0.5999"), True),  # just below the score
        (Decimal("0.6000"), True),  # on it: "at least the threshold"
        (Decimal("0.6001"), False),  # just above it
    ],
)
def test_a_score_on_the_threshold_is_a_duplicate(threshold: Decimal, matches: bool) -> None:
    found = find_duplicate(NEW, "unit-a", [_case("ABCDXY")], threshold)
    assert (found is not None) is matches
    if found is not None:
        assert found.score == Decimal("0.6000")


def test_the_shipped_threshold_merges_a_score_of_point_six_and_not_point_five_five() -> None:
    threshold = DEFAULT_POLICY.duplicate_threshold
    assert threshold == Decimal("0.6")
    assert find_duplicate(NEW, "unit-a", [_case("ABCDXY")], threshold) is not None
    assert find_duplicate(NEW, "unit-a", [_case("ABCDXYZ")], threshold) is None


@pytest.mark.parametrize("delta", [-STEP, Decimal(0), STEP])
def test_the_band_edge_follows_any_threshold(delta: Decimal) -> None:
    existing = _case("ABCDEXY")
    score = similarity(NEW, existing)
    found = find_duplicate(NEW, "unit-a", [existing], score + delta)
    assert (found is not None) is (delta <= 0)


def test_the_best_score_wins_and_ties_go_to_the_lowest_case_id() -> None:
    cases = [_case("ABCDXY", "C-3"), _case("ABCDEXY", "C-9"), _case("ABCDEXY", "C-5")]
    found = find_duplicate(NEW, "unit-a", cases, Decimal("0.5"))
    assert found is not None
    assert (found.case_id, found.score) == ("C-5", Decimal("0.7273"))


def test_a_case_of_another_unit_never_matches() -> None:
    other = _case("ABCDEF", unit_id="unit-b")
    assert find_duplicate(NEW, "unit-a", [other], Decimal("0")) is None


def test_a_threshold_of_zero_matches_even_nothing_in_common_and_one_only_the_same() -> None:
    assert find_duplicate(NEW, "unit-a", [_case("UVWXYZ")], Decimal("0")) is not None
    assert find_duplicate(NEW, "unit-a", [_case("ABCDEXY")], Decimal("1")) is None
    assert find_duplicate(NEW, "unit-a", [_case("abcdef")], Decimal("1")) is not None


def test_title_description_and_category_weigh_five_three_and_two() -> None:
    new = FindingText(title="ABCDEF", description="ABCDEF", category="ecology")
    same_title_only = FindingText(title="ABCDEF", description="UVWXYZ", category="economy")
    assert similarity(new, same_title_only) == Decimal("0.5000")  # 5 / (5 + 3 + 2)
    same_category = FindingText(title="UVWXYZ", description="UVWXYZ", category="ecology")
    assert similarity(new, same_category) == Decimal("0.2000")  # 2 / 10
    no_description = FindingText(title="ABCDEF", category="economy")
    assert similarity(new, no_description) == Decimal("0.7143")  # 5 / (5 + 2)


# -- the bands: automatic merge, a person decides, or nothing ------------------------------

AUTOMATIC, POSSIBLE = Decimal("0.8"), Decimal("0.5")


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (Decimal("1.0000"), "automatic"),
        (Decimal("0.8001"), "automatic"),
        (Decimal("0.8000"), "automatic"),  # on the automatic threshold
        (Decimal("0.7999"), "possible"),  # just under it
        (Decimal("0.5000"), "possible"),  # on the possible threshold
        (Decimal("0.4999"), None),  # just under it: not a duplicate
        (Decimal("0.0000"), None),
    ],
)
def test_a_score_falls_in_the_band_whose_threshold_it_reaches(
    score: Decimal, band: str | None
) -> None:
    from domain.duplicates import band_of

    found = band_of(score, AUTOMATIC, POSSIBLE)
    assert (found.value if found is not None else None) == band


def test_a_case_of_another_unit_is_skipped_not_the_end_of_the_search() -> None:
    cases = [_case("ABCDEF", "C-1", unit_id="unit-b"), _case("ABCDXY", "C-2")]
    found = find_duplicate(NEW, "unit-a", cases, Decimal("0.5"))
    assert found is not None
    assert found.case_id == "C-2"
