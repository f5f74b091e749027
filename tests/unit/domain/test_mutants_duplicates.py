"""domain/duplicates.py: exact scores of both measures, the lexicon, the prefilter's
bound and the bands (mutation testing).

The scores of ``judge`` below use an empty or a small hand-made lexicon and the default
segmenter (one word per character), so each one can be worked out by hand from the
module's rules; the fraction is written next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from domain.duplicates import (
    Analysed,
    Band,
    CaseSummary,
    DuplicateMatch,
    FindingText,
    Lexicon,
    SimilarCase,
    analyse,
    band_of,
    ensure_not_duplicate,
    find_duplicate,
    judge,
    lexicon_from_mapping,
    normalize,
    reachable,
    similar_cases,
    similarity,
)
from domain.errors import InvalidCommand

PLAIN = Lexicon()


def text(title: str, description: str = "", category: str | None = None) -> FindingText:
    return FindingText(title=title, description=description, category=category)


def scored(
    a: str,
    b: str,
    da: str = "",
    db: str = "",
    ca: str | None = None,
    cb: str | None = None,
    lexicon: Lexicon = PLAIN,
) -> Decimal:
    return judge(analyse(text(a, da, ca), lexicon), analyse(text(b, db, cb), lexicon))


# --- normalize, similarity (the bigram Dice baseline) ----------------------------------


def test_normalize_folds_width_and_case_and_keeps_letters_and_digits() -> None:
    assert normalize("ＡＢｃ，１２ 3！中文") == "abc123中文"


@pytest.mark.parametrize(
    ("a", "b", "score"),
    [
        ("abcd", "abce", Decimal("0.6667")),  # {ab, bc} shared of 3 + 3: 4/6
        ("abcd", "abcd", Decimal("1.0000")),
        ("ab", "ab", Decimal("1.0000")),
        ("a", "a", Decimal("1.0000")),  # a single character is its own gram
        ("a", "ab", Decimal("0.0000")),
        ("", "", Decimal("0.0000")),  # nothing to compare
        ("", "a", Decimal("0.0000")),
        ("abab", "ab", Decimal("0.5000")),  # grams counted with repeats: ab ×2, ba; 2/4
    ],
)
def test_similarity_of_titles_is_their_bigram_dice(a: str, b: str, score: Decimal) -> None:
    assert similarity(text(a), text(b)) == score
    assert similarity(text(b), text(a)) == score


def test_similarity_weighs_title_five_description_three_category_two() -> None:
    same, near = "abcd", "abce"  # titles equal (1); descriptions 2/3
    assert similarity(text(same, same, "x"), text(same, near, "x")) == Decimal("0.9000")
    assert similarity(text(same, same, "x"), text(same, near, "y")) == Decimal("0.7000")
    # a part missing on either side is left out of the weights
    assert similarity(text(same, same, "x"), text(same, "", "x")) == Decimal("1.0000")
    assert similarity(text(same, "，", "x"), text(same, same, "x")) == Decimal("1.0000")
    # (5 + 3 × 2/3) / 8
    assert similarity(text(same, same), text(same, near, "x")) == Decimal("0.8750")
    assert similarity(text(same, same, "x"), text(same, near)) == Decimal("0.8750")


def test_similarity_is_rounded_to_four_places() -> None:
    # titles 2/3 (weight 5), descriptions 0 (weight 3): 10/24 = 0.41666…
    assert similarity(text("abcd", "xy"), text("abce", "zw")) == Decimal("0.4167")


# --- find_duplicate, ensure_not_duplicate ------------------------------------------------


def summary(case_id: str, title: str, unit_id: str = "u") -> CaseSummary:
    return CaseSummary(case_id=case_id, unit_id=unit_id, title=title)


def test_find_duplicate_returns_the_best_case_of_the_unit_with_its_score() -> None:
    new = text("abcd")
    cases = [
        summary("C-3", "abce"),
        summary("C-9", "abcd", unit_id="v"),
        summary("C-2", "abcd"),
        summary("C-1", "abcd"),
    ]
    assert find_duplicate(new, "u", cases, Decimal("0.6")) == DuplicateMatch(
        case_id="C-1", score=Decimal("1.0000")
    )
    only = [summary("C-3", "abce")]
    assert find_duplicate(new, "u", only, Decimal("0.6667")) == DuplicateMatch(
        case_id="C-3", score=Decimal("0.6667")
    )
    assert find_duplicate(new, "u", only, Decimal("0.6668")) is None
    assert find_duplicate(new, "w", cases, Decimal("0")) is None


def test_a_duplicate_is_refused_with_the_case_and_score_unless_overridden() -> None:
    match = DuplicateMatch(case_id="C-7", score=Decimal("0.8123"))
    with pytest.raises(InvalidCommand) as raised:
        ensure_not_duplicate(match, override=False)
    error = raised.value
    assert (error.code, error.message_zh, error.message_en) == (
        "duplicate_finding",
        "该问题与在办案件 C-7 重复（相似度 0.8123），请并入该案件，或由督查部门确认后另行立项",
        "the finding duplicates open case C-7 (similarity 0.8123); "
        "merge it, or have a supervisor override",
    )
    assert ensure_not_duplicate(match, override=True) is None  # type: ignore[func-returns-value]
    assert ensure_not_duplicate(None, override=False) is None  # type: ignore[func-returns-value]
    assert ensure_not_duplicate(None, override=True) is None  # type: ignore[func-returns-value]


# --- the lexicon --------------------------------------------------------------------------


def test_canonical_replaces_synonyms_and_deletes_fillers_longest_first() -> None:
    lexicon = Lexicon(
        synonyms=(("河流", "河道"), ("医保", "医疗保障")),
        fillers=("河", "问题", "存在"),
        objects=frozenset({"卫生院"}),
    )
    assert lexicon.canonical("城南河流存在垃圾问题") == "城南河道垃圾"
    # the canonical form and an object are kept whole: no filler is cut out of them
    assert lexicon.canonical("河道") == "河道"
    assert lexicon.canonical("城东卫生院医保，河边") == "城东卫生院医疗保障边"


def test_a_lexicon_without_words_only_normalizes() -> None:
    assert Lexicon().canonical("Ａ，b 中") == "ab中"


def test_extended_adds_the_other_lexicons_words_and_the_other_wins() -> None:
    base = Lexicon(
        synonyms=(("医保", "医疗保障"), ("河流", "河道")),
        fillers=("问题", "存在"),
        objects=frozenset({"基金"}),
        object_suffixes=("镇",),
    )
    other = Lexicon(
        synonyms=(("医保", "医保基金"),),
        fillers=("存在", "情况"),
        objects=frozenset({"社区"}),
        object_suffixes=("镇", "村"),
    )
    both = base.extended(other)
    assert (both.synonyms, both.fillers, both.objects, both.object_suffixes) == (
        (("医保", "医保基金"), ("河流", "河道")),
        ("问题", "存在", "情况"),
        frozenset({"基金", "社区"}),
        ("镇", "村"),
    )
    assert both.canonical("医保存在情况") == "医保基金"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("3号", True),  # a number
        ("a座", True),  # a latin letter (a code, a name)
        ("３", True),  # a digit not ASCII
        ("基金", True),  # a listed object
        ("青山镇", True),  # a place by its suffix
        ("新村", True),  # two characters are enough
        ("镇", False),  # the suffix alone is not a place
        ("违规", False),
    ],
)
def test_is_object(word: str, expected: bool) -> None:
    lexicon = Lexicon(objects=frozenset({"基金"}), object_suffixes=("镇", "村"))
    assert lexicon.is_object(word) is expected


def test_a_lexicon_from_its_toml_shape() -> None:
    lexicon = lexicon_from_mapping(
        {
            "synonyms": {"河道": ["河流", "河　道", "", "ＨＥ"], "违规": "违反规定"},
            "fillers": ["问题", "", "存在"],
            "objects": ["基金", "１号"],
            "object_suffixes": ["镇"],
        }
    )
    assert lexicon.synonyms == (("河流", "河道"), ("he", "河道"), ("违反规定", "违规"))
    assert lexicon.fillers == ("问题", "存在")
    assert lexicon.objects == frozenset({"基金", "1号"})
    assert lexicon.object_suffixes == ("镇",)
    empty = lexicon_from_mapping({})
    assert (empty.synonyms, empty.fillers, empty.objects, empty.object_suffixes) == (
        (),
        (),
        frozenset(),
        (),
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"synonyms": ["河流"]}, "synonyms must be a table: canonical = [variants]"),
        ({"synonyms": {"河道": 3}}, "synonyms.河道 must be a list of variants"),
        ({"fillers": "问题"}, "fillers must be a list of words"),
        ({"objects": {"a": 1}}, "objects must be a list of words"),
        ({"object_suffixes": 1}, "object_suffixes must be a list of words"),
    ],
)
def test_a_bad_lexicon_mapping_is_refused_naming_the_key(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        lexicon_from_mapping(data)
    assert str(raised.value) == message


# --- analyse --------------------------------------------------------------------------


def test_analyse_keeps_the_canonical_text_its_words_grams_and_objects() -> None:
    lexicon = Lexicon(fillers=("问题",), objects=frozenset({"基金"}), object_suffixes=("镇",))

    def pairs(canon: str) -> Sequence[str]:
        return [canon[i : i + 2] for i in range(0, len(canon), 2)] + [""]

    found = analyse(text("青山镇的基金问题", "a", "医保"), lexicon, pairs)
    title = found.title
    assert (title.text, title.words) == ("青山镇的基金", ("青山", "镇的", "基金"))
    assert title.grams == frozenset({"青山", "山镇", "镇的", "的基", "基金"})
    assert title.objects == frozenset({"基金"})
    description = found.description
    assert (description.text, description.words, description.grams, description.objects) == (
        "a",
        ("a",),
        frozenset({"a"}),
        frozenset({"a"}),
    )
    assert found.category == "医保"


def test_analyse_by_default_splits_into_characters_without_stop_characters() -> None:
    found = analyse(text("镇的河道", ""), Lexicon(object_suffixes=("镇",)))
    assert found.title.words == ("镇", "河", "道")
    assert found.title.objects == frozenset()
    assert (found.description.text, found.description.grams) == ("", frozenset())
    assert found.category is None
    assert analyse(text("x", category=""), PLAIN).category is None
    # an object of the lexicon counts even when the segmenter splits it
    named = analyse(text("医保基金"), Lexicon(objects=frozenset({"基金", "资金"})))
    assert named.title.objects == frozenset({"基金"})


# --- judge ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "score"),
    [
        ("城南河道垃圾", "城南河道垃圾", "1.0000"),
        ("城南河道垃圾", "", "0.0000"),
        ("", "城南河道垃圾", "0.0000"),
        # one side only adds words: the mean of containment 5/5 and Dice 10/12 = 11/12
        ("城南河道垃圾", "城南河道垃圾清理", "0.9167"),
        ("城南河道垃圾清理", "城南河道垃圾", "0.9167"),
        # a word each side, late in the text: 4/5 × (1 − 1/8) = 7/10
        ("河道垃圾城南", "河道垃圾城北", "0.7000"),
        # the same, early (in the first half): another place, × 2/5: 3/5 × 7/8 × 2/5
        ("城南河道垃圾", "城北河道垃圾", "0.2100"),
        # 1 and 3 characters of their own: the smaller counts, 65/84 × 7/8 = 65/96
        ("城南河道垃圾甲", "城南河道垃圾子丑寅", "0.6771"),
        # 5 characters each: the penalty stops at 1/2; 1/4 × 1/2 × 2/5
        ("城南甲乙丙丁戊河道", "城南子丑寅卯辰河道", "0.0500"),
        # the word at index 3 of 6 is not in the first half: 3/5 × 7/8 = 21/40
        ("河道垃南圾清", "河道垃北圾清", "0.5250"),
        # at index 2 of 6 it is: × 2/5
        ("河道南垃圾清", "河道北垃圾清", "0.2100"),
        # at index 3 of 7 it is not (the half is 3): 2/3 × 7/8 = 7/12
        ("河道垃南圾清理", "河道垃北圾清理", "0.5833"),
        # a word first seen early counts as early: 2/5 × (1 − 2/8) × 2/5
        ("河南道垃圾南", "河北道垃圾北", "0.1200"),
        # same characters, one shared bigram of 4 and 4: (1/4 + 1/4) / 2
        ("城南河道垃", "城南道河垃", "0.2500"),
        ("城南河道垃", "垃道河南城", "0.0000"),
    ],
)
def test_the_title_score(a: str, b: str, score: str) -> None:
    assert scored(a, b) == Decimal(score)


def test_another_object_of_the_lexicon_on_both_sides() -> None:
    both = Lexicon(objects=frozenset({"基金", "资金"}))
    one = Lexicon(objects=frozenset({"基金"}))
    # 5 of 7 bigrams shared: 5/7 × 7/8 = 5/8; × 2/5 only when each side names its own
    assert scored("违规使用医保基金", "违规使用医保资金", lexicon=both) == Decimal("0.2500")
    assert scored("违规使用医保基金", "违规使用医保资金", lexicon=one) == Decimal("0.6250")


def test_no_penalty_when_only_one_side_has_words_of_its_own() -> None:
    # every character of the first is in the second: (1/3 + 2/7) / 2 = 13/42
    lexicon = Lexicon(objects=frozenset({"基金"}))
    assert scored("基金违规", "新金基违规", lexicon=lexicon) == Decimal("0.3095")


def test_a_description_may_raise_the_title_never_lower_it() -> None:
    a, b = "河道垃圾城南", "河道垃圾城北"  # title 7/10
    assert scored(a, b, "同一描述", "同一描述") == Decimal("0.8000")  # 2/3 × 7/10 + 1/3
    assert scored(a, b, "完全不同", "毫无关系") == Decimal("0.7000")
    assert scored(a, b, "同一描述", "") == Decimal("0.7000")
    assert scored(a, b, "", "同一描述") == Decimal("0.7000")


def test_a_description_counts_from_a_title_of_one_quarter() -> None:
    assert scored("城南河道垃", "城南道河垃", "同一描述", "同一描述") == Decimal("0.5000")
    assert scored("城南河道垃", "垃道河南城", "同一描述", "同一描述") == Decimal("0.0000")


def test_another_category_costs_a_quarter() -> None:
    a, b = "河道垃圾城南", "河道垃圾城北"
    assert scored(a, b, ca="环保", cb="环保") == Decimal("0.7000")
    assert scored(a, b, ca="环保", cb="城建") == Decimal("0.5250")
    assert scored(a, b, ca="环保") == Decimal("0.7000")
    assert scored(a, b, cb="环保") == Decimal("0.7000")


# --- bands, the prefilter, similar_cases ------------------------------------------------


def test_band_of_on_its_thresholds() -> None:
    auto, possible = Decimal("0.55"), Decimal("0.35")
    assert band_of(Decimal("0.55"), auto, possible) is Band.AUTOMATIC
    assert band_of(Decimal("0.5499"), auto, possible) is Band.POSSIBLE
    assert band_of(Decimal("0.35"), auto, possible) is Band.POSSIBLE
    assert band_of(Decimal("0.3499"), auto, possible) is None


def new(described: bool) -> Analysed:
    return analyse(text("甲乙丙丁戊", "描述" if described else ""), PLAIN)  # 4 title bigrams


@pytest.mark.parametrize(
    ("common", "other", "possible", "described", "expected"),
    [
        (2, 4, "0.5", False, True),  # (2/4 + 4/8) / 2 = 1/2, on the threshold
        (2, 4, "0.5001", False, False),
        (2, 4, "0.6", False, False),
        (2, 4, "0.66", True, True),  # 1/2 + (1/2) / 3 = 2/3
        (2, 4, "0.67", True, False),
        (2, 2, "0.8333", False, True),  # (2/2 + 4/6) / 2 = 5/6
        (2, 2, "0.8334", False, False),
        (2, 2, "0.8888", True, True),  # 5/6 + (1/6) / 3 = 8/9
        (2, 2, "0.8889", True, False),
        (1, 4, "0.5", True, True),  # t = 1/4, the floor: 1/4 + (3/4) / 3 = 1/2
        (1, 5, "0.49", True, False),  # t = (1/4 + 2/9) / 2 < 1/4: no description's help
        (0, 4, "0", True, False),  # nothing shared
        (2, 0, "0", True, False),  # an empty title
    ],
)
def test_reachable_is_the_documented_upper_bound(
    common: int, other: int, possible: str, described: bool, expected: bool
) -> None:
    assert reachable(new(described), common, other, Decimal(possible)) is expected


def test_reachable_needs_a_title_on_the_new_side() -> None:
    empty = analyse(text("", "描述"), PLAIN)
    assert reachable(empty, 1, 4, Decimal("0")) is False


def candidate(case_id: str, title: str, description: str = "") -> tuple[CaseSummary, Analysed]:
    return (
        CaseSummary(case_id=case_id, unit_id="u", title=title, description=description),
        analyse(text(title, description), PLAIN),
    )


def test_similar_cases_in_the_bands_best_first_then_by_id() -> None:
    new_case = analyse(text("城南河道垃圾"), PLAIN)
    candidates = [
        candidate("C-9", "学校食堂卫生"),  # nothing shared: never judged
        candidate("C-5", "河道垃圾城南"),  # same characters, 4 of 5 bigrams: 4/5
        candidate("C-4", "城南河道垃圾清理"),  # 11/12
        candidate("C-3", "城北河道垃圾"),  # 0.21
        candidate("C-2", "城南河道垃圾"),  # 1
        candidate("C-1", "城南河道垃圾清理"),  # 11/12
    ]
    found = similar_cases(new_case, candidates, Decimal("0.9"), Decimal("0.2"))
    assert found == [
        SimilarCase(
            case_id="C-2", title="城南河道垃圾", score=Decimal("1.0000"), band=Band.AUTOMATIC
        ),
        SimilarCase(
            case_id="C-1", title="城南河道垃圾清理", score=Decimal("0.9167"), band=Band.AUTOMATIC
        ),
        SimilarCase(
            case_id="C-4", title="城南河道垃圾清理", score=Decimal("0.9167"), band=Band.AUTOMATIC
        ),
        SimilarCase(
            case_id="C-5", title="河道垃圾城南", score=Decimal("0.8000"), band=Band.POSSIBLE
        ),
        SimilarCase(
            case_id="C-3", title="城北河道垃圾", score=Decimal("0.2100"), band=Band.POSSIBLE
        ),
    ]


def test_similar_cases_stop_at_the_limit() -> None:
    new_case = analyse(text("城南河道垃圾"), PLAIN)
    candidates = [candidate(f"C-{i:02}", "城南河道垃圾") for i in range(12)]
    found = similar_cases(new_case, candidates, Decimal("0.9"), Decimal("0.2"))
    assert [f.case_id for f in found] == [f"C-{i:02}" for i in range(10)]
    assert [f.case_id for f in similar_cases(new_case, candidates, Decimal(1), Decimal(1), 3)] == [
        "C-00",
        "C-01",
        "C-02",
    ]


def test_a_case_out_of_reach_is_skipped_not_the_end_of_the_search() -> None:
    new_case = analyse(text("城南河道垃圾"), PLAIN)
    candidates = [candidate("C-1", "学校食堂卫生"), candidate("C-2", "城南河道垃圾")]
    found = similar_cases(new_case, candidates, Decimal("0.9"), Decimal("0.2"))
    assert [f.case_id for f in found] == ["C-2"]
