"""domain/policy.py: the policy book's exact problems, the validators, the derived rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from domain.policy import (
    DEFAULT_BOOK,
    DEFAULT_POLICY,
    CalendarPolicy,
    EscalationStep,
    Policy,
    PolicyBook,
    PolicyInvalid,
    PolicyProblem,
    policy_book_from_mapping,
    policy_book_from_toml,
    policy_from_toml,
)
from domain.vocabulary import EscalationLevel
from domain.workdays import CalendarYear


def problems(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    with pytest.raises(PolicyInvalid) as raised:
        policy_book_from_mapping(data)
    return [(p.key, p.code, p.zh, p.en) for p in raised.value.problems]


# --- the book -------------------------------------------------------------------------


def test_an_empty_mapping_is_the_default_book() -> None:
    book = policy_book_from_mapping({})
    assert book == DEFAULT_BOOK
    assert book.base == DEFAULT_POLICY
    assert book.classes == {}
    assert book.labels == {}
    assert book.default_class is None


def test_classes_merge_over_the_base_with_labels_and_a_default() -> None:
    book = policy_book_from_mapping(
        {
            "version": "v2",
            "extension_cap": 3,
            "deadlines": {"immediate": 7, "long_term": 300},
            "default_class": "town",
            "classes": {
                "town": {"label": "乡镇", "deadlines": {"immediate": 5}},
                "dept": {"look_back_days": 90},
            },
        }
    )
    assert book.default_class == "town"
    assert book.labels == {"town": "乡镇", "dept": "dept"}
    town = book.classes["town"]
    assert (town.unit_class, town.version, town.extension_cap) == ("town", "v2", 3)
    assert (town.deadlines.immediate, town.deadlines.long_term) == (5, 300)
    dept = book.classes["dept"]
    assert (dept.unit_class, dept.look_back_days, dept.deadlines.immediate) == ("dept", 90, 7)
    assert book.base.unit_class is None
    assert book.base.deadlines.immediate == 7
    assert book.for_class("dept") is dept
    assert book.for_class(None) is town
    assert book.for_class("other") is book.base
    assert book.knows_class("dept")
    assert not book.knows_class("other")
    assert book.label("town") == "乡镇"
    assert book.label("other") == "other"


def test_without_a_default_class_an_unclassed_unit_gets_the_base() -> None:
    book = policy_book_from_mapping({"classes": {"town": {}}})
    assert book.for_class(None) is book.base
    assert book.for_class("") is book.base
    assert book.for_class("town").unit_class == "town"


def test_unit_class_at_the_top_is_refused() -> None:
    assert problems({"unit_class": "town"}) == [
        (
            "unit_class",
            "extra_forbidden",
            "未知的键（单位类别的规则写在 [classes.<类别>] 节中）",
            "unknown key (a unit class's rules go in a [classes.<class>] section)",
        )
    ]


def test_classes_not_a_table() -> None:
    assert problems({"classes": 3}) == [
        ("classes", "dict_type", "应为表（[节]）", "must be a table ([section])")
    ]


@pytest.mark.parametrize("name", ["", "  ", "x" * 33])
def test_a_class_name_of_1_to_32_characters(name: str) -> None:
    assert problems({"classes": {name: {}}}) == [
        (
            f"classes.{name}",
            "class_name",
            "类别名须为 1 到 32 个字符",
            "a class name has 1 to 32 characters",
        )
    ]


def test_a_class_name_of_32_characters_is_fine() -> None:
    name = "x" * 32
    assert policy_book_from_mapping({"classes": {name: {}}}).knows_class(name)


def test_a_class_section_not_a_table() -> None:
    assert problems({"classes": {"town": 1, "dept": {"extension_cap": 1}}}) == [
        ("classes.town", "dict_type", "应为表（[节]）", "must be a table ([section])")
    ]


@pytest.mark.parametrize("label", [3, "", "  "])
def test_a_bad_label(label: Any) -> None:
    assert problems({"classes": {"town": {"label": label}}}) == [
        ("classes.town.label", "string_type", "应为文本（加引号）", "must be text (in quotes)")
    ]


def test_base_only_keys_in_a_class_are_refused_each() -> None:
    found = problems({"classes": {"town": {"version": "x", "utc_offset_hours": 8, "calendar": {}}}})
    assert found == [
        (
            f"classes.town.{key}",
            "class_key_not_allowed",
            "只能在文件顶层设置，不能按单位类别设置",
            "can be set only at the top of the file, not per unit class",
        )
        for key in ("calendar", "utc_offset_hours", "version")
    ]


def test_classes_and_default_class_in_a_class_are_refused() -> None:
    found = problems({"classes": {"town": {"classes": {}, "default_class": "x"}}})
    assert [key for key, *_ in found] == ["classes.town.classes", "classes.town.default_class"]


def test_a_class_error_is_keyed_under_its_section() -> None:
    assert problems({"classes": {"town": {"extension_cap": -1}}}) == [
        ("classes.town.extension_cap", "greater_than_equal", "不能小于 0", "must be at least 0")
    ]


def test_a_broken_base_reports_the_sections_own_errors_only() -> None:
    found = problems({"extension_cap": "many", "classes": {"town": {"look_back_days": 99999}}})
    assert found == [
        ("extension_cap", "int_parsing", "应为整数", "must be a whole number"),
        (
            "classes.town.look_back_days",
            "less_than_equal",
            "不能大于 3650",
            "must be at most 3650",
        ),
    ]


@pytest.mark.parametrize("default", ["nowhere", 3])
def test_an_unknown_default_class(default: Any) -> None:
    assert problems({"default_class": default, "classes": {"town": {}}}) == [
        (
            "default_class",
            "unknown_class",
            f"未定义的单位类别 {default!r}（须有 [classes.{default}] 节）",
            f"unknown unit class {default!r} (no [classes.{default}] section)",
        )
    ]


def test_a_default_class_whose_section_is_broken_is_not_unknown() -> None:
    found = problems({"default_class": "town", "classes": {"town": {"extension_cap": -1}}})
    assert [key for key, *_ in found] == ["classes.town.extension_cap"]


def test_every_problem_at_once_and_the_exception_text() -> None:
    with pytest.raises(PolicyInvalid) as raised:
        policy_book_from_mapping({"unit_class": "x", "bogus": 1, "classes": []})
    error = raised.value
    assert [p.key for p in error.problems] == ["unit_class", "bogus", "classes"]
    assert str(error) == (
        "unit_class: unknown key (a unit class's rules go in a [classes.<class>] section); "
        "bogus: unknown key; classes: must be a table ([section])"
    )
    assert isinstance(error, ValueError)


def test_problem_message_language() -> None:
    problem = PolicyProblem("k", "c", "中", "en text")
    assert problem.message("en") == "en text"
    assert problem.message("zh-CN") == "中"


# --- how pydantic errors become problems ----------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"bogus": 1}, ("bogus", "extra_forbidden", "未知的键", "unknown key")),
        (
            {"escalation": [{"level": 1}]},
            (
                "escalation[0].working_days_after_deadline",
                "missing",
                "缺少此项",
                "required key is missing",
            ),
        ),
        (
            {"version": "v" * 65},
            ("version", "string_too_long", "太长（最多 64 个字符）", "too long (at most 64)"),
        ),
        ({"version": ""}, ("version", "string_too_short", "不能为空", "must not be empty")),
        (
            {"yellow_working_days": 1001},
            ("yellow_working_days", "less_than_equal", "不能大于 1000", "must be at most 1000"),
        ),
        (
            {"escalation": [{"level": 9, "working_days_after_deadline": 1}]},
            (
                "escalation[0].level",
                "enum",
                "取值无效，可选 1, 2, 3 或 4",
                "invalid value; expected 1, 2, 3 or 4",
            ),
        ),
        (
            {"calendar": {"years": [{"year": 2027, "holidays": ["x"]}]}},
            (
                "calendar.years[0].holidays[0]",
                "date_from_datetime_parsing",
                "应为日期，如 2027-01-01",
                "must be a date like 2027-01-01",
            ),
        ),
        (
            {"deadlines": 3},
            ("deadlines", "model_type", "应为表（[节]）", "must be a table ([section])"),
        ),
        (
            {"reminder_working_days": [0]},
            (
                "reminder_working_days",
                "reminder_days",
                "提醒天数须为互不相同的正整数（工作日）",
                "reminder offsets must be distinct positive working-day counts",
            ),
        ),
    ],
)
def test_problem_texts(data: dict[str, Any], expected: tuple[str, str, str, str]) -> None:
    assert problems(data) == [expected]


def test_an_error_without_a_text_of_ours_keeps_pydantics_message() -> None:
    found = problems({"duplicate_threshold": "1.5"})
    assert found[0][:2] == ("duplicate_threshold", "less_than_equal")
    assert found[0][2:] == ("不能大于 1", "must be at most 1")
    found = problems({"calendar": {"use_package": "maybe"}})
    assert found == [
        ("calendar.use_package", "bool_parsing", "应为 true 或 false", "must be true or false")
    ]


def test_a_model_level_rule_is_keyed_to_the_file_or_its_section() -> None:
    bands = {"duplicate_possible_threshold": "0.6", "duplicate_auto_threshold": "0.5"}
    expected = (
        "duplicate_bands",
        "疑似重复阈值不得高于自动合并阈值",
        "the possible-duplicate threshold must not exceed the automatic one",
    )
    assert problems(bands) == [("(file)", *expected)]
    assert problems({"classes": {"town": bands}}) == [("classes.town", *expected)]


# --- the validators -------------------------------------------------------------------


def test_reminders_are_sorted_down_and_must_be_distinct_and_positive() -> None:
    assert Policy(reminder_working_days=(1, 5, 3)).reminder_working_days == (5, 3, 1)
    assert Policy(reminder_working_days=(1,)).reminder_working_days == (1,)
    assert Policy(reminder_working_days=()).reminder_working_days == ()
    for bad in ((0, 2), (2, 2), (-1,)):
        with pytest.raises(ValueError, match="reminder offsets must be distinct positive"):
            Policy(reminder_working_days=bad)


def _ladder(*pairs: tuple[int, int]) -> tuple[EscalationStep, ...]:
    return tuple(
        EscalationStep(level=EscalationLevel(level), working_days_after_deadline=days)
        for level, days in pairs
    )


def test_the_ladder_starts_at_1_rises_by_one_and_later_each_time() -> None:
    assert Policy(escalation=_ladder((1, 1), (2, 2))).escalation == _ladder((1, 1), (2, 2))
    assert Policy(escalation=()).escalation == ()
    found = problems({"escalation": [{"level": 2, "working_days_after_deadline": 1}]})
    assert found == [
        (
            "escalation",
            "escalation_levels",
            "升级层级须从 1 起逐级排列、不跳级（现为 [2]）",
            "escalation levels must start at 1 and rise one by one (found [2])",
        )
    ]
    found = problems(
        {
            "escalation": [
                {"level": 1, "working_days_after_deadline": 3},
                {"level": 2, "working_days_after_deadline": 3},
            ]
        }
    )
    assert found == [
        (
            "escalation",
            "escalation_days",
            "每一级升级须晚于上一级（逾期工作日数现为 [3, 3]）",
            "each escalation level must come strictly later than the last (found [3, 3])",
        )
    ]
    with pytest.raises(ValueError, match="strictly later"):
        Policy(escalation=_ladder((1, 5), (2, 4)))


def test_duplicate_bands_equal_is_fine() -> None:
    policy = Policy(
        duplicate_possible_threshold=Decimal("0.5"), duplicate_auto_threshold=Decimal("0.5")
    )
    assert policy.duplicate_auto_threshold == Decimal("0.5")


@pytest.mark.parametrize(("month", "day"), [(2, 30), (13, 1), (0, 1)])
def test_fixed_holidays_must_be_real_month_days(month: int, day: int) -> None:
    assert problems({"calendar": {"fixed_holidays": [[month, day]]}}) == [
        (
            "calendar.fixed_holidays",
            "bad_month_day",
            f"[{month}, {day}] 不是有效的月、日",
            f"[{month}, {day}] is not a valid month and day",
        )
    ]
    assert CalendarPolicy(fixed_holidays=((2, 29),)).fixed_holidays == ((2, 29),)


# --- calendar and clock ---------------------------------------------------------------

Y2030 = CalendarYear(year=2030, holidays=frozenset({date(2030, 3, 4)}))


def test_year_source() -> None:
    policy = CalendarPolicy(years=(Y2030, CalendarYear(year=2025)))
    assert policy.year_source(2030) == "operator"
    assert policy.year_source(2025) == "operator"
    assert policy.year_source(2024) == "official"
    assert policy.year_source(2099) == "provisional"
    assert CalendarPolicy(use_package=False).year_source(2024) == "provisional"


def test_with_years_replaces_the_same_year_and_keeps_others() -> None:
    old = CalendarYear(year=2031)
    policy = CalendarPolicy(years=(old, Y2030))
    new = CalendarYear(year=2031, holidays=frozenset({date(2031, 3, 3)}))
    assert policy.with_years([new]).years == (Y2030, new)
    assert policy.with_years([]).years == (old, Y2030)


def test_calendar_with_and_without_the_package() -> None:
    with_package = CalendarPolicy().calendar()
    assert with_package.is_working_day(date(2025, 4, 27))  # a make-up Sunday
    without = CalendarPolicy(use_package=False).calendar()
    assert not without.is_working_day(date(2025, 4, 27))
    assert without.is_provisional(date(2025, 4, 27))
    assert (
        not CalendarPolicy(use_package=False, years=(Y2030,))
        .calendar()
        .is_working_day(date(2030, 3, 4))
    )


def test_with_calendar_years() -> None:
    assert DEFAULT_POLICY.with_calendar_years([]) is DEFAULT_POLICY
    grown = DEFAULT_POLICY.with_calendar_years(iter([Y2030]))
    assert grown.calendar.years == (Y2030,)
    assert not grown.working_calendar().is_working_day(date(2030, 3, 4))
    assert grown.version == DEFAULT_POLICY.version


def test_today_and_start_of_in_the_policys_zone() -> None:
    assert DEFAULT_POLICY.today(datetime(2025, 3, 3, 16, tzinfo=UTC)) == date(2025, 3, 4)
    assert DEFAULT_POLICY.today(datetime(2025, 3, 3, 15, 59, tzinfo=UTC)) == date(2025, 3, 3)
    assert DEFAULT_POLICY.today(datetime(2025, 3, 3, 23, 30)) == date(2025, 3, 3)  # naive
    cst = timezone(timedelta(hours=8))
    assert DEFAULT_POLICY.today(datetime(2025, 3, 3, 0, 5, tzinfo=cst)) == date(2025, 3, 3)
    west = Policy(utc_offset_hours=-5)
    assert west.today(datetime(2025, 3, 3, 3, tzinfo=UTC)) == date(2025, 3, 2)
    start = DEFAULT_POLICY.start_of(date(2025, 3, 3))
    assert start == datetime(2025, 3, 3, tzinfo=cst)
    assert start.utcoffset() == timedelta(hours=8)
    assert DEFAULT_POLICY.business_dates([]) == []


def test_escalation_step_by_level() -> None:
    assert DEFAULT_POLICY.escalation_step(1) == EscalationStep(
        level=EscalationLevel.URGE, working_days_after_deadline=1
    )
    assert DEFAULT_POLICY.escalation_step(4) == EscalationStep(
        level=EscalationLevel.ACCOUNTABILITY_RECOMMENDED, working_days_after_deadline=20
    )
    assert DEFAULT_POLICY.escalation_step(5) is None


def test_fingerprint_ignores_version_and_class_only() -> None:
    base = Policy().fingerprint()
    assert len(base) == 64
    assert Policy(version="other", unit_class="town").fingerprint() == base
    assert Policy(extension_cap=3).fingerprint() != base


def test_policy_from_toml_drops_the_class_sections() -> None:
    policy = policy_from_toml(
        'version = "t1"\nextension_cap = 4\ndefault_class = "a"\n[classes.a]\nextension_cap = 1\n'
    )
    assert (policy.version, policy.extension_cap, policy.unit_class) == ("t1", 4, None)
    book = policy_book_from_toml('default_class = "a"\n[classes.a]\nextension_cap = 1\n')
    assert book.for_class(None).extension_cap == 1


def test_the_policy_book_is_frozen() -> None:
    with pytest.raises(ValueError):
        PolicyBook(base=DEFAULT_POLICY, extra=1)


def test_a_rule_error_does_not_hide_the_errors_after_it() -> None:
    assert problems({"reminder_working_days": [0], "extension_cap": -1}) == [
        (
            "reminder_working_days",
            "reminder_days",
            "提醒天数须为互不相同的正整数（工作日）",
            "reminder offsets must be distinct positive working-day counts",
        ),
        ("extension_cap", "greater_than_equal", "不能小于 0", "must be at least 0"),
    ]


def test_an_error_type_we_have_no_words_for_keeps_pydantics_message() -> None:
    message = "Input should be a finite number"
    assert problems({"duplicate_threshold": "NaN"}) == [
        ("duplicate_threshold", "finite_number", message, message)
    ]


def test_a_bad_class_name_or_section_does_not_hide_the_classes_after_it() -> None:
    cap = ("classes.dept.extension_cap", "greater_than_equal", "不能小于 0", "must be at least 0")
    found = problems({"classes": {"": {}, "dept": {"extension_cap": -1}}})
    assert [p[:2] for p in found] == [("classes.", "class_name"), cap[:2]]
    found = problems({"classes": {"town": 1, "dept": {"extension_cap": -1}}})
    assert found == [
        ("classes.town", "dict_type", "应为表（[节]）", "must be a table ([section])"),
        cap,
    ]


def test_the_possible_duplicate_threshold_must_be_above_zero() -> None:
    # At 0 every open case of the unit would be offered as the same problem.
    assert problems({"duplicate_possible_threshold": "0"}) == [
        ("duplicate_possible_threshold", "greater_than", "须大于 0", "must be greater than 0")
    ]
    smallest = Policy(duplicate_possible_threshold=Decimal("0.01"))
    assert smallest.duplicate_possible_threshold == Decimal("0.01")
