"""The performance archive (政绩档案): per cadre and period, figures folded from events.

Every figure carries the ids of the events behind it, so no number exists that
cannot be traced to the log. Rules (DOMAIN.md, "The performance archive"):

- an event counts for the cadre who was responsible when it happened (an
  assignment or transfer counts for the cadre who receives the case; an
  accountability action or exemption for the cadre it names);
- an event counts in the period holding its business date (China time);
- a withdrawn case leaves every figure;
- "overdue now" is judged at ``as_of`` whatever the period.

The fold is pure and orders everything by stream id, then stream order, so a
rebuild from the log gives the same archive, to the byte, as a live projection
fed the same events. Each case is folded once (``case_facts``: what it counts,
for whom, in which year and quarter), whichever cadres and periods it concerns;
a cadre's archives are the sums of the facts of their cases (``archives_of``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

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
    Event,
    ExtensionGranted,
    ExtensionRequested,
    ResponsibilityAssigned,
    ResponsibilityTransferred,
    SatisfactionRecorded,
    ToleranceApplied,
)
from domain.policy import DEFAULT_POLICY, Policy
from domain.state import CaseState, evolve
from domain.vocabulary import AccountabilityAction, CaseStatus

__all__ = [
    "CadreArchive",
    "CaseFacts",
    "Figure",
    "Period",
    "RecordedEvent",
    "TimelineEntry",
    "archives_of",
    "build_archive",
    "cadre_archive",
    "cadre_archives",
    "case_facts",
    "withdrawn_case_facts",
]

_Frozen = ConfigDict(frozen=True)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as read back from the store: its id and its stream (the case)."""

    event_id: str
    stream_id: str
    event: Event


class Period(BaseModel):
    model_config = _Frozen

    year: int = Field(ge=2000, le=2200)
    quarter: int | None = Field(default=None, ge=1, le=4)

    def contains(self, day: date) -> bool:
        if day.year != self.year:
            return False
        return self.quarter is None or (day.month - 1) // 3 + 1 == self.quarter

    @property
    def label(self) -> str:
        return f"{self.year}" if self.quarter is None else f"{self.year}-Q{self.quarter}"


class Figure(BaseModel):
    model_config = _Frozen

    value: int = 0
    event_ids: tuple[str, ...] = ()


class TimelineEntry(BaseModel):
    model_config = _Frozen

    event_id: str
    case_id: str
    event_type: str
    occurred_at: datetime


class CadreArchive(BaseModel):
    model_config = _Frozen

    cadre_id: str
    period: Period
    as_of: datetime
    cases_assigned: Figure
    cases_closed: Figure
    closed_on_time: Figure  # by the original deadline
    closed_within_extension: Figure  # late against the original, within a granted extension
    overdue_now: Figure
    highest_escalation_level: Figure  # value 0–4; ids of the escalations that reached it
    escalations_by_level: dict[str, Figure]  # "1".."4"
    extensions_requested: Figure
    extensions_granted: Figure
    closures_sent_back: Figure
    reopened_after_look_back: Figure
    days_to_close: Figure  # total calendar days, opened (or reopened) to closed
    average_days_to_close: str | None  # decimal string, two places
    satisfaction_visits: Figure
    average_satisfaction_percent: str | None
    accountability_actions: Figure
    accountability_by_action: dict[str, Figure]
    exemptions: Figure  # 容错免责
    timeline: tuple[TimelineEntry, ...]


_Model = TypeVar("_Model", bound=BaseModel)
_set = object.__setattr__


def _trusted(cls: type[_Model], **fields: object) -> _Model:
    """``cls.model_construct(**fields)`` for values the fold computed from the log
    itself, given for every field: nothing to validate, no defaults to fill, and
    without pydantic's generic construction (a build makes hundreds of thousands)."""
    new = cls.__new__(cls)
    _set(new, "__dict__", fields)
    _set(new, "__pydantic_fields_set__", set(fields))
    _set(new, "__pydantic_extra__", None)
    _set(new, "__pydantic_private__", None)
    return new


_ZERO = Figure()  # frozen, so one instance serves every figure nothing counted for
_LEVEL_FIGURES = tuple((str(level), f"level_{level}") for level in range(1, 5))
_ACTION_FIGURES = tuple((a.value, f"action_{a.value}") for a in AccountabilityAction)
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


# A timeline entry with its sort key: (instant of occurred_at, event id, entry).
_Timed = tuple[int, str, TimelineEntry]
_SATISFACTION_TOTAL = "satisfaction_total"  # summed like a figure, shown only as the average


