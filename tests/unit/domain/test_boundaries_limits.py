"""Text and number limits of commands, values and the policy: the longest text accepted
and one character more, the smallest and largest number and one past each."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from domain.commands import (
    DenyExtension,
    OpenCase,
    RecordAccountability,
    RecordSatisfaction,
    RejectClosure,
    ReportProgress,
    RequestExtension,
    SetTarget,
    SubmitPlan,
    TransferResponsibility,
    VerifyClosure,
)
from domain.policy import Policy
from domain.values import Evidence, Milestone
from domain.vocabulary import AccountabilityAction

from .builders import EVIDENCE, SUPERVISOR, UNIT, open_case


def _ok(model: type[BaseModel], **fields: Any) -> bool:
    try:
        model(**fields)
    except ValidationError:
        return False
    return True


def _open(**fields: Any) -> dict[str, Any]:
    base = open_case().model_dump()
    base.update(fields)
    return base


# (what, the model, its other fields, the field, its longest accepted length)
TEXTS: list[tuple[str, type[BaseModel], dict[str, Any], str, int]] = [
    ("a finding's id", OpenCase, _open(), "finding_id", 64),
    ("a title", OpenCase, _open(), "title", 200),
    ("a description", OpenCase, _open(), "description", 10_000),
    ("a category", OpenCase, _open(), "category", 64),
    ("a severity", OpenCase, _open(), "severity", 32),
    ("a unit id", OpenCase, _open(), "unit_id", 64),
    ("a cadre id", OpenCase, _open(), "cadre_id", 64),
    ("a target", OpenCase, _open(), "target", 2_000),
    ("a plan", SubmitPlan, {"actor": UNIT}, "plan", 10_000),
    ("a progress text", ReportProgress, {"actor": UNIT}, "text", 10_000),
    (
        "an extension's reason",
        RequestExtension,
        {"actor": UNIT, "proposed_deadline": date(2025, 6, 30)},
        "reason",
        2_000,
    ),
    ("a denial's reason", DenyExtension, {"actor": SUPERVISOR}, "reason", 2_000),
    ("a rejection's reason", RejectClosure, {"actor": SUPERVISOR}, "reason", 2_000),
    ("a verification's comment", VerifyClosure, {"actor": SUPERVISOR}, "comment", 2_000),
    ("a new target", SetTarget, {"actor": SUPERVISOR}, "target", 2_000),
    (
        "a transfer's reason",
        TransferResponsibility,
        {"actor": SUPERVISOR, "unit_id": "u", "cadre_id": "c"},
        "reason",
        2_000,
    ),
    (
        "an accountability's cadre",
        RecordAccountability,
        {"actor": SUPERVISOR, "action": AccountabilityAction.ADMONISHMENT_TALK, "reason": "r"},
        "cadre_id",
        64,
    ),
    (
        "a satisfaction note",
        RecordSatisfaction,
        {"actor": SUPERVISOR, "score_percent": 90},
        "note",
        2_000,
    ),
    ("an evidence file's name", Evidence, EVIDENCE.model_dump(), "name", 255),
    ("a milestone's id", Milestone, {"title": "t", "due": date(2025, 6, 30)}, "milestone_id", 64),
    (
        "a milestone's title",
        Milestone,
        {"milestone_id": "m", "due": date(2025, 6, 30)},
        "title",
        200,
    ),
]


@pytest.mark.parametrize(
    ("model", "fields", "name", "longest"),
    [pytest.param(m, f, n, k, id=what) for what, m, f, n, k in TEXTS],
)
def test_the_longest_text_is_accepted_and_one_character_more_is_refused(
    model: type[BaseModel], fields: dict[str, Any], name: str, longest: int
) -> None:
    assert _ok(model, **{**fields, name: "字" * (longest - 1)})
    assert _ok(model, **{**fields, name: "字" * longest})
    assert not _ok(model, **{**fields, name: "字" * (longest + 1)})


REQUIRED = [
    (what, m, f, n)
    for what, m, f, n, _ in TEXTS
    if n in {"finding_id", "title", "unit_id", "plan", "text", "reason", "milestone_id", "name"}
]


@pytest.mark.parametrize(
    ("model", "fields", "name"),
    [pytest.param(m, f, n, id=what) for what, m, f, n in REQUIRED],
)
def test_required_text_needs_one_character_that_is_not_blank(
    model: type[BaseModel], fields: dict[str, Any], name: str
) -> None:
    assert _ok(model, **{**fields, name: "字"})
    assert not _ok(model, **{**fields, name: ""})
    if model is not Evidence and model is not Milestone:
        assert not _ok(model, **{**fields, name: " \u3000\t"})


# (what, the model, its other fields, the field, lowest accepted, highest accepted)
NUMBERS: list[tuple[str, type[BaseModel], dict[str, Any], str, int | None, int | None]] = [
    ("a satisfaction score", RecordSatisfaction, {"actor": SUPERVISOR}, "score_percent", 0, 100),
    (
        "respondents",
        RecordSatisfaction,
        {"actor": SUPERVISOR, "score_percent": 90},
        "respondents",
        1,
        None,
    ),
    ("percent complete", ReportProgress, {"actor": UNIT, "text": "t"}, "percent_complete", 0, 100),
    ("an evidence file's size", Evidence, EVIDENCE.model_dump(), "size", 0, None),
    ("the yellow threshold", Policy, {}, "yellow_working_days", 0, 1_000),
    ("the extension cap", Policy, {}, "extension_cap", 0, 100),
    ("the look-back window", Policy, {}, "look_back_days", 0, 3_650),
    ("the time zone", Policy, {}, "utc_offset_hours", -12, 14),
]


@pytest.mark.parametrize(
    ("model", "fields", "name", "lowest", "highest"),
    [pytest.param(m, f, n, lo, hi, id=what) for what, m, f, n, lo, hi in NUMBERS],
)
def test_numbers_are_accepted_on_their_bounds_and_refused_one_past(
    model: type[BaseModel],
    fields: dict[str, Any],
    name: str,
    lowest: int | None,
    highest: int | None,
) -> None:
    if lowest is not None:
        assert _ok(model, **{**fields, name: lowest})
        assert _ok(model, **{**fields, name: lowest + 1})
        assert not _ok(model, **{**fields, name: lowest - 1})
    if highest is not None:
        assert _ok(model, **{**fields, name: highest})
        assert not _ok(model, **{**fields, name: highest + 1})


@pytest.mark.parametrize(
    ("kind", "lowest", "highest"),
    [("immediate", 1, 1_000), ("time_limited", 1, 1_000), ("long_term", 1, 5_000)],
)
def test_default_deadlines_are_bounded(kind: str, lowest: int, highest: int) -> None:
    assert _ok(Policy, deadlines={kind: lowest})
    assert _ok(Policy, deadlines={kind: highest})
    assert not _ok(Policy, deadlines={kind: lowest - 1})
    assert not _ok(Policy, deadlines={kind: highest + 1})


@pytest.mark.parametrize(
    ("threshold", "accepted"),
    [("-0.0001", False), ("0", True), ("0.6", True), ("1", True), ("1.0001", False)],
)
def test_the_duplicate_threshold_lies_between_zero_and_one(threshold: str, accepted: bool) -> None:
    assert _ok(Policy, duplicate_threshold=threshold) is accepted


@pytest.mark.parametrize(
    ("days", "accepted"),
    [((1,), True), ((0,), False), ((5, 5), False), ((5, 3, 1), True)],
)
def test_reminder_days_are_distinct_and_positive(days: tuple[int, ...], accepted: bool) -> None:
    assert _ok(Policy, reminder_working_days=days) is accepted


@pytest.mark.parametrize(
    ("days", "accepted"),
    [
        ((1, 5, 10, 20), True),
        ((1, 5, 5, 20), False),
        ((1, 5, 4, 20), False),
        ((0, 5, 10, 20), False),
    ],
)
def test_each_escalation_step_comes_strictly_later(days: tuple[int, ...], accepted: bool) -> None:
    ladder = [
        {"level": level, "working_days_after_deadline": d} for level, d in enumerate(days, start=1)
    ]
    assert _ok(Policy, escalation=ladder) is accepted
