"""Extension requests (延期申请) and their decision."""

from __future__ import annotations

from datetime import date

import pytest

from domain.commands import DenyExtension, GrantExtension, RequestExtension
from domain.errors import InvalidCommand, InvalidState
from domain.events import ExtensionDenied, ExtensionRequested
from domain.policy import Policy

from .builders import DEADLINE, SUPERVISOR, UNIT, at, opened


def _request(proposed: date = date(2025, 6, 30)) -> RequestExtension:
    return RequestExtension(actor=UNIT, reason="汛期无法施工", proposed_deadline=proposed)


def test_a_granted_extension_moves_the_deadline_but_not_the_original() -> None:
    history = opened()
    assert [type(e) for e in history.do(_request())] == [ExtensionRequested]
    events = history.do(GrantExtension(actor=SUPERVISOR))
    assert [e.event_type for e in events] == ["ExtensionGranted", "DeadlineExtended"]
    case = history.case
    assert case.deadline == date(2025, 6, 30)
    assert case.original_deadline == DEADLINE
    assert case.extensions_granted == 1
    assert case.pending_extension is None


def test_the_supervisor_may_grant_a_different_date() -> None:
    history = opened()
    history.do(_request())
    history.do(GrantExtension(actor=SUPERVISOR, new_deadline=date(2025, 5, 31)))
    assert history.case.deadline == date(2025, 5, 31)


def test_a_denied_extension_leaves_the_deadline() -> None:
    history = opened()
    history.do(_request())
    assert [type(e) for e in history.do(DenyExtension(actor=SUPERVISOR, reason="理由不足"))] == [
        ExtensionDenied
    ]
    assert history.case.deadline == DEADLINE
    assert history.case.pending_extension is None


def test_extension_after_deadline_is_refused() -> None:
    with pytest.raises(InvalidState) as refused:
        opened().do(_request(), at(2025, 5, 1))
    assert refused.value.code == "extension_after_deadline"


def test_extension_on_the_deadline_day_is_still_accepted() -> None:
    assert opened().do(_request(), at(2025, 4, 30, 23))


def test_extensions_are_capped_per_case() -> None:
    history = opened(policy=Policy(extension_cap=2))
    for proposed in (date(2025, 5, 30), date(2025, 6, 30)):
        history.do(_request(proposed))
        history.do(GrantExtension(actor=SUPERVISOR))
    with pytest.raises(InvalidState) as refused:
        history.do(_request(date(2025, 7, 31)))
    assert refused.value.code == "extension_cap_reached"


def test_denied_requests_do_not_count_against_the_cap() -> None:
    history = opened(policy=Policy(extension_cap=1))
    history.do(_request())
    history.do(DenyExtension(actor=SUPERVISOR, reason="理由不足"))
    assert history.do(_request())


def test_a_second_request_while_one_is_pending_is_refused() -> None:
    history = opened()
    history.do(_request())
    with pytest.raises(InvalidState) as refused:
        history.do(_request(date(2025, 7, 1)))
    assert refused.value.code == "extension_pending"


def test_an_extension_must_propose_a_later_date() -> None:
    with pytest.raises(InvalidCommand) as refused:
        opened().do(_request(date(2025, 4, 1)))
    assert refused.value.code == "extension_not_later"


def test_granting_without_a_pending_request_is_refused() -> None:
    with pytest.raises(InvalidState) as refused:
        opened().do(GrantExtension(actor=SUPERVISOR))
    assert refused.value.code == "no_pending_extension"
