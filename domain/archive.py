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
fed the same events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

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
    "Figure",
    "Period",
    "RecordedEvent",
    "TimelineEntry",
    "build_archive",
    "cadre_archive",
    "cadre_archives",
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


_ZERO = Figure()  # frozen, so one instance serves every figure nothing counted for


@dataclass
class _Tally:
    ids: list[str] = field(default_factory=list)
    value: int = 0

    def add(self, *event_ids: str, amount: int = 1) -> None:
        self.value += amount
        for event_id in event_ids:
            if event_id not in self.ids:
                self.ids.append(event_id)

    def figure(self) -> Figure:
        return Figure(value=self.value, event_ids=tuple(self.ids))


@dataclass
class _Cadre:
    tallies: defaultdict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    satisfaction_total: int = 0
    timeline: dict[str, TimelineEntry] = field(default_factory=dict)


def _average(total: int, count: int) -> str | None:
    if count == 0:
        return None
    return str((Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), ROUND_HALF_EVEN))


class _Fold:
    def __init__(self, period: Period, as_of: datetime, policy: Policy) -> None:
        self.period, self.as_of, self.policy = period, as_of, policy
        self.cadres: defaultdict[str, _Cadre] = defaultdict(_Cadre)

    def count(self, cadre: str, name: str, *records: RecordedEvent, amount: int = 1) -> None:
        entry = self.cadres[cadre]
        entry.tallies[name].add(*(r.event_id for r in records), amount=amount)
        for r in records:
            entry.timeline[r.event_id] = TimelineEntry(
                event_id=r.event_id,
                case_id=r.stream_id,
                event_type=r.event.event_type,
                occurred_at=r.event.occurred_at,
            )

    def stream(self, records: Sequence[RecordedEvent]) -> None:
        _walk((self,), records)

    def in_period(
        self,
        record: RecordedEvent,
        before: CaseState | None,
        after: CaseState,
        cycle_start: RecordedEvent | None,
    ) -> None:
        event = record.event
        cadre = before.cadre_id if before is not None else after.cadre_id
        if isinstance(event, CaseOpened | ResponsibilityAssigned | ResponsibilityTransferred):
            self.count(after.cadre_id, "cases_assigned", record)
        elif isinstance(event, CaseClosed):
            self.count(cadre, "cases_closed", record)
            closed_on = self.policy.today(event.occurred_at)
            if closed_on <= event.original_deadline:
                self.count(cadre, "closed_on_time", record)
            elif closed_on <= event.deadline and after.extensions_granted > 0:
                self.count(cadre, "closed_within_extension", record)
            if cycle_start is not None:
                days = (closed_on - self.policy.today(cycle_start.event.occurred_at)).days
                self.count(cadre, "days_to_close", cycle_start, record, amount=days)
                self.count(cadre, "closed_cycles", record)
        elif isinstance(event, CaseEscalated):
            self.count(cadre, f"level_{int(event.level)}", record)
        elif isinstance(event, ExtensionRequested):
            self.count(cadre, "extensions_requested", record)
        elif isinstance(event, ExtensionGranted):
            self.count(cadre, "extensions_granted", record)
        elif isinstance(event, ClosureRejected):
            self.count(cadre, "closures_sent_back", record)
        elif isinstance(event, CaseReopened):
            self.count(cadre, "reopened_after_look_back", record)
        elif isinstance(event, SatisfactionRecorded):
            self.count(cadre, "satisfaction_visits", record)
            self.cadres[cadre].satisfaction_total += event.score_percent
        elif isinstance(event, AccountabilityRecorded):
            self.count(event.cadre_id, "accountability_actions", record)
            self.count(event.cadre_id, f"action_{event.action.value}", record)
        elif isinstance(event, ToleranceApplied):
            self.count(event.cadre_id, "exemptions", record)

    def archive(self, cadre_id: str) -> CadreArchive:
        entry = self.cadres[cadre_id]
        t = entry.tallies

        def fig(name: str) -> Figure:
            return t[name].figure() if name in t else _ZERO

        levels = {str(level): fig(f"level_{level}") for level in range(1, 5)}
        top = max((int(k) for k, f in levels.items() if f.value), default=0)
        closed_cycles = fig("closed_cycles").value
        visits = fig("satisfaction_visits").value
        return CadreArchive(
            cadre_id=cadre_id,
            period=self.period,
            as_of=self.as_of,
            cases_assigned=fig("cases_assigned"),
            cases_closed=fig("cases_closed"),
            closed_on_time=fig("closed_on_time"),
            closed_within_extension=fig("closed_within_extension"),
            overdue_now=fig("overdue_now"),
            highest_escalation_level=Figure(
                value=top, event_ids=levels[str(top)].event_ids if top else ()
            ),
            escalations_by_level=levels,
            extensions_requested=fig("extensions_requested"),
            extensions_granted=fig("extensions_granted"),
            closures_sent_back=fig("closures_sent_back"),
            reopened_after_look_back=fig("reopened_after_look_back"),
            days_to_close=fig("days_to_close"),
            average_days_to_close=_average(fig("days_to_close").value, closed_cycles),
            satisfaction_visits=fig("satisfaction_visits"),
            average_satisfaction_percent=_average(entry.satisfaction_total, visits),
            accountability_actions=fig("accountability_actions"),
            accountability_by_action={
                action.value: fig(f"action_{action.value}") for action in AccountabilityAction
            },
            exemptions=fig("exemptions"),
            timeline=tuple(
                sorted(entry.timeline.values(), key=lambda e: (e.occurred_at, e.event_id))
            ),
        )


