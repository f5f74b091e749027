"""A case as the read models see it: the domain fold of its stream, and its light.

The light is the domain's ``traffic_light`` as of the case's last event, so it
is a function of the log alone. It stays fresh because the workflow appends an
event at each moment the light changes (a warning near the deadline, overdue
the day after it, closure, reopening).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.events import Event, FindingRecorded
from domain.policy import DEFAULT_POLICY, Policy
from domain.state import CaseState, fold
from domain.traffic_light import traffic_light
from domain.vocabulary import TrafficLight
from store.projections.archive_fold import ArchiveEventRow, TimeOnly

__all__ = ["CaseFacts", "case_facts", "facts_of"]


@dataclass(frozen=True, slots=True)
class CaseFacts:
    stream_id: str
    state: CaseState
    finding: FindingRecorded
    light: TrafficLight


def _whole(event: Event | TimeOnly) -> Event:
    if isinstance(event, TimeOnly):  # only the archive's reader makes these
        raise TypeError(f"the case summary needs the whole event, not the time of {event}")
    return event


def case_facts(
    records: Sequence[ArchiveEventRow], policy: Policy = DEFAULT_POLICY
) -> CaseFacts | None:
    if not records:
        return None
    state = fold(_whole(r.event) for r in records)
    return facts_of(records[0].stream_id, state, records[0].event, policy)


def facts_of(
    stream_id: str,
    state: CaseState | None,
    first: Event | TimeOnly,
    policy: Policy = DEFAULT_POLICY,
) -> CaseFacts | None:
    """The facts of a case whose stream starts with ``first`` and folds to ``state``
    (None: not a case)."""
    if state is None or not isinstance(first, FindingRecorded):
        return None
    at = state.last_event_at or state.recorded_at
    return CaseFacts(stream_id, state, first, traffic_light(state, at, policy))