@dataclass(frozen=True, slots=True)
class _Count:
    """``amount`` into the figure ``name`` of ``cadre_id``, in the periods holding the
    business date (``year``, ``quarter``) of the event counted."""

    cadre_id: str
    name: str
    year: int
    quarter: int
    event_ids: tuple[str, ...]
    timeline: tuple[_Timed, ...]
    amount: int = 1

    def in_period(self, period: Period) -> bool:
        return period.year == self.year and period.quarter in (None, self.quarter)


@dataclass(frozen=True, slots=True)
class _Open:
    """A case open at its last event: "overdue now" (``count``) for every period of its
    cadre when ``as_of`` falls after ``deadline``."""

    deadline: date
    count: _Count


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What one case's events give the archive, whoever the cadre, whatever the period
    and ``as_of`` (at or after ``last_at``): each case is folded once, and a cadre's
    archives are summed from the facts of the cases that name them."""

    last_at: datetime | None  # the latest business time; None: no events
    quarters: frozenset[tuple[int, int]]  # (year, quarter) of each event's business date
    counts: tuple[_Count, ...] = ()
    open: _Open | None = None


_NO_FACTS = CaseFacts(None, frozenset())
_COUNTED = frozenset(
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


class _CaseWalk:
    """The counts of one case, folded once through ``evolve``."""

    def __init__(self, records: Sequence[RecordedEvent], days: Sequence[date]) -> None:
        self.records, self.days = records, days
        self.entries: dict[int, _Timed] = {}
        self.counts: list[_Count] = []

    def entry(self, i: int) -> _Timed:
        """The timeline entry of the ``i``-th event, one object for every count of it."""
        timed = self.entries.get(i)
        if timed is None:
            r = self.records[i]
            moment = r.event.occurred_at
            # The fold's own values (read from the stored event): nothing to validate.
            entry = _trusted(
                TimelineEntry,
                event_id=r.event_id,
                case_id=r.stream_id,
                event_type=r.event.event_type,
                occurred_at=moment,
            )
            timed = self.entries[i] = (_instant(moment), r.event_id, entry)
        return timed

    def count(self, cadre: str, name: str, *indices: int, amount: int = 1) -> _Count:
        """A count of the events at ``indices``, in the period of the last of them."""
        day = self.days[indices[-1]]
        return _Count(
            cadre,
            name,
            day.year,
            (day.month - 1) // 3 + 1,
            tuple(self.records[i].event_id for i in indices),
            tuple(self.entry(i) for i in indices),
            amount,
        )

    def add(self, cadre: str, name: str, *indices: int, amount: int = 1) -> None:
        self.counts.append(self.count(cadre, name, *indices, amount=amount))

    def event(self, i: int, before: CaseState | None, after: CaseState, start: int | None) -> None:
        """The counts of the ``i``-th event (``start``: where the case's cycle began)."""
        event = self.records[i].event
        cadre = before.cadre_id if before is not None else after.cadre_id
        if isinstance(event, CaseOpened | ResponsibilityAssigned | ResponsibilityTransferred):
            self.add(after.cadre_id, "cases_assigned", i)
        elif isinstance(event, CaseClosed):
            self.add(cadre, "cases_closed", i)
            closed_on = self.days[i]
            if closed_on <= event.original_deadline:
                self.add(cadre, "closed_on_time", i)
            elif closed_on <= event.deadline and after.extensions_granted > 0:
                self.add(cadre, "closed_within_extension", i)
            if start is not None:
                days = (closed_on - self.days[start]).days
                self.add(cadre, "days_to_close", start, i, amount=days)
                self.add(cadre, "closed_cycles", i)
        elif isinstance(event, CaseEscalated):
            self.add(cadre, f"level_{int(event.level)}", i)
        elif isinstance(event, ExtensionRequested):
            self.add(cadre, "extensions_requested", i)
        elif isinstance(event, ExtensionGranted):
            self.add(cadre, "extensions_granted", i)
        elif isinstance(event, ClosureRejected):
            self.add(cadre, "closures_sent_back", i)
        elif isinstance(event, CaseReopened):
            self.add(cadre, "reopened_after_look_back", i)
        elif isinstance(event, SatisfactionRecorded):
            visit = self.count(cadre, "satisfaction_visits", i)
            score = _Count(cadre, _SATISFACTION_TOTAL, visit.year, visit.quarter, (), ())
            self.counts += (visit, replace(score, amount=event.score_percent))
        elif isinstance(event, AccountabilityRecorded):
            self.add(event.cadre_id, "accountability_actions", i)
            self.add(event.cadre_id, f"action_{event.action.value}", i)
        elif isinstance(event, ToleranceApplied):
            self.add(event.cadre_id, "exemptions", i)


def case_facts(records: Sequence[RecordedEvent], policy: Policy = DEFAULT_POLICY) -> CaseFacts:
    """The facts of one case: its events (one stream, in stream order)."""
    if not records:
        return _NO_FACTS
    moments = [r.event.occurred_at for r in records]
    if any(isinstance(r.event, CaseWithdrawn) for r in records):
        return withdrawn_case_facts(moments, policy)
    today = policy.today
    days = [today(moment) for moment in moments]
    quarters = frozenset({(d.year, (d.month - 1) // 3 + 1) for d in days})
    last_at = max(moments)
    walk = _CaseWalk(records, days)
    state: CaseState | None = None
    start: int | None = None  # CaseOpened or the last CaseReopened
    deadline_source: tuple[int, ...] = ()  # what set the deadline in force
    for i, record in enumerate(records):
        before = state
        event = record.event
        state = evolve(state, event)
        kind = type(event)
        if kind is CaseOpened or kind is CaseReopened:
            start, deadline_source = i, (i,)
        elif kind is DeadlineSet or kind is DeadlineExtended:
            deadline_source = (i,)
        elif kind is CaseOverdue:
            deadline_source = (*deadline_source, i)
        if kind in _COUNTED:
            walk.event(i, before, state, start)
    open_case = None
    if state is not None and state.status is CaseStatus.OPEN and state.deadline is not None:
        count = walk.count(state.cadre_id, "overdue_now", *deadline_source)
        open_case = _Open(state.deadline, count)
    return CaseFacts(last_at, quarters, tuple(walk.counts), open_case)


def withdrawn_case_facts(moments: Sequence[datetime], policy: Policy = DEFAULT_POLICY) -> CaseFacts:
    """The facts of a withdrawn case, from the business times (``occurred_at``) of its
    events in stream order: a withdrawn case leaves every figure, so all it gives the
    archive is when its events happened (the periods they fall in, the latest of them).
    ``case_facts`` of a case with a ``CaseWithdrawn`` is this of its events' times, so a
    reader that knows a case is withdrawn need not load its events' other fields."""
    if not moments:
        return _NO_FACTS
    today = policy.today
    days = [today(moment) for moment in moments]
    quarters = frozenset({(d.year, (d.month - 1) // 3 + 1) for d in days})
    return CaseFacts(max(moments), quarters)


class _Tally:
    __slots__ = ("ids", "value")

    def __init__(self) -> None:
        self.value = 0
        self.ids: dict[str, None] = {}  # in the order first counted


def _figure(value: int, event_ids: tuple[str, ...]) -> Figure:
    """``_trusted(Figure, ...)`` by hand: a build makes one per tally of every document."""
    new = _new_figure(Figure)
    _set(new, "__dict__", {"value": value, "event_ids": event_ids})
    _set(new, "__pydantic_fields_set__", {"value", "event_ids"})
    _set(new, "__pydantic_extra__", None)
    _set(new, "__pydantic_private__", None)
    return new


_new_figure = Figure.__new__


class _Period:
    """One cadre's figures for one period, summed from the counts in case order."""

    def __init__(self) -> None:
        self.tallies: dict[str, _Tally] = {}
        self.timeline: dict[str, _Timed] = {}

    def add(self, count: _Count) -> None:
        tally = self.tallies.get(count.name)
        if tally is None:
            tally = self.tallies[count.name] = _Tally()
        tally.value += count.amount
        ids = tally.ids
        for event_id in count.event_ids:
            ids[event_id] = None
        timeline = self.timeline
        for timed in count.timeline:
            timeline[timed[1]] = timed

    def archive(self, cadre_id: str, period: Period, as_of: datetime) -> CadreArchive:
        # The fold's own sums of the log's ids: built without validating them again.
        figures = {
            name: _figure(tally.value, tuple(tally.ids)) for name, tally in self.tallies.items()
        }
        fig = figures.get
        levels = {level: fig(name, _ZERO) for level, name in _LEVEL_FIGURES}
        top = max((int(k) for k, f in levels.items() if f.value), default=0)
        days_to_close = fig("days_to_close", _ZERO)
        visits = fig("satisfaction_visits", _ZERO)
        # Event ids are unique in a timeline, so the sort never compares two entries.
        timeline = tuple(timed[2] for timed in sorted(self.timeline.values()))
        return _trusted(
            CadreArchive,
            cadre_id=cadre_id,
            period=period,
            as_of=as_of,
            cases_assigned=fig("cases_assigned", _ZERO),
            cases_closed=fig("cases_closed", _ZERO),
            closed_on_time=fig("closed_on_time", _ZERO),
            closed_within_extension=fig("closed_within_extension", _ZERO),
            overdue_now=fig("overdue_now", _ZERO),
            highest_escalation_level=(_figure(top, levels[str(top)].event_ids) if top else _ZERO),
            escalations_by_level=levels,
            extensions_requested=fig("extensions_requested", _ZERO),
            extensions_granted=fig("extensions_granted", _ZERO),
            closures_sent_back=fig("closures_sent_back", _ZERO),
            reopened_after_look_back=fig("reopened_after_look_back", _ZERO),
            days_to_close=days_to_close,
            average_days_to_close=_average(days_to_close.value, fig("closed_cycles", _ZERO).value),
            satisfaction_visits=visits,
            average_satisfaction_percent=_average(
                fig(_SATISFACTION_TOTAL, _ZERO).value, visits.value
            ),
            accountability_actions=fig("accountability_actions", _ZERO),
            accountability_by_action={action: fig(name, _ZERO) for action, name in _ACTION_FIGURES},
            exemptions=fig("exemptions", _ZERO),
            timeline=timeline,
        )


def _average(total: int, count: int) -> str | None:
    if count == 0:
        return None
    return str((Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), ROUND_HALF_EVEN))


def archives_of(
    cadre_id: str,
    cases: Iterable[CaseFacts],
    periods: Sequence[Period],
    as_of: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[CadreArchive, ...]:
    """One cadre's archive for each of ``periods``, from the facts of the cases that
    name the cadre, in stream id order; ``as_of`` must not be before any of their
    events (fold only the events up to ``as_of``: ``cadre_archives``)."""
    sums = [_Period() for _ in periods]
    by_key: defaultdict[tuple[int, int | None], list[_Period]] = defaultdict(list)
    for period, s in zip(periods, sums, strict=True):
        by_key[(period.year, period.quarter)].append(s)
    today = policy.today(as_of)
    for case in cases:
        if case.last_at is not None and case.last_at > as_of:
            raise ValueError(f"a case has events after as_of {as_of.isoformat()}")
        for count in case.counts:
            if count.cadre_id == cadre_id:
                for s in by_key.get((count.year, None), ()):
                    s.add(count)
                for s in by_key.get((count.year, count.quarter), ()):
                    s.add(count)
        opened = case.open
        if opened is not None and opened.count.cadre_id == cadre_id and today > opened.deadline:
            for s in sums:
                s.add(opened.count)
    return tuple(
        s.archive(cadre_id, period, as_of) for s, period in zip(sums, periods, strict=True)
    )


def _live(records: Iterable[RecordedEvent], as_of: datetime) -> list[RecordedEvent]:
    return [r for r in records if r.event.occurred_at <= as_of]


def _cases(events: Iterable[RecordedEvent], as_of: datetime, policy: Policy) -> list[CaseFacts]:
    streams: dict[str, list[RecordedEvent]] = defaultdict(list)
    for record in events:
        streams[record.stream_id].append(record)
    return [case_facts(_live(streams[s], as_of), policy) for s in sorted(streams)]


def build_archive(
    events: Iterable[RecordedEvent],
    period: Period,
    as_of: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[CadreArchive, ...]:
    """Every cadre's archive for ``period``, as the log stood at ``as_of``, by cadre id:
    each cadre something counted for in the period, or whose case is overdue now.

    ``events`` must keep each stream's order (stream version); streams may interleave.
    """
    cases = _cases(events, as_of, policy)
    today = policy.today(as_of)
    cadres = {c.cadre_id for case in cases for c in case.counts if c.in_period(period)}
    cadres |= {
        case.open.count.cadre_id
        for case in cases
        if case.open is not None and today > case.open.deadline
    }
    return tuple(archives_of(c, cases, (period,), as_of, policy)[0] for c in sorted(cadres))


def cadre_archive(
    events: Iterable[RecordedEvent],
    cadre_id: str,
    period: Period,
    as_of: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> CadreArchive:
    """One cadre's archive; all figures zero when no event counts for them."""
    return archives_of(cadre_id, _cases(events, as_of, policy), (period,), as_of, policy)[0]


def cadre_archives(
    streams: Iterable[Sequence[RecordedEvent]],
    cadre_id: str,
    periods: Sequence[Period],
    as_of: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[CadreArchive, ...]:
    """One cadre's archive for each of ``periods``, folding each stream once.

    ``streams`` are whole streams in stream order, given in stream id order;
    the result equals ``cadre_archive`` called once per period.
    """
    cases = [case_facts(_live(records, as_of), policy) for records in streams]
    return archives_of(cadre_id, cases, periods, as_of, policy)