def _walk(folds: Sequence[_Fold], records: Sequence[RecordedEvent]) -> None:
    """Fold one stream once, feeding every period's tallies (all share as_of and policy)."""
    as_of, policy = folds[0].as_of, folds[0].policy
    live = [r for r in records if r.event.occurred_at <= as_of]
    if any(isinstance(r.event, CaseWithdrawn) for r in live):
        return
    state: CaseState | None = None
    cycle_start: RecordedEvent | None = None  # CaseOpened or the last CaseReopened
    deadline_source: list[RecordedEvent] = []  # what set the deadline in force
    for record in live:
        before = state
        state = evolve(state, record.event)
        event = record.event
        if isinstance(event, CaseOpened | CaseReopened):
            cycle_start, deadline_source = record, [record]
        elif isinstance(event, DeadlineSet | DeadlineExtended):
            deadline_source = [record]
        elif isinstance(event, CaseOverdue):
            deadline_source = [*deadline_source, record]
        day = policy.today(event.occurred_at)
        for fold in folds:
            if fold.period.contains(day):
                fold.in_period(record, before, state, cycle_start)
    if (
        state is not None
        and state.status is CaseStatus.OPEN
        and state.deadline is not None
        and policy.today(as_of) > state.deadline
    ):
        for fold in folds:
            fold.count(state.cadre_id, "overdue_now", *deadline_source)


def _folded(
    events: Iterable[RecordedEvent], period: Period, as_of: datetime, policy: Policy
) -> _Fold:
    streams: dict[str, list[RecordedEvent]] = defaultdict(list)
    for record in events:
        streams[record.stream_id].append(record)
    fold = _Fold(period, as_of, policy)
    for stream_id in sorted(streams):
        fold.stream(streams[stream_id])
    return fold


def build_archive(
    events: Iterable[RecordedEvent],
    period: Period,
    as_of: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[CadreArchive, ...]:
    """Every cadre's archive for ``period``, as the log stood at ``as_of``, by cadre id.

    ``events`` must keep each stream's order (stream version); streams may interleave.
    """
    fold = _folded(events, period, as_of, policy)
    return tuple(fold.archive(cadre_id) for cadre_id in sorted(fold.cadres))


def cadre_archive(
    events: Iterable[RecordedEvent],
    cadre_id: str,
    period: Period,
    as_of: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> CadreArchive:
    """One cadre's archive; all figures zero when no event counts for them."""
    return _folded(events, period, as_of, policy).archive(cadre_id)


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
    if not periods:
        return ()
    folds = tuple(_Fold(period, as_of, policy) for period in periods)
    for records in streams:
        _walk(folds, records)
    return tuple(fold.archive(cadre_id) for fold in folds)
