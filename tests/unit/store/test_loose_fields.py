"""The case summary and the unit board read no loose field of a case's state
(``domain.state.LOOSE_FIELDS``), so the one-pass build may fold the events of the loose
types by their time alone (``store.projections.one_pass``) and write the same rows."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings

from domain.case import decide, evolve, fold
from domain.commands import Command
from domain.errors import DomainError
from domain.events import Event
from domain.state import LOOSE_TYPES
from store.projections.archive_fold import ArchiveEventRow, case_facts_and_state
from store.projections.case_summary import summary_row
from store.projections.facts import facts_of
from store.projections.unit_board import board_case_row
from tests.unit.domain.builders import NOW
from tests.unit.domain.test_properties import by_time, histories, opening


def _events(open_cmd: Command, steps: list[tuple[int, Command]]) -> list[Event]:
    """What ``decide`` writes for the commands it accepts, in turn."""
    now = NOW
    events: list[Event] = list(decide(None, open_cmd, now))
    state = fold(events)
    for gap, command in steps:
        now += timedelta(days=gap)
        try:
            new = decide(state, command, now)
        except DomainError:
            continue
        for event in new:
            state = evolve(state, event)
        events.extend(new)
    return events


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(opening(), histories())
def test_summary_and_board_rows_are_the_same_when_loose_events_are_read_for_their_time(
    open_cmd: Command, steps: list[tuple[int, Command]]
) -> None:
    events = _events(open_cmd, steps)
    records = [ArchiveEventRow(str(i), "case-F-1", e) for i, e in enumerate(events)]
    loose = by_time(records, LOOSE_TYPES)
    _, whole = case_facts_and_state(records)
    _, partial = case_facts_and_state(loose)
    expected = facts_of("case-F-1", whole, records[0].event)
    got = facts_of("case-F-1", partial, loose[0].event)
    assert expected is not None
    assert got is not None
    assert summary_row(got) == summary_row(expected)
    assert board_case_row(got) == board_case_row(expected)
