"""The extension cap, the extension's dates, and the look-back window on their
boundaries: the value just below, on and just above each."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from domain.commands import (
    DenyExtension,
    GrantExtension,
    ReopenCase,
    RequestExtension,
    VerifyClosure,
)
from domain.errors import DomainError
from domain.policy import DEFAULT_POLICY, Policy

from .builders import SUPERVISOR, UNIT, History, at, opened, pending_closure

DEADLINE = date(2025, 4, 30)


def _code(history: History, command: object, when: datetime) -> str:
    try:
        history.do(command, when)  # type: ignore[arg-type]
    except DomainError as refused:
        return refused.code
    return "ok"


def _request(proposed: date) -> RequestExtension:
    return RequestExtension(actor=UNIT, reason="工程量大", proposed_deadline=proposed)


def _with_extensions(granted: int, policy: Policy = DEFAULT_POLICY) -> History:
    """A case whose deadline was extended ``granted`` times, by a month each."""
    history = opened(policy=policy, deadline=DEADLINE)
    for n in range(granted):
        history.do(_request(DEADLINE + timedelta(days=30 * (n + 1))), at(2025, 4, 1))
        history.do(GrantExtension(actor=SUPERVISOR), at(2025, 4, 1))
    return history


# -- the cap -------------------------------------------------------------------------------


@pytest.mark.parametrize("cap", [0, 1, 2, 3])
def test_a_unit_may_ask_while_fewer_extensions_than_the_cap_were_granted(cap: int) -> None:
    policy = DEFAULT_POLICY.model_copy(update={"extension_cap": cap})
    if cap > 0:
        below = _with_extensions(cap - 1, policy)
        assert _code(below, _request(date(2025, 12, 31)), at(2025, 4, 2)) == "ok"
    on = _with_extensions(cap, policy)
    assert _code(on, _request(date(2025, 12, 31)), at(2025, 4, 2)) == "extension_cap_reached"


def test_the_shipped_cap_allows_two_extensions_and_refuses_the_third() -> None:
    assert _with_extensions(2).case.extensions_granted == 2
    refused = _code(_with_extensions(2), _request(date(2025, 12, 31)), at(2025, 4, 2))
    assert refused == "extension_cap_reached"


def test_a_denied_request_does_not_count_against_the_cap() -> None:
    policy = DEFAULT_POLICY.model_copy(update={"extension_cap": 1})
    history = opened(policy=policy, deadline=DEADLINE)
    history.do(_request(date(2025, 5, 30)), at(2025, 4, 1))
    history.do(DenyExtension(actor=SUPERVISOR, reason="理由不足"), at(2025, 4, 1))
    assert _code(history, _request(date(2025, 5, 30)), at(2025, 4, 2)) == "ok"


def test_a_grant_is_refused_when_the_cap_in_force_is_reached() -> None:
    history = _with_extensions(1)
    history.do(_request(date(2025, 12, 31)), at(2025, 4, 2))
    history.policy = DEFAULT_POLICY.model_copy(update={"extension_cap": 1})
    assert _code(history, GrantExtension(actor=SUPERVISOR), at(2025, 4, 3)) == (
        "extension_cap_reached"
    )


# -- the request's and the grant's dates -------------------------------------------------


@pytest.mark.parametrize(
    ("when", "outcome"),
    [
        (at(2025, 4, 29), "ok"),
        (at(2025, 4, 30, 23), "ok"),  # the deadline day is the last day to ask
        (at(2025, 5, 1, 0), "extension_after_deadline"),
    ],
)
def test_an_extension_is_asked_for_by_the_end_of_the_deadline_day(
    when: datetime, outcome: str
) -> None:
    history = opened(deadline=DEADLINE)
    assert _code(history, _request(date(2025, 6, 30)), when) == outcome


@pytest.mark.parametrize(
    ("proposed", "outcome"),
    [
        (date(2025, 4, 29), "extension_not_later"),
        (DEADLINE, "extension_not_later"),
        (date(2025, 5, 1), "ok"),
    ],
)
def test_the_proposed_deadline_must_be_after_the_current_one(proposed: date, outcome: str) -> None:
    assert _code(opened(deadline=DEADLINE), _request(proposed), at(2025, 4, 1)) == outcome


@pytest.mark.parametrize(
    ("new_deadline", "outcome"),
    [
        (DEADLINE, "extension_not_later"),  # not after the current deadline
        (date(2025, 5, 1), "ok"),
    ],
)
def test_a_granted_deadline_must_be_after_the_current_one(new_deadline: date, outcome: str) -> None:
    history = opened(deadline=DEADLINE)
    history.do(_request(date(2025, 6, 30)), at(2025, 4, 1))
    command = GrantExtension(actor=SUPERVISOR, new_deadline=new_deadline)
    assert _code(history, command, at(2025, 4, 2)) == outcome


@pytest.mark.parametrize(
    ("new_deadline", "outcome"),
    [(date(2025, 5, 9), "extension_not_later"), (date(2025, 5, 10), "ok")],
)
def test_a_granted_deadline_must_be_after_today(new_deadline: date, outcome: str) -> None:
    """Granted late (the request waited past the deadline): the new date must be after
    the day of the grant."""
    history = opened(deadline=DEADLINE)
    history.do(_request(date(2025, 6, 30)), at(2025, 4, 30))
    command = GrantExtension(actor=SUPERVISOR, new_deadline=new_deadline)
    assert _code(history, command, at(2025, 5, 9)) == outcome


# -- the look-back window (回头看): 180 calendar days after the closure's business date ------

CLOSED = at(2025, 5, 6, 10)  # business date 2025-05-06; the window ends on 2025-11-02


def _closed(policy: Policy = DEFAULT_POLICY, when: datetime = CLOSED) -> History:
    history = pending_closure(opened(policy=policy, deadline=DEADLINE), when)
    history.do(VerifyClosure(actor=SUPERVISOR), when)
    return history


def _reopen() -> ReopenCase:
    return ReopenCase(actor=SUPERVISOR, reason="问题反弹", deadline=date(2026, 6, 30))


@pytest.mark.parametrize(
    ("when", "outcome"),
    [
        (at(2025, 11, 1), "ok"),
        (at(2025, 11, 2, 0), "ok"),  # the 180th day after the closure
        (datetime.fromisoformat("2025-11-02T23:59:59+08:00"), "ok"),
        (datetime.fromisoformat("2025-11-02T16:00:00+00:00"), "look_back_expired"),  # 11-03 CST
        (at(2025, 11, 3, 0), "look_back_expired"),
    ],
)
def test_a_closed_case_reopens_up_to_the_last_day_of_the_look_back_window(
    when: datetime, outcome: str
) -> None:
    assert CLOSED.date() + timedelta(days=180) == date(2025, 11, 2)
    assert _code(_closed(), _reopen(), when) == outcome


def test_the_window_starts_from_the_closures_business_date_in_china() -> None:
    """Closed at 2025-05-06 23:30 China time = 15:30 UTC: the window is counted from
    05-06, not from a UTC or server date."""
    closed = datetime.fromisoformat("2025-05-06T15:30:00+00:00")
    assert _code(_closed(when=closed), _reopen(), at(2025, 11, 2, 23)) == "ok"
    assert _code(_closed(when=closed), _reopen(), at(2025, 11, 3, 0)) == "look_back_expired"


@pytest.mark.parametrize("days", [0, 1, 30])
def test_the_window_follows_the_policys_look_back_days(days: int) -> None:
    policy = DEFAULT_POLICY.model_copy(update={"look_back_days": days})
    last = CLOSED + timedelta(days=days)
    assert _code(_closed(policy), _reopen(), last.replace(hour=23)) == "ok"
    after = (CLOSED + timedelta(days=days + 1)).replace(hour=0)
    assert _code(_closed(policy), _reopen(), after) == "look_back_expired"
