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

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

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
from domain.vocabulary import AccountabilityAction, CaseStatus

__all__ = [
    "TIME_ONLY",
    "CadreArchive",
    "CaseFacts",
    "Figure",
    "Period",
    "RecordedEvent",
    "TimeOnly",
    "TimelineEntry",
    "archive_documents",
    "archives_of",
    "build_archive",
    "cadre_archive",
    "cadre_archives",
    "case_facts",
    "case_facts_and_state",
    "withdrawn_case_facts",
]

_Frozen = ConfigDict(frozen=True)


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


class RecordedEvent(NamedTuple):
    """An event as read back from the store: its id and its stream (the case). A named
    tuple, not a frozen dataclass: a fold reads one per event, and a frozen dataclass
    takes several times as long to make."""

    event_id: str
    stream_id: str
    event: Event | TimeOnly


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


_ENTRY_FIELDS = frozenset(TimelineEntry.model_fields)
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


# A timeline entry with its sort key and its texts in an archive's JSON: (instant of
# occurred_at, event id, entry, the entry's JSON, the event id's JSON). One per event
# counted, shared by every period and figure that counts it, so each text is made once.
_Timed = tuple[int, str, TimelineEntry, str, str]
_json_string = TypeAdapter(str).dump_json
_PLAIN = re.compile(r"[\w .:+/-]*", re.ASCII)  # characters JSON writes as they are


def _quoted(text: str) -> str:
    """``text`` as pydantic writes a string in JSON."""
    if _PLAIN.fullmatch(text):
        return f'"{text}"'
    return _json_string(text).decode()


_SATISFACTION_TOTAL = "satisfaction_total"  # summed like a figure, shown only as the average


class _Count(NamedTuple):
    """``amount`` into the figure ``name`` of ``cadre_id``, in the periods holding the
    business date (``year``, ``quarter``) of the event counted."""

    cadre_id: str
    name: str
    year: int
    quarter: int
    timeline: tuple[_Timed, ...]  # the events counted (their ids: ``_Timed[1]``)
    amount: int = 1

    def in_period(self, period: Period) -> bool:
        return period.year == self.year and period.quarter in (None, self.quarter)


@dataclass(frozen=True, slots=True)
class _Open:
    """A case open at its last event: "overdue now" (``count``) for every period of its
    cadre when ``as_of`` falls after ``deadline``."""

    deadline: date
    count: _Count


class CaseFacts(NamedTuple):
    """What one case's events give the archive, whoever the cadre, whatever the period
    and ``as_of`` (at or after ``last_at``): each case is folded once, and a cadre's
    archives are summed from the facts of the cases that name them."""

    last_at: datetime | None  # the latest business time; None: no events
    quarters: frozenset[tuple[int, int]]  # (year, quarter) of each event's business date
    counts: tuple[_Count, ...] = ()
    open: _Open | None = None


_NO_FACTS = CaseFacts(None, frozenset())
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
        records: Sequence[RecordedEvent],
        days: Sequence[date],
        periods: Sequence[tuple[int, int]],
    ) -> None:
        self.records, self.days, self.periods = records, days, periods
        self.entries: dict[int, _Timed] = {}
        self.counts: list[_Count] = []

    def entry(self, i: int) -> _Timed:
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
            timed = (_instant(moment), r.event_id, entry, text, _quoted(r.event_id))
            self.entries[i] = timed
        return timed

    def count(self, cadre: str, name: str, *indices: int, amount: int = 1) -> _Count:
        """A count of the events at ``indices``, in the period of the last of them."""
        year, quarter = self.periods[indices[-1]]
        if len(indices) == 1:  # most counts: one event
            return _Count(cadre, name, year, quarter, (self.entry(indices[0]),), amount)
        entries = tuple(self.entry(i) for i in indices)
        return _Count(cadre, name, year, quarter, entries, amount)

    def add(self, cadre: str, name: str, *indices: int, amount: int = 1) -> None:
        self.counts.append(self.count(cadre, name, *indices, amount=amount))

    def one(self, cadre: str, name: str, i: int) -> None:
        """``add(cadre, name, i)``: most counts are of one event, by one."""
        year, quarter = self.periods[i]
        self.counts.append(_Count(cadre, name, year, quarter, (self.entry(i),)))

    def event(self, i: int, cadre: str | None, after: CaseState, start: int | None) -> None:
        """The counts of the ``i``-th event (``cadre``: the case's cadre before it, None
        before the finding; ``start``: where the case's cycle began)."""
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
            score = _Count(cadre, _SATISFACTION_TOTAL, visit.year, visit.quarter, ())
            self.counts += (visit, score._replace(amount=event.score_percent))
        elif isinstance(event, AccountabilityRecorded):
            self.one(event.cadre_id, "accountability_actions", i)
            self.one(event.cadre_id, f"action_{event.action.value}", i)
        elif isinstance(event, ToleranceApplied):
            self.one(event.cadre_id, "exemptions", i)


