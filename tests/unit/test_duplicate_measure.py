"""The duplicate measure (减负, issue 27) on the rewordings offices really use, and on
near misses that must not be merged: same words about another place or programme."""

from __future__ import annotations

from decimal import Decimal

import pytest

from application.duplicate_text import analysed, lexicon_of, shipped_lexicon
from domain.duplicates import Band, CaseSummary, FindingText, judge, similar_cases, similarity
from domain.policy import DEFAULT_POLICY, Policy

AUTO = DEFAULT_POLICY.duplicate_auto_threshold
POSSIBLE = DEFAULT_POLICY.duplicate_possible_threshold


def _score(a: str, b: str, da: str = "", db: str = "", policy: Policy = DEFAULT_POLICY) -> Decimal:
    lexicon = lexicon_of(policy)
    return judge(analysed(a, da, None, lexicon), analysed(b, db, None, lexicon))


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("abbreviation", "青山镇医疗保障基金违规使用", "青山镇医保基金违规使用"),
        ("synonym", "城南河道垃圾未清理", "城南河流垃圾未清理"),
        ("synonym", "财政所瞒报统计数据", "财政所隐瞒不报统计数据"),
        ("spelled out", "住建局违规发放津补贴", "住建局违反规定发放津贴补贴"),
        ("added place", "招商引资项目落地率低", "高新区招商引资项目落地率低"),
        ("added degree adverb", "招商引资项目落地率低", "招商引资项目落地率较低"),
        ("added 问题", "城北工地扬尘污染", "城北工地扬尘污染问题"),
        ("state of the fix", "砖厂污水直排", "砖厂污水直排问题仍未整改到位"),
        ("word order", "拖欠农民工工资", "农民工工资被拖欠"),
        ("all at once", "白沙镇医疗保障基金违反规定使用", "医保基金违规使用问题较为突出"),
    ],
)
def test_a_reworded_finding_is_merged_automatically(kind: str, a: str, b: str) -> None:
    assert _score(a, b) >= AUTO, kind
    assert _score(a, b) == _score(b, a)


def test_a_longer_description_does_not_hide_a_matching_title() -> None:
    short = _score("县医院挂号难看病难", "县医院挂号难、看病难")
    long = _score(
        "县医院挂号难看病难",
        "县医院挂号难、看病难",
        "专家号一号难求",
        "信访部门反映县医院专家号源紧张，网上挂号一号难求，门诊排队时间长，群众看病就医体验差",
    )
    assert long == short >= AUTO


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("another town", "青山镇医保基金违规使用", "城关镇医保基金违规使用"),
        ("another district", "城南河道垃圾长期未清理", "城北河道垃圾长期未清理"),
        ("another programme", "低保对象认定不精准", "特困供养对象认定不精准"),
        ("another bureau", "交通局违规发放津补贴", "住建局违规发放津补贴"),
        ("another object", "养殖场污水直排", "屠宰场污水直排"),
        ("another problem", "青山镇医保基金违规使用", "青山镇医保参保缴费率偏低"),
    ],
)
def test_the_same_pattern_about_another_object_is_not_merged(kind: str, a: str, b: str) -> None:
    assert _score(a, b) < AUTO, kind
    # the old measure would have merged most of these:
    assert similarity(FindingText(title=a), FindingText(title=b)) >= Decimal("0.38")


def test_nothing_in_common_is_in_no_band() -> None:
    assert _score("城北工地扬尘", "中小学食堂食品安全管理") < POSSIBLE


def test_an_operator_adds_a_synonym_in_the_policy() -> None:
    before = _score("城南水沟垃圾未清理", "城南河道垃圾未清理")
    policy = Policy.model_validate({"duplicates": {"synonyms": {"河道": ["水沟"]}}})
    after = _score("城南水沟垃圾未清理", "城南河道垃圾未清理", policy=policy)
    assert before < AUTO <= after == Decimal(1)
    assert "河道" in dict(shipped_lexicon().synonyms).values()


def test_the_bands_and_the_order_of_candidates() -> None:
    lexicon = shipped_lexicon()
    new = analysed("城东医保基金违规使用问题", "", None, lexicon)
    cases = [
        CaseSummary(case_id="C-2", unit_id="u", title="城东医疗保障基金违反规定使用"),
        CaseSummary(case_id="C-1", unit_id="u", title="城东医保基金违规使用"),
        CaseSummary(case_id="C-3", unit_id="u", title="城东卫生院医保基金"),
        CaseSummary(case_id="C-4", unit_id="u", title="学校食堂卫生不达标"),
    ]
    found = similar_cases(
        new, [(c, analysed(c.title, "", None, lexicon)) for c in cases], AUTO, POSSIBLE
    )
    assert [f.case_id for f in found[:2]] == ["C-1", "C-2"]  # equal scores: lowest id first
    assert found[0].band is Band.AUTOMATIC
    assert "C-4" not in {f.case_id for f in found}


def test_the_policy_refuses_a_possible_band_above_the_automatic_one() -> None:
    with pytest.raises(ValueError, match="possible"):
        Policy(duplicate_auto_threshold=Decimal("0.3"), duplicate_possible_threshold=Decimal("0.5"))
