"""The operator's policy file: read, checked with one line per problem, resolved per unit class."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.policy import DEFAULT_BOOK, DEFAULT_POLICY, PolicyBook
from domain.vocabulary import CaseKind
from settings.policy_file import (
    PolicyFileError,
    policy_book,
    provisional_warning,
    provisional_years_ahead,
    read_policy_file,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "policy.example.toml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(tmp_path: Path, text: str, language: str = "zh-CN") -> tuple[str, ...]:
    path = _write(tmp_path, text)
    with pytest.raises(PolicyFileError) as caught:
        read_policy_file(path, language)
    for line in caught.value.lines:
        assert line.startswith(f"{path}: ")  # every line names the file
    return tuple(line.removeprefix(f"{path}: ") for line in caught.value.lines)


def test_the_example_file_holds_exactly_the_built_in_defaults() -> None:
    book = read_policy_file(EXAMPLE)
    assert book.base == DEFAULT_POLICY
    assert book.base.fingerprint() == DEFAULT_POLICY.fingerprint()
    assert book.classes == {}
    assert book == DEFAULT_BOOK


def test_no_file_means_the_built_in_defaults() -> None:
    assert policy_book(None) is DEFAULT_BOOK


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        ("unknown_knob = 1", "unknown_knob: 未知的键", "unknown_knob: unknown key"),
        (
            '[deadlines]\nimmediate = "ten"',
            "deadlines.immediate: 应为整数",
            "deadlines.immediate: must be a whole number",
        ),
        (
            "[deadlines]\ntime_limited = -5",
            "deadlines.time_limited: 不能小于 1",
            "deadlines.time_limited: must be at least 1",
        ),
        ("extension_cap = -1", "extension_cap: 不能小于 0", "extension_cap: must be at least 0"),
        (
            "reminder_working_days = [5, -1]",
            "reminder_working_days: 提醒天数须为互不相同的正整数（工作日）",
            "reminder_working_days: reminder offsets must be distinct positive working-day counts",
        ),
        (
            "[[escalation]]\nlevel = 2\nworking_days_after_deadline = 1\n"
            "[[escalation]]\nlevel = 1\nworking_days_after_deadline = 5",
            "escalation: 升级层级须从 1 起逐级排列、不跳级（现为 [2, 1]）",
            "escalation: escalation levels must start at 1 and rise one by one (found [2, 1])",
        ),
        (
            "[[escalation]]\nlevel = 1\nworking_days_after_deadline = 5\n"
            "[[escalation]]\nlevel = 2\nworking_days_after_deadline = 3",
            "escalation: 每一级升级须晚于上一级（逾期工作日数现为 [5, 3]）",
            "escalation: each escalation level must come strictly later than the last"
            " (found [5, 3])",
        ),
        (
            '[[calendar.years]]\nyear = 2027\nholidays = ["2027-02-30"]',
            "calendar.years[0].holidays[0]: 应为日期，如 2027-01-01",
            "calendar.years[0].holidays[0]: must be a date like 2027-01-01",
        ),
        (
            "[[calendar.years]]\nyear = 2027\nholidays = [2028-01-01]",
            "calendar.years[0]: 2028年1月1日 不在 2027 年内",
            "calendar.years[0]: 2028-01-01 is not in 2027",
        ),
        (
            'default_class = "开发区"',
            "default_class: 未定义的单位类别 '开发区'（须有 [classes.开发区] 节）",
            "default_class: unknown unit class '开发区' (no [classes.开发区] section)",
        ),
        (
            "[classes.township]\nutc_offset_hours = 9",
            "classes.township.utc_offset_hours: 只能在文件顶层设置，不能按单位类别设置",
            "classes.township.utc_offset_hours: can be set only at the top of the file,"
            " not per unit class",
        ),
        (
            "[classes.township.deadlines]\nimmediate = 0",
            "classes.township.deadlines.immediate: 不能小于 1",
            "classes.township.deadlines.immediate: must be at least 1",
        ),
    ],
    ids=[
        "unknown-key",
        "wrong-type",
        "negative-deadline",
        "negative-cap",
        "negative-reminder",
        "unordered-ladder",
        "ladder-not-rising",
        "bad-date",
        "date-outside-its-year",
        "unknown-default-class",
        "base-only-key-in-a-class",
        "bad-class-value",
    ],
)
def test_each_problem_is_one_line_naming_the_key_in_chinese_or_english(
    tmp_path: Path, text: str, zh: str, en: str
) -> None:
    assert _problems(tmp_path, text) == (zh,)
    assert _problems(tmp_path, text, "en") == (en,)


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "extension_cap = -1\nbogus = 2\n[deadlines]\nimmediate = 0")
    assert [line.split(":")[0] for line in problems] == [
        "deadlines.immediate",
        "extension_cap",
        "bogus",
    ]


def test_a_toml_syntax_error_and_a_missing_file_are_one_line_each(tmp_path: Path) -> None:
    (line,) = _problems(tmp_path, "extension_cap = = 3")
    assert line.startswith("不是有效的 TOML")
    assert "line 1" in line
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(PolicyFileError) as caught:
        read_policy_file(missing, "en")
    assert caught.value.lines == (
        f"{missing}: cannot read the policy file (No such file or directory)",
    )


def test_a_class_section_overrides_the_base_and_keeps_the_rest(tmp_path: Path) -> None:
    book = read_policy_file(
        _write(
            tmp_path,
            'version = "2027-01"\nextension_cap = 3\n'
            "[deadlines]\nimmediate = 8\n"
            '[classes.township]\nlabel = "乡镇"\nreminder_working_days = [2, 1]\n'
            "[classes.township.deadlines]\ntime_limited = 40\n"
            '[classes.state_enterprise]\nlabel = "国有企业"\nextension_cap = 1\n',
        )
    )
    township = book.for_class("township")
    assert township.unit_class == "township"
    assert township.version == "2027-01"
    assert township.reminder_working_days == (2, 1)
    assert township.deadlines.working_days(CaseKind.TIME_LIMITED) == 40
    assert township.deadlines.working_days(CaseKind.IMMEDIATE) == 8  # the base's, merged
    assert township.extension_cap == 3
    assert book.for_class("state_enterprise").extension_cap == 1
    assert book.label("township") == "乡镇"
    assert book.for_class(None) is book.base
    assert book.for_class("not-in-the-file") is book.base
    assert len({book.base.fingerprint(), township.fingerprint()}) == 2


def test_the_default_class_applies_to_units_without_one(tmp_path: Path) -> None:
    book = read_policy_file(
        _write(tmp_path, 'default_class = "county"\n[classes.county]\nextension_cap = 4\n')
    )
    assert book.for_class(None).extension_cap == 4
    assert isinstance(book, PolicyBook)


def test_the_content_hash_ignores_the_version_name_and_sees_every_rule() -> None:
    renamed = DEFAULT_POLICY.model_copy(update={"version": "2027-01"})
    assert renamed.fingerprint() == DEFAULT_POLICY.fingerprint()
    stricter = DEFAULT_POLICY.model_copy(update={"extension_cap": 1})
    assert stricter.fingerprint() != DEFAULT_POLICY.fingerprint()


def test_a_year_within_sixty_days_without_data_is_warned_about(tmp_path: Path) -> None:
    last_official = max(
        year
        for year in range(2000, 2200)
        if DEFAULT_POLICY.calendar.year_source(year) == "official"
    )
    late_in_it = date(last_official, 12, 1)
    assert provisional_years_ahead(DEFAULT_BOOK, late_in_it) == [last_official + 1]
    assert provisional_years_ahead(DEFAULT_BOOK, date(last_official, 6, 1)) == []
    warning = provisional_warning(DEFAULT_BOOK, late_in_it, "en")
    assert warning is not None
    assert str(last_official + 1) in warning
    added = read_policy_file(_write(tmp_path, f"[[calendar.years]]\nyear = {last_official + 1}\n"))
    assert added.base.calendar.year_source(last_official + 1) == "operator"
    assert provisional_warning(added, late_in_it) is None


def test_a_synonym_entry_that_is_not_a_list_is_a_policy_problem_not_a_crash() -> None:
    from domain.policy import PolicyInvalid, policy_book_from_mapping

    with pytest.raises(PolicyInvalid) as refused:
        policy_book_from_mapping({"duplicates": {"synonyms": {"河道": 3}}})
    assert "duplicates.synonyms" in str(refused.value)
