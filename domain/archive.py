"""The performance archive (政绩档案): per cadre and period, figures folded from events.

Every figure carries the ids of the events behind it, so no number exists that
cannot be traced to the log. Rules (DOMAIN.md, "The performance archive"):

- an event counts for the cadre who was responsible when it happened (an
  assignment or transfer counts for the cadre who receives the case; an
  accountability action or exemption for the cadre it names);
- an event counts in the period holding its business date (China time);
- a withdrawn case leaves every figure; so does a case merged into another open
  case of its unit (``CaseMergedInto`` is a kind of ``CaseWithdrawn``): the problem
  counts once, on the surviving case;
- "overdue now" is judged at ``as_of`` whatever the period.

The fold is pure and orders everything by stream id, then stream order, so a
rebuild from the log gives the same archive, to the byte, as a live projection
fed the same events. Each case is folded once (``case_counts``: what it counts,
for whom, in which year and quarter), whichever cadres and periods it concerns;
a cadre's archives are the sums of the counts of their cases (``archives_of``).

This module is the definition of each figure, written to be read. The read model
folds the log with a faster copy of the same fold and writes the archives' JSON
without building them (``store/projections/archive_fold.py`` and
``archive_writer.py``); property tests check that the two agree to the byte.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple

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
    "ArchiveEvent",
    "CadreArchive",
    "CaseCounts",
    "Figure",
    "Period",
    "TimelineEntry",
    "archives_of",
    "build_archive",
    "cadre_archive",
    "cadre_archives",
    "case_counts",
]

_Frozen = ConfigDict(frozen=True)


class ArchiveEvent(NamedTuple):
    """An event of a case with the ids its figures trace it by: its own, and its
    stream's (the case)."""

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


_ZERO = Figure()
_LEVEL_FIGURES = tuple((str(level), f"level_{level}") for level in range(1, 5))
_ACTION_FIGURES = tuple((a.value, f"action_{a.value}") for a in AccountabilityAction)
_SATISFACTION_TOTAL = "satisfaction_total"  # summed like a figure, shown only as the average
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)


def _instant(moment: datetime) -> int:
    """A moment as an integer that orders as the moments do (microseconds since 1970;
    a naive moment read as UTC): a timeline is in (moment, event id) order."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH_UTC) // timedelta(microseconds=1)


class _Count(NamedTuple):
    """``amount`` into the figure ``name`` of ``cadre_id``, in the periods holding the
    business date (``year``, ``quarter``) of the event counted."""

    cadre_id: str
    name: str
    year: int
    quarter: int
    timeline: tuple[TimelineEntry, ...]  # the events counted
    amount: int = 1

    def in_period(self, period: Period) -> bool:
        return period.year == self.year and period.quarter in (None, self.quarter)


@dataclass(frozen=True)
class _Open:
    """A case open at its last event: "overdue now" (``count``) for every period of its
    cadre when ``as_of`` falls after ``deadline``."""

    deadline: date
    count: _Count


class CaseCounts(NamedTuple):
    """What one case's events count in the archive, whoever the cadre, whatever the
    period and ``as_of`` (at or after ``last_at``)."""

    last_at: datetime | None  # the latest business time; None: no events
    quarters: frozenset[tuple[int, int]]  # (year, quarter) of each event's business date
    counts: tuple[_Count, ...] = ()
    open: _Open | None = None


class _Case:
    """One case's events, their business dates, and the counts made of them."""

    def __init__(self, records: Sequence[ArchiveEvent], days: Sequence[date]) -> None:
        self.records, self.days = records, days
        self.counts: list[_Count] = []

    def entry(self, i: int) -> TimelineEntry:
        r = self.records[i]
        return TimelineEntry(
            event_id=r.event_id,
            case_id=r.stream_id,
            event_type=r.event.event_type,
            occurred_at=r.event.occurred_at,
        )

    def count(self, cadre: str, name: str, *indices: int, amount: int = 1) -> _Count:
        """A count of the events at ``indices``, in the period of the last of them."""
        day = self.days[indices[-1]]
        quarter = (day.month - 1) // 3 + 1
        entries = tuple(self.entry(i) for i in indices)
        return _Count(cadre, name, day.year, quarter, entries, amount)

    def add(self, cadre: str, name: str, *indices: int, amount: int = 1) -> None:
        self.counts.append(self.count(cadre, name, *indices, amount=amount))

    def event(self, i: int, cadre: str, after: CaseState, start: int | None) -> None:
        """What the ``i``-th event counts for (``cadre``: responsible before it;
        ``after``: the case once it happened; ``start``: where the case's cycle began)."""
        event = self.records[i].event
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
            score = _Count(cadre, _SATISFACTION_TOTAL, visit.year, visit.quarter, ())
            self.counts += (visit, score._replace(amount=event.score_percent))
        elif isinstance(event, AccountabilityRecorded):
            self.add(event.cadre_id, "accountability_actions", i)
            self.add(event.cadre_id, f"action_{event.action.value}", i)
        elif isinstance(event, ToleranceApplied):
            self.add(event.cadre_id, "exemptions", i)