def case_facts(records: Sequence[RecordedEvent], policy: Policy = DEFAULT_POLICY) -> CaseFacts:
    """The facts of one case: its events (one stream, in stream order)."""
    return _walked(records, policy, with_state=False)[0]


def case_facts_and_state(
    records: Sequence[RecordedEvent], policy: Policy = DEFAULT_POLICY
) -> tuple[CaseFacts, CaseState | None]:
    """``case_facts`` and the case's state after its events (``domain.state.fold``), from
    one fold: for a reader that builds the other read models in the same pass. An event
    of a type in ``LOOSE_TYPES`` may be a ``TimeOnly``: the state is then exact but for
    the loose fields (``domain.state.LOOSE_FIELDS``); a ``TimeOnly`` of any other type
    is a TypeError."""
    return _walked(records, policy, with_state=True)


def _state_of(records: Sequence[RecordedEvent]) -> CaseState | None:
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
    records: Sequence[RecordedEvent], policy: Policy, *, with_state: bool
) -> tuple[CaseFacts, CaseState | None]:
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
    facts = CaseFacts(last_at, frozenset(periods), tuple(walk.counts), open_case)
    return facts, state


def withdrawn_case_facts(moments: Sequence[datetime], policy: Policy = DEFAULT_POLICY) -> CaseFacts:
    """The facts of a withdrawn case, from the business times (``occurred_at``) of its
    events in stream order: a withdrawn case leaves every figure, so all it gives the
    archive is when its events happened (the periods they fall in, the latest of them).
    ``case_facts`` of a case with a ``CaseWithdrawn`` is this of its events' times, so a
    reader that knows a case is withdrawn need not load its events' other fields."""
    if not moments:
        return _NO_FACTS
    days = policy.business_dates(moments)
    quarters = frozenset({(d.year, (d.month - 1) // 3 + 1) for d in days})
    return CaseFacts(max(moments), quarters)


def _figure(value: int, event_ids: tuple[str, ...]) -> Figure:
    """The fold's own sum of the log's ids: an archive has a figure for each tally."""
    return constructed(Figure, {"value": value, "event_ids": event_ids}, {"value", "event_ids"})


class _Tally:
    __slots__ = ("ids", "value")

    def __init__(self) -> None:
        self.value = 0
        # event id -> its JSON text, in the order first counted
        self.ids: dict[str, str] = {}


def _figure_text(value: int, tally: _Tally) -> str:
    """The JSON of a figure: ``value`` and the tally's event ids."""
    return f'{{"value":{value},"event_ids":[{",".join(tally.ids.values())}]}}'


# Where each field of an archive comes from, in the model's order: a figure shown as it
# is summed (the tally's name), or one of the values below, derived from the tallies by
# ``_Period``. ``archive`` builds the model from this, ``document`` writes its JSON.
_CADRE, _PERIOD, _AS_OF, _TOP, _LEVELS, _ACTIONS, _TIMELINE = range(7)
_AVERAGE_DAYS = ("days_to_close", "closed_cycles")  # an average: (total, count) tallies
_AVERAGE_SATISFACTION = (_SATISFACTION_TOTAL, "satisfaction_visits")
_Source = str | int | tuple[str, str]
_LAYOUT: tuple[tuple[str, _Source], ...] = (
    ("cadre_id", _CADRE),
    ("period", _PERIOD),
    ("as_of", _AS_OF),
    ("cases_assigned", "cases_assigned"),
    ("cases_closed", "cases_closed"),
    ("closed_on_time", "closed_on_time"),
    ("closed_within_extension", "closed_within_extension"),
    ("overdue_now", "overdue_now"),
    ("highest_escalation_level", _TOP),
    ("escalations_by_level", _LEVELS),
    ("extensions_requested", "extensions_requested"),
    ("extensions_granted", "extensions_granted"),
    ("closures_sent_back", "closures_sent_back"),
    ("reopened_after_look_back", "reopened_after_look_back"),
    ("days_to_close", "days_to_close"),
    ("average_days_to_close", _AVERAGE_DAYS),
    ("satisfaction_visits", "satisfaction_visits"),
    ("average_satisfaction_percent", _AVERAGE_SATISFACTION),
    ("accountability_actions", "accountability_actions"),
    ("accountability_by_action", _ACTIONS),
    ("exemptions", "exemptions"),
    ("timeline", _TIMELINE),
)
if tuple(field for field, _ in _LAYOUT) != tuple(CadreArchive.model_fields):
    raise AssertionError("_LAYOUT must list CadreArchive's fields in order")
_ZERO_JSON = _ZERO.model_dump_json()
_entry_json = TimelineEntry.__pydantic_serializer__.to_json
_moment_json = TypeAdapter(datetime).dump_json

# (a map's key in JSON with its colon, the tally of its figure)
_LEVEL_KEYS = tuple((f"{_quoted(level)}:", name) for level, name in _LEVEL_FIGURES)
_ACTION_KEYS = tuple((f"{_quoted(action)}:", name) for action, name in _ACTION_FIGURES)


class _Template(NamedTuple):
    """An archive's JSON cut into parts (``_template``): every part that may vary is
    a slot of its own, holding the text of an archive nothing counted in. A document is
    a copy of the parts with the slots of what was counted filled in, joined."""

    parts: tuple[str, ...]
    figures: dict[str, int]  # tally -> the slot of its figure
    averages: tuple[tuple[int, str, str], ...]  # (slot, total tally, count tally)
    cadre: int
    period: int
    as_of: int
    top: int
    timeline: int


def _template() -> _Template:
    parts: list[str] = []
    figures: dict[str, int] = {}
    averages: list[tuple[int, str, str]] = []
    slots: dict[int, int] = {}

    def slot(text: str) -> int:
        parts.append(text)
        return len(parts) - 1

    def figure_map(keys: tuple[tuple[str, str], ...]) -> None:
        for n, (key, name) in enumerate(keys):
            parts.append(("{" if n == 0 else ",") + key)
            figures[name] = slot(_ZERO_JSON)
        parts.append("}")

    for n, (field, source) in enumerate(_LAYOUT):
        parts.append(("{" if n == 0 else ",") + f'"{field}":')
        if isinstance(source, str):
            figures[source] = slot(_ZERO_JSON)
        elif isinstance(source, tuple):
            averages.append((slot("null"), *source))
        elif source == _LEVELS:
            figure_map(_LEVEL_KEYS)
        elif source == _ACTIONS:
            figure_map(_ACTION_KEYS)
        else:
            slots[source] = slot({_TOP: _ZERO_JSON, _TIMELINE: "[]"}.get(source, ""))
    parts.append("}")
    return _Template(
        tuple(parts),
        figures,
        tuple(averages),
        slots[_CADRE],
        slots[_PERIOD],
        slots[_AS_OF],
        slots[_TOP],
        slots[_TIMELINE],
    )


@cache
def _period_json(period: Period) -> str:
    return period.model_dump_json()


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
        ids, timeline = tally.ids, self.timeline
        for timed in count.timeline:
            ids[timed[1]] = timed[4]
            timeline[timed[1]] = timed

    def value(self, name: str) -> int:
        tally = self.tallies.get(name)
        return 0 if tally is None else tally.value

    def top_level(self) -> int:
        """The highest escalation level a counted escalation reached (0: none)."""
        return max((int(level) for level, name in _LEVEL_FIGURES if self.value(name)), default=0)

    def sorted_timeline(self) -> list[_Timed]:
        # Event ids are unique in a timeline, so the sort never compares two entries.
        return sorted(self.timeline.values())

    def archive(self, cadre_id: str, period: Period, as_of: datetime) -> CadreArchive:
        # The fold's own sums of the log's ids: built without validating them again.
        figures = {
            name: _figure(tally.value, tuple(tally.ids)) for name, tally in self.tallies.items()
        }
        fig = figures.get
        fields: dict[str, object] = {}
        for field, source in _LAYOUT:
            if isinstance(source, str):
                fields[field] = fig(source, _ZERO)
            elif isinstance(source, tuple):
                fields[field] = _average(self.value(source[0]), self.value(source[1]))
            elif source == _CADRE:
                fields[field] = cadre_id
            elif source == _PERIOD:
                fields[field] = period
            elif source == _AS_OF:
                fields[field] = as_of
            elif source == _TOP:
                top = self.top_level()
                level = fig(f"level_{top}", _ZERO)
                fields[field] = _figure(top, level.event_ids) if top else _ZERO
            elif source == _LEVELS:
                fields[field] = {level: fig(name, _ZERO) for level, name in _LEVEL_FIGURES}
            elif source == _ACTIONS:
                fields[field] = {action: fig(name, _ZERO) for action, name in _ACTION_FIGURES}
            else:
                fields[field] = tuple(timed[2] for timed in self.sorted_timeline())
        return constructed(CadreArchive, fields, set(fields))

    def figure_json(self, name: str, value: int | None = None) -> str:
        """The JSON of the figure of tally ``name`` (``value``: another value, same ids)."""
        tally = self.tallies.get(name)
        if tally is None:
            return _ZERO_JSON
        return _figure_text(tally.value if value is None else value, tally)

    def document(self, cadre_json: str, period: Period, as_of_json: str) -> str:
        """``self.archive(...).model_dump_json()`` written from the same tallies and
        derived values, with each timeline entry's and event id's text made once
        (``cadre_json``, ``as_of_json``: the cadre's id and ``as_of`` in JSON)."""
        return self.write(cadre_json, _period_json(period), as_of_json)

    def write(self, cadre_json: str, period_json: str, as_of_json: str) -> str:
        t = _TEMPLATE
        parts = list(t.parts)
        parts[t.cadre], parts[t.period], parts[t.as_of] = cadre_json, period_json, as_of_json
        tallies = self.tallies
        if not tallies:  # nothing counted (a third of a build's documents)
            return "".join(parts)
        slots = t.figures
        for name, tally in tallies.items():
            slot = slots.get(name)
            if slot is not None:
                parts[slot] = (
                    f'{{"value":{tally.value},"event_ids":[{",".join(tally.ids.values())}]}}'
                )
        for slot, total, count in t.averages:
            if count in tallies:
                average = _average(self.value(total), self.value(count))
                parts[slot] = "null" if average is None else _quoted(average)
        top = self.top_level()
        if top:
            parts[t.top] = self.figure_json(f"level_{top}", top)
        parts[t.timeline] = "[" + ",".join(timed[3] for timed in self.sorted_timeline()) + "]"
        return "".join(parts)


def _average(total: int, count: int) -> str | None:
    if count == 0:
        return None
    return str((Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), ROUND_HALF_EVEN))


_TEMPLATE = _template()


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
    sums = _sums(cadre_id, cases, periods, as_of, policy)
    return tuple(
        s.archive(cadre_id, period, as_of) for s, period in zip(sums, periods, strict=True)
    )


def archive_documents(
    cadre_id: str,
    cases: Iterable[CaseFacts],
    periods: Sequence[Period],
    as_of: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> list[str]:
    """``[a.model_dump_json() for a in archives_of(...)]``, written without building the
    archives (what a projection stores; a build writes hundreds of thousands)."""
    sums = _sums(cadre_id, cases, periods, as_of, policy)
    cadre_json, as_of_json = _quoted(cadre_id), _moment_json(as_of).decode()
    return [s.document(cadre_json, p, as_of_json) for s, p in zip(sums, periods, strict=True)]


def _sums(
    cadre_id: str,
    cases: Iterable[CaseFacts],
    periods: Sequence[Period],
    as_of: datetime,
    policy: Policy,
) -> list[_Period]:
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
    return sums


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
