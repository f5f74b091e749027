"""The archive's documents written as JSON text, without building the models.

A projection stores each cadre's archive for each period as the JSON pydantic gives
for ``domain.archive.archives_of(...)``; a rebuild writes hundreds of thousands. This
writes the same text from the sums of the rebuild's facts (``archive_fold``): an
archive's JSON is cut once into a template of parts (``_template``), every part that
may vary a slot of its own holding the text of an archive nothing counted in, and a
document is a copy of the parts with the slots of what was counted filled in. The
property tests check it against ``model_dump_json`` of the domain's archives, to the
byte, for random histories and for ids JSON must escape.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from typing import NamedTuple

from pydantic import TypeAdapter

from domain.archive import CadreArchive, Figure, Period
from domain.policy import DEFAULT_POLICY, Policy
from domain.vocabulary import AccountabilityAction
from store.projections.archive_fold import (
    SATISFACTION_TOTAL,
    ArchiveCaseFacts,
    ArchiveCount,
    Timed,
    quoted,
)

__all__ = ["archive_documents"]

_LEVEL_FIGURES = tuple((str(level), f"level_{level}") for level in range(1, 5))
_ACTION_FIGURES = tuple((a.value, f"action_{a.value}") for a in AccountabilityAction)


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
# ``_Period``; ``_template`` cuts the JSON by it.
_CADRE, _PERIOD, _AS_OF, _TOP, _LEVELS, _ACTIONS, _TIMELINE = range(7)
_AVERAGE_DAYS = ("days_to_close", "closed_cycles")  # an average: (total, count) tallies
_AVERAGE_SATISFACTION = (SATISFACTION_TOTAL, "satisfaction_visits")
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
_ZERO_JSON = Figure().model_dump_json()
_moment_json = TypeAdapter(datetime).dump_json

# (a map's key in JSON with its colon, the tally of its figure)
_LEVEL_KEYS = tuple((f"{quoted(level)}:", name) for level, name in _LEVEL_FIGURES)
_ACTION_KEYS = tuple((f"{quoted(action)}:", name) for action, name in _ACTION_FIGURES)


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
        self.timeline: dict[str, Timed] = {}

    def add(self, count: ArchiveCount) -> None:
        tally = self.tallies.get(count.name)
        if tally is None:
            tally = self.tallies[count.name] = _Tally()
        tally.value += count.amount
        ids, timeline = tally.ids, self.timeline
        for timed in count.timeline:
            ids[timed[1]] = timed[3]
            timeline[timed[1]] = timed

    def value(self, name: str) -> int:
        tally = self.tallies.get(name)
        return 0 if tally is None else tally.value

    def top_level(self) -> int:
        """The highest escalation level a counted escalation reached (0: none)."""
        return max((int(level) for level, name in _LEVEL_FIGURES if self.value(name)), default=0)

    def sorted_timeline(self) -> list[Timed]:
        # Event ids are unique in a timeline, so the sort never compares two texts.
        return sorted(self.timeline.values())

    def figure_json(self, name: str, value: int | None = None) -> str:
        """The JSON of the figure of tally ``name`` (``value``: another value, same ids)."""
        tally = self.tallies.get(name)
        if tally is None:
            return _ZERO_JSON
        return _figure_text(tally.value if value is None else value, tally)

    def document(self, cadre_json: str, period: Period, as_of_json: str) -> str:
        """``archives_of(...)``'s archive's ``model_dump_json()`` for this period,
        written from the tallies, with each timeline entry's and event id's text made
        once (``cadre_json``, ``as_of_json``: the cadre's id and ``as_of`` in JSON)."""
        t = _TEMPLATE
        parts = list(t.parts)
        parts[t.cadre], parts[t.period], parts[t.as_of] = (
            cadre_json,
            _period_json(period),
            as_of_json,
        )
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
                parts[slot] = "null" if average is None else quoted(average)
        top = self.top_level()
        if top:
            parts[t.top] = self.figure_json(f"level_{top}", top)
        parts[t.timeline] = "[" + ",".join(timed[2] for timed in self.sorted_timeline()) + "]"
        return "".join(parts)


def _average(total: int, count: int) -> str | None:
    if count == 0:
        return None
    return str((Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), ROUND_HALF_EVEN))


_TEMPLATE = _template()


def archive_documents(
    cadre_id: str,
    cases: Iterable[ArchiveCaseFacts],
    periods: Sequence[Period],
    as_of: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> list[str]:
    """``[a.model_dump_json() for a in domain.archive.archives_of(...)]`` of the same
    cases, written from their facts without building the archives: one cadre's
    document for each of ``periods``, from the facts of the cases that name the cadre,
    in stream id order; ``as_of`` must not be before any of their events."""
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
    cadre_json, as_of_json = quoted(cadre_id), _moment_json(as_of).decode()
    return [s.document(cadre_json, p, as_of_json) for s, p in zip(sums, periods, strict=True)]
