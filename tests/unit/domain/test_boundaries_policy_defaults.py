"""The rules as the product ships them: DEFAULT_POLICY asserted figure by figure against
what README.md, DOMAIN.md and docs/policy.example.toml promise, so a changed default is
seen (the other unit tests mostly pass their own numbers)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from domain.policy import DEFAULT_BOOK, DEFAULT_POLICY, policy_book_from_toml
from domain.vocabulary import CaseKind, EscalationLevel

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "docs" / "policy.example.toml"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_default_deadlines_are_ten_sixty_and_two_hundred_fifty_working_days() -> None:
    deadlines = DEFAULT_POLICY.deadlines
    assert (deadlines.immediate, deadlines.time_limited, deadlines.long_term) == (10, 60, 250)
    assert deadlines.working_days(CaseKind.IMMEDIATE) == 10
    assert deadlines.working_days(CaseKind.TIME_LIMITED) == 60
    assert deadlines.working_days(CaseKind.LONG_TERM) == 250


def test_reminders_go_five_three_and_one_working_days_before() -> None:
    assert DEFAULT_POLICY.reminder_working_days == (5, 3, 1)


def test_the_light_turns_yellow_at_five_working_days() -> None:
    assert DEFAULT_POLICY.yellow_working_days == 5


def test_the_ladder_is_one_five_ten_and_twenty_working_days_after_the_deadline() -> None:
    ladder = [(int(s.level), s.working_days_after_deadline) for s in DEFAULT_POLICY.escalation]
    assert ladder == [(1, 1), (2, 5), (3, 10), (4, 20)]
    assert DEFAULT_POLICY.escalation[-1].level is EscalationLevel.ACCOUNTABILITY_RECOMMENDED
    assert DEFAULT_POLICY.escalation_step(4) == DEFAULT_POLICY.escalation[3]
    assert DEFAULT_POLICY.escalation_step(5) is None


def test_two_extensions_a_look_back_of_180_days_and_a_duplicate_threshold_of_point_six() -> None:
    assert DEFAULT_POLICY.extension_cap == 2
    assert DEFAULT_POLICY.look_back_days == 180
    assert DEFAULT_POLICY.duplicate_threshold == Decimal("0.6")


def test_the_clock_is_china_standard_time_and_the_calendar_the_official_one() -> None:
    assert DEFAULT_POLICY.utc_offset_hours == 8
    assert DEFAULT_POLICY.version == "builtin"
    assert DEFAULT_POLICY.unit_class is None
    assert DEFAULT_POLICY.calendar.use_package is True
    assert DEFAULT_POLICY.calendar.years == ()
    assert DEFAULT_POLICY.calendar.fixed_holidays == (
        (1, 1),
        (5, 1),
        (5, 2),
        (10, 1),
        (10, 2),
        (10, 3),
    )


def test_the_book_ships_the_default_policy_for_every_unit() -> None:
    assert DEFAULT_BOOK.base == DEFAULT_POLICY
    assert DEFAULT_BOOK.classes == {}
    assert DEFAULT_BOOK.default_class is None
    assert DEFAULT_BOOK.for_class("township") == DEFAULT_POLICY


def test_the_example_policy_file_holds_exactly_the_built_in_defaults() -> None:
    """README: "Start from docs/policy.example.toml, which holds the built-in defaults"."""
    book = policy_book_from_toml(EXAMPLE.read_text(encoding="utf-8"))
    assert book.base == DEFAULT_POLICY
    assert book.base.fingerprint() == DEFAULT_POLICY.fingerprint()


def test_a_default_deadline_is_counted_in_working_days_on_the_chinese_calendar() -> None:
    # Opened Monday 2025-03-03: ten working days later is Monday 03-17.
    counted = DEFAULT_POLICY.default_deadline(CaseKind.IMMEDIATE, date(2025, 3, 3))
    assert (counted.date, counted.provisional) == (date(2025, 3, 17), False)
    # Over the May holiday of 2025 (05-01 to 05-05, with 04-27 worked): from 04-28,
    # 04-29, 04-30, 05-06, 05-07, 05-08, 05-09, 05-12, 05-13, 05-14 are the ten.
    counted = DEFAULT_POLICY.default_deadline(CaseKind.IMMEDIATE, date(2025, 4, 27))
    assert counted.date == date(2025, 5, 14)


def test_the_readme_states_the_same_figures() -> None:
    figures = {
        "default 10 working days": "immediate",
        "default 60 working days": "time_limited",
    }
    domain_text = ROOT.parent / "shared" / "DOMAIN.md"
    text = domain_text.read_text(encoding="utf-8") if domain_text.exists() else ""
    for phrase, kind in figures.items():
        if text:
            assert phrase in text, phrase
        assert DEFAULT_POLICY.deadlines.working_days(CaseKind(kind)) == int(phrase.split()[1])
    assert re.search(r"ZHENGGAI_EVIDENCE_MAX_BYTES`\s+\(20 MiB\)", README)
    assert "ZHENGGAI_COMMAND_TIMEOUT_SECONDS` (15 s" in README


def test_the_process_settings_ship_the_documented_limits() -> None:
    from settings import Settings

    fields = Settings.model_fields
    assert fields["evidence_max_bytes"].default == 20 * 1024 * 1024
    assert fields["command_timeout_seconds"].default == 15.0
    assert fields["notification_digest_hour"].default == 8
