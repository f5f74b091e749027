"""The archive's fold as the rebuild runs it: ``domain.archive``'s counts, made fast.

``domain.archive`` says what each figure counts (``case_counts``, ``archives_of``).
This is the same fold written for a reader that folds every event of the log: it
folds a case's state in place (``evolve_owned``), takes events of the types in
``TIME_ONLY`` by their business time alone (``TimeOnly``: about half of a log need
not be parsed), skips a withdrawn case's events but for their times
(``withdrawn_case_facts``), and makes each counted event's timeline entry, and the
JSON text of it and of its id, once (``archive_writer`` joins those texts into the
documents). The property tests (tests/unit/domain/test_properties.py) check, for
random histories, that the documents written from these facts are the domain's
archives' JSON to the byte, and that reading by time gives the same facts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from pydantic import TypeAdapter

from domain.archive import TimelineEntry
from domain.constructed import constructed
from domain.events import (
    AccountabilityRecorded,
    CaseClosed,
    CaseEscalated,
    CaseOpened,
    CaseOverdue,
    CaseReopened,
    CaseWithdrawn,
    ClosureRejected,
    DeadlineExtended,
    DeadlineSet,
    DuplicateFindingMerged,
    Event,
    ExtensionGranted,
    ExtensionRequested,
    MilestoneReported,
    ResponsibilityAssigned,
    ResponsibilityTransferred,
    SatisfactionRecorded,
    ToleranceApplied,
)
from domain.policy import DEFAULT_POLICY, Policy
from domain.state import LOOSE_TYPES, CaseState, evolve_owned, evolve_owned_time
from domain.vocabulary import CaseStatus

__all__ = [
    "SATISFACTION_TOTAL",
    "TIME_ONLY",
    "ArchiveCaseFacts",
    "ArchiveCount",
    "ArchiveEventRow",
    "TimeOnly",
    "Timed",
    "case_facts",
    "case_facts_and_state",
    "quoted",
    "withdrawn_case_facts",
]


class TimeOnly(NamedTuple):
    """An event of a type in ``TIME_ONLY``, read for its business time alone."""

    event_type: str
    occurred_at: datetime


# Event types that count for no figure and change nothing of a case's state that the
# archive reads (its cadre, status, deadline, extensions granted): the state's loose
# types (``domain.state.LOOSE_TYPES``), a milestone reported and a merged finding. All
# the archive needs of them is when they happened, so a reader may give ``case_facts``
# a ``TimeOnly`` for them instead of the parsed event (about half of a log). The
# property tests check that both give the same facts.
TIME_ONLY = LOOSE_TYPES | frozenset(
    cls.event_type for cls in (MilestoneReported, DuplicateFindingMerged)
)


class ArchiveEventRow(NamedTuple):
    """An event as the rebuild reads it: its id, its stream (the case), and the event
    (or its time alone). A named tuple, not a frozen dataclass: a fold reads one per
    event, and a frozen dataclass takes several times as long to make."""

    event_id: str
    stream_id: str
    event: Event | TimeOnly


_ENTRY_FIELDS = frozenset(TimelineEntry.model_fields)
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _instant(moment: datetime) -> int:
    """A moment as an integer that orders as the moments themselves do (microseconds
    since 1970, in UTC for an aware moment): a timeline is sorted by (moment, event id)
    with the key computed once per entry, not two datetimes compared per comparison."""
    if moment.tzinfo is None:
        return (moment - _EPOCH) // _MICROSECOND
    return (moment - _EPOCH_UTC) // _MICROSECOND


# A timeline entry's sort key and its texts in an archive's JSON: (instant of
# occurred_at, event id, the entry's JSON, the event id's JSON). One per event counted,
# shared by every period and figure that counts it, so each text is made once.
Timed = tuple[int, str, str, str]
_json_string = TypeAdapter(str).dump_json
_PLAIN = re.compile(r"[\w .:+/-]*", re.ASCII)  # characters JSON writes as they are
_entry_json = TimelineEntry.__pydantic_serializer__.to_json


def quoted(text: str) -> str:
    """``text`` as pydantic writes a string in JSON."""
    if _PLAIN.fullmatch(text):
        return f'"{text}"'
    return _json_string(text).decode()


SATISFACTION_TOTAL = "satisfaction_total"  # summed like a figure, shown only as the average


class ArchiveCount(NamedTuple):
    """``amount`` into the figure ``name`` of ``cadre_id``, in the periods holding the
    business date (``year``, ``quarter``) of the event counted."""

    cadre_id: str
    name: str
    year: int
    quarter: int
    timeline: tuple[Timed, ...]  # the events counted (their ids: ``Timed[1]``)
    amount: int = 1


@dataclass(frozen=True, slots=True)
class _Open:
    """A case open at its last event: "overdue now" (``count``) for every period of its
    cadre when ``as_of`` falls after ``deadline``."""

    deadline: date
    count: ArchiveCount


class ArchiveCaseFacts(NamedTuple):
    """What one case's events give the archive, whoever the cadre, whatever the period
    and ``as_of`` (at or after ``last_at``): each case is folded once, and a cadre's
    documents are written from the facts of the cases that name them."""

    last_at: datetime | None  # the latest business time; None: no events
    quarters: frozenset[tuple[int, int]]  # (year, quarter) of each event's business date
    counts: tuple[ArchiveCount, ...] = ()
    open: _Open | None = None


_NO_FACTS = ArchiveCaseFacts(None, frozenset())
_COUNTED: frozenset[type[Event]] = frozenset(
    {
        CaseOpened,
        ResponsibilityAssigned,
        ResponsibilityTransferred,
        CaseClosed,
        CaseEscalated,
        ExtensionRequested,
        ExtensionGranted,
        ClosureRejected,
        CaseReopened,
        SatisfactionRecorded,
        AccountabilityRecorded,
        ToleranceApplied,
    }
)
if TIME_ONLY & {cls.event_type for cls in _COUNTED}:
    raise AssertionError("an event type that counts cannot be read for its time only")


class _CaseWalk:
    """The counts of one case, folded once through ``evolve_owned``."""

    def __init__(
        self,
        records: Sequence[ArchiveEventRow],
        days: Sequence[date],
        periods: Sequence[tuple[int, int]],
    ) -> None:
        self.records, self.days, self.periods = records, days, periods
        self.entries: dict[int, Timed] = {}
        self.counts: list[ArchiveCount] = []

    def entry(self, i: int) -> Timed:
        """The timeline entry of the ``i``-th event, one object for every count of it."""
        timed = self.entries.get(i)
        if timed is None:
            r = self.records[i]
            moment = r.event.occurred_at
            # The fold's own values (read from the stored event): nothing to validate.
            values: dict[str, object] = {
                "event_id": r.event_id,
                "case_id": r.stream_id,
                "event_type": r.event.event_type,
                "occurred_at": moment,
            }
            entry = constructed(TimelineEntry, values, {*_ENTRY_FIELDS})
            text = _entry_json(entry).decode()
            timed = (_instant(moment), r.event_id, text, quoted(r.event_id))
            self.entries[i] = timed
        return timed

    def count(self, cadre: str, name: str, *indices: int, amount: int = 1) -> ArchiveCount:
        """A count of the events at ``indices``, in the period of the last of them."""
        year, quarter = self.periods[indices[-1]]
        if len(indices) == 1:  # most counts: one event
            return ArchiveCount(cadre, name, year, quarter, (self.entry(indices[0]),), amount)
        entries = tuple(self.entry(i) for i in indices)
        return ArchiveCount(cadre, name, year, quarter, entries, amount)

    def add(self, cadre: str, name: str, *indices: int, amount: int = 1) -> None:
        self.counts.append(self.count(cadre, name, *indices, amount=amount))

    def one(self, cadre: str, name: str, i: int) -> None:
        """``add(cadre, name, i)``: most counts are of one event, by one."""
        year, quarter = self.periods[i]
        self.counts.append(ArchiveCount(cadre, name, year, quarter, (self.entry(i),)))

    def event(self, i: int, cadre: str | None, after: CaseState, start: int | None) -> None:
        """The counts of the ``i``-th event (``cadre``: the case's cadre before it, None
        before the finding; ``start``: where the case's cycle began), as
        ``domain.archive`` counts them."""
        event = self.records[i].event
        cadre = cadre if cadre is not None else after.cadre_id
        if isinstance(event, CaseOpened | ResponsibilityAssigned | ResponsibilityTransferred):
            self.one(after.cadre_id, "cases_assigned", i)
        elif isinstance(event, CaseClosed):
            self.one(cadre, "cases_closed", i)
            closed_on = self.days[i]
            if closed_on <= event.original_deadline:
                self.one(cadre, "closed_on_time", i)
            elif closed_on <= event.deadline and after.extensions_granted > 0:
                self.one(cadre, "closed_within_extension", i)
            if start is not None:
                days = (closed_on - self.days[start]).days
                self.add(cadre, "days_to_close", start, i, amount=days)
                self.one(cadre, "closed_cycles", i)
        elif isinstance(event, CaseEscalated):
            self.one(cadre, f"level_{int(event.level)}", i)
        elif isinstance(event, ExtensionRequested):
            self.one(cadre, "extensions_requested", i)
        elif isinstance(event, ExtensionGranted):
            self.one(cadre, "extensions_granted", i)
        elif isinstance(event, ClosureRejected):
            self.one(cadre, "closures_sent_back", i)
        elif isinstance(event, CaseReopened):
            self.one(cadre, "reopened_after_look_back", i)
        elif isinstance(event, SatisfactionRecorded):
            visit = self.count(cadre, "satisfaction_visits", i)
            score = ArchiveCount(cadre, SATISFACTION_TOTAL, visit.year, visit.quarter, ())
            self.counts += (visit, score._replace(amount=event.score_percent))
        elif isinstance(event, AccountabilityRecorded):
            self.one(event.cadre_id, "accountability_actions", i)
            self.one(event.cadre_id, f"action_{event.action.value}", i)
        elif isinstance(event, ToleranceApplied):
            self.one(event.cadre_id, "exemptions", i)


def case_facts(
    records: Sequence[ArchiveEventRow], policy: Policy = DEFAULT_POLICY
) -> ArchiveCaseFacts:
    """The facts of one case: its events (one stream, in stream order)."""
    return _walked(records, policy, with_state=False)[0]


def case_facts_and_state(
    records: Sequence[ArchiveEventRow], policy: Policy = DEFAULT_POLICY
) -> tuple[ArchiveCaseFacts, CaseState | None]:
    """``case_facts`` and the case's state after its events (``domain.state.fold``), from
    one fold: for a reader that builds the other read models in the same pass. An event
    of a type in ``LOOSE_TYPES`` may be a ``TimeOnly``: the state is then exact but for
    the loose fields (``domain.state.LOOSE_FIELDS``); a ``TimeOnly`` of any other type
    is a TypeError."""
    return _walked(records, policy, with_state=True)


def _state_of(records: Sequence[ArchiveEventRow]) -> CaseState | None:
    """The fold of ``records``, each ``TimeOnly`` by its time (``evolve_owned_time``)."""
    state: CaseState | None = None
    for record in records:
        event = record.event
        if isinstance(event, TimeOnly):
            state = evolve_owned_time(state, event.event_type, event.occurred_at)
        else:
            state = evolve_owned(state, event)
    return state


def _walked(
    records: Sequence[ArchiveEventRow], policy: Policy, *, with_state: bool
) -> tuple[ArchiveCaseFacts, CaseState | None]:
    if not records:
        return _NO_FACTS, None
    events = [r.event for r in records]
    moments = [e.occurred_at for e in events]
    if any(issubclass(kind, CaseWithdrawn) for kind in {type(e) for e in events}):
        # Counts nothing: its state is wanted only by the caller.
        return withdrawn_case_facts(moments, policy), _state_of(records) if with_state else None
    days = policy.business_dates(moments)
    periods = [(d.year, (d.month - 1) // 3 + 1) for d in days]
    last_at = max(moments)
    walk = _CaseWalk(records, days, periods)
    state: CaseState | None = None
    start: int | None = None  # CaseOpened or the last CaseReopened
    deadline_source: tuple[int, ...] = ()  # what set the deadline in force
    for i, event in enumerate(events):
        if isinstance(event, TimeOnly):  # changes nothing the archive reads (TIME_ONLY)
            if with_state:
                state = evolve_owned_time(state, event.event_type, event.occurred_at)
            continue
        cadre = state.cadre_id if state is not None else None  # before the event
        state = evolve_owned(state, event)
        kind = type(event)
        if kind is CaseOpened or kind is CaseReopened:
            start, deadline_source = i, (i,)
        elif kind is DeadlineSet or kind is DeadlineExtended:
            deadline_source = (i,)
        elif kind is CaseOverdue:
            deadline_source = (*deadline_source, i)
        if kind in _COUNTED:
            walk.event(i, cadre, state, start)
    open_case = None
    if state is not None and state.status is CaseStatus.OPEN and state.deadline is not None:
        count = walk.count(state.cadre_id, "overdue_now", *deadline_source)
        open_case = _Open(state.deadline, count)
    facts = ArchiveCaseFacts(last_at, frozenset(periods), tuple(walk.counts), open_case)
    return facts, state


def withdrawn_case_facts(
    moments: Sequence[datetime], policy: Policy = DEFAULT_POLICY
) -> ArchiveCaseFacts:
    """The facts of a withdrawn case, from the business times (``occurred_at``) of its
    events in stream order: a withdrawn case leaves every figure, so all it gives the
    archive is when its events happened (the periods they fall in, the latest of them).
    ``case_facts`` of a case with a ``CaseWithdrawn`` is this of its events' times, so a
    reader that knows a case is withdrawn need not load its events' other fields."""
    if not moments:
        return _NO_FACTS
    days = policy.business_dates(moments)
    quarters = frozenset({(d.year, (d.month - 1) // 3 + 1) for d in days})
    return ArchiveCaseFacts(max(moments), quarters)