def case_counts(records: Sequence[ArchiveEvent], policy: Policy = DEFAULT_POLICY) -> CaseCounts:
    """What one case counts: its events (one stream, in stream order)."""
    if not records:
        return CaseCounts(None, frozenset())
    moments = [r.event.occurred_at for r in records]
    days = policy.business_dates(moments)
    quarters = frozenset((d.year, (d.month - 1) // 3 + 1) for d in days)
    if any(isinstance(r.event, CaseWithdrawn) for r in records):
        return CaseCounts(max(moments), quarters)  # a withdrawn case leaves every figure
    case = _Case(records, days)
    state: CaseState | None = None
    start: int | None = None  # CaseOpened or the last CaseReopened
    deadline_source: tuple[int, ...] = ()  # the events behind the deadline in force
    for i, record in enumerate(records):
        event = record.event
        before = state.cadre_id if state is not None else None
        state = evolve(state, event)
        if isinstance(event, CaseOpened | CaseReopened):
            start, deadline_source = i, (i,)
        elif isinstance(event, DeadlineSet | DeadlineExtended):
            deadline_source = (i,)
        elif isinstance(event, CaseOverdue):
            deadline_source = (*deadline_source, i)
        case.event(i, before if before is not None else state.cadre_id, state, start)
    open_case = None
    if state is not None and state.status is CaseStatus.OPEN and state.deadline is not None:
        count = case.count(state.cadre_id, "overdue_now", *deadline_source)
        open_case = _Open(state.deadline, count)
    return CaseCounts(max(moments), quarters, tuple(case.counts), open_case)


def _average(total: int, count: int) -> str | None:
    if count == 0:
        return None
    return str((Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), ROUND_HALF_EVEN))


class _Period:
    """One cadre's figures for one period, summed from the counts in case order."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.ids: dict[str, dict[str, None]] = {}  # in the order first counted
        self.timeline: dict[str, TimelineEntry] = {}

    def add(self, count: _Count) -> None:
        self.values[count.name] = self.values.get(count.name, 0) + count.amount
        ids = self.ids.setdefault(count.name, {})
        for entry in count.timeline:
            ids[entry.event_id] = None
            self.timeline[entry.event_id] = entry

    def value(self, name: str) -> int:
        return self.values.get(name, 0)

    def figure(self, name: str) -> Figure:
        if name not in self.values:
            return _ZERO
        return Figure(value=self.values[name], event_ids=tuple(self.ids[name]))

    def archive(self, cadre_id: str, period: Period, as_of: datetime) -> CadreArchive:
        levels = {level: self.figure(name) for level, name in _LEVEL_FIGURES}
        top = max((int(level) for level, f in levels.items() if f.value), default=0)
        highest = Figure(value=top, event_ids=levels[str(top)].event_ids) if top else _ZERO
        timeline = sorted(
            self.timeline.values(), key=lambda e: (_instant(e.occurred_at), e.event_id)
        )
        return CadreArchive(
            cadre_id=cadre_id,
            period=period,
            as_of=as_of,
            cases_assigned=self.figure("cases_assigned"),
            cases_closed=self.figure("cases_closed"),
            closed_on_time=self.figure("closed_on_time"),
            closed_within_extension=self.figure("closed_within_extension"),
            overdue_now=self.figure("overdue_now"),
            highest_escalation_level=highest,
            escalations_by_level=levels,
            extensions_requested=self.figure("extensions_requested"),
            extensions_granted=self.figure("extensions_granted"),
            closures_sent_back=self.figure("closures_sent_back"),
            reopened_after_look_back=self.figure("reopened_after_look_back"),
            days_to_close=self.figure("days_to_close"),
            average_days_to_close=_average(
                self.value("days_to_close"), self.value("closed_cycles")
            ),
            satisfaction_visits=self.figure("satisfaction_visits"),
            average_satisfaction_percent=_average(
                self.value(_SATISFACTION_TOTAL), self.value("satisfaction_visits")
            ),
            accountability_actions=self.figure("accountability_actions"),
            accountability_by_action={a: self.figure(name) for a, name in _ACTION_FIGURES},
            exemptions=self.figure("exemptions"),
            timeline=tuple(timeline),
        )


def archives_of(
    cadre_id: str,
    cases: Iterable[CaseCounts],
    periods: Sequence[Period],
    as_of: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[CadreArchive, ...]:
    """One cadre's archive for each of ``periods``, from the counts of the cases that
    name the cadre, in stream id order; ``as_of`` must not be before any of their
    events (fold only the events up to ``as_of``: ``cadre_archives``)."""
    sums = [_Period() for _ in periods]
    today = policy.today(as_of)
    for case in cases:
        if case.last_at is not None and case.last_at > as_of:
            raise ValueError(f"a case has events after as_of {as_of.isoformat()}")
        for count in case.counts:
            if count.cadre_id == cadre_id:
                for period, s in zip(periods, sums, strict=True):
                    if count.in_period(period):
                        s.add(count)
        opened = case.open
        if opened is not None and opened.count.cadre_id == cadre_id and today > opened.deadline:
            for s in sums:
                s.add(opened.count)
    return tuple(
        s.archive(cadre_id, period, as_of) for s, period in zip(sums, periods, strict=True)
    )


def _live(records: Iterable[ArchiveEvent], as_of: datetime) -> list[ArchiveEvent]:
    return [r for r in records if r.event.occurred_at <= as_of]


def _cases(events: Iterable[ArchiveEvent], as_of: datetime, policy: Policy) -> list[CaseCounts]:
    streams: dict[str, list[ArchiveEvent]] = defaultdict(list)
    for record in events:
        streams[record.stream_id].append(record)
    return [case_counts(_live(streams[s], as_of), policy) for s in sorted(streams)]


def build_archive(
    events: Iterable[ArchiveEvent],
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
    events: Iterable[ArchiveEvent],
    cadre_id: str,
    period: Period,
    as_of: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> CadreArchive:
    """One cadre's archive; all figures zero when no event counts for them."""
    return archives_of(cadre_id, _cases(events, as_of, policy), (period,), as_of, policy)[0]


def cadre_archives(
    streams: Iterable[Sequence[ArchiveEvent]],
    cadre_id: str,
    periods: Sequence[Period],
    as_of: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[CadreArchive, ...]:
    """One cadre's archive for each of ``periods``, folding each stream once.

    ``streams`` are whole streams in stream order, given in stream id order;
    the result equals ``cadre_archive`` called once per period.
    """
    cases = [case_counts(_live(records, as_of), policy) for records in streams]
    return archives_of(cadre_id, cases, periods, as_of, policy)
