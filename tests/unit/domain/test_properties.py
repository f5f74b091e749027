"""Properties over many generated histories (hypothesis)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.archive import (
    ArchiveEvent,
    CadreArchive,
    Period,
    archives_of,
    build_archive,
    case_counts,
)
from domain.case import CaseState, decide, evolve, fold
from domain.commands import (
    ApplyTolerance,
    AssignResponsibility,
    Command,
    DenyExtension,
    Escalate,
    GrantExtension,
    MarkMilestoneDue,
    MarkOverdue,
    MergeDuplicateFinding,
    RaiseWarning,
    RecordAccountability,
    RecordSatisfaction,
    RejectClosure,
    ReopenCase,
    ReportMilestone,
    ReportProgress,
    RequestClosure,
    RequestExtension,
    SendReminder,
    SetDeadline,
    SetTarget,
    SubmitPlan,
    TransferResponsibility,
    VerifyClosure,
    WithdrawCase,
)
from domain.errors import DomainError
from domain.events import (
    CaseWithdrawn,
    Event,
    event_from_json,
    event_from_json_text,
    occurred_at_from_json_text,
    occurred_at_from_text,
)
from domain.schedule import planned_steps
from domain.state import LOOSE_FIELDS, LOOSE_MILESTONE_FIELDS, LOOSE_TYPES
from domain.traffic_light import traffic_light
from domain.values import Milestone
from domain.vocabulary import AccountabilityAction, CaseKind, Source, TrafficLight, WarningReason
from store.projections.archive_fold import (
    TIME_ONLY,
    ArchiveEventRow,
    TimeOnly,
    case_facts,
    case_facts_and_state,
    withdrawn_case_facts,
)
from store.projections.archive_writer import archive_documents

from .builders import INSPECTOR, NOW, OTHER_UNIT, SUPERVISOR, SYSTEM, UNIT, open_case

_SEVERITY = {TrafficLight.GREEN: 0, TrafficLight.YELLOW: 1, TrafficLight.RED: 2}

actors = st.sampled_from([SUPERVISOR, UNIT, OTHER_UNIT, INSPECTOR, SYSTEM])
days = st.integers(min_value=1, max_value=400)


def _commands(draw: st.DrawFn) -> Command:
    actor = draw(actors)
    later = NOW.date() + timedelta(days=draw(days))
    options: list[Command] = [
        SubmitPlan(actor=actor, plan="方案"),
        ReportProgress(actor=actor, text="进展"),
        ReportMilestone(actor=actor, milestone_id="m1", text="节点"),
        RequestExtension(actor=actor, reason="r", proposed_deadline=later),
        GrantExtension(actor=actor),
        DenyExtension(actor=actor, reason="r"),
        RequestClosure(actor=actor, summary="s"),
        VerifyClosure(actor=actor),
        RejectClosure(actor=actor, reason="r"),
        RecordSatisfaction(actor=actor, score_percent=draw(st.integers(0, 100))),
        ReopenCase(actor=actor, reason="r"),
        WithdrawCase(actor=actor, reason="r"),
        AssignResponsibility(actor=actor, cadre_id=draw(st.sampled_from(["c1", "c2"])), reason="r"),
        TransferResponsibility(actor=actor, unit_id="unit-b", cadre_id="c3", reason="r"),
        SetDeadline(actor=actor, deadline=later, reason="r"),
        RecordAccountability(
            actor=actor,
            action=AccountabilityAction.REASSIGNMENT,
            reason="r",
            by_decision=draw(st.booleans()),
        ),
        ApplyTolerance(actor=actor, reason="r", by_decision=draw(st.booleans())),
        SendReminder(actor=actor, working_days_before=draw(st.sampled_from([1, 3, 5]))),
        RaiseWarning(actor=actor),
        RaiseWarning(actor=actor, reason=WarningReason.BEHIND_MILESTONE, milestone_id="m1"),
        MarkOverdue(actor=actor),
        Escalate(actor=actor, level=draw(st.integers(1, 4))),
        MarkMilestoneDue(actor=actor, milestone_id="m1"),
        SetTarget(actor=actor, target="目标"),
        MergeDuplicateFinding(
            actor=actor,
            finding_id=draw(st.sampled_from(["F-2", "F-3"])),
            source=draw(st.sampled_from(list(Source))),
            title="重复",
        ),
    ]
    return draw(st.sampled_from(options))


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[int, Command]]:
    steps = draw(st.integers(min_value=0, max_value=25))
    return [(draw(st.integers(0, 20)), _commands(draw)) for _ in range(steps)]


@st.composite
def opening(draw: st.DrawFn) -> Command:
    kind = draw(st.sampled_from(list(CaseKind)))
    if kind is CaseKind.LONG_TERM:
        deadline = NOW.date() + timedelta(days=draw(st.integers(30, 400)))
        due = NOW.date() + timedelta(days=draw(st.integers(1, 29)))
        return open_case(
            kind=kind,
            deadline=deadline,
            milestones=(Milestone(milestone_id="m1", title="节点", due=due),),
        )
    explicit = draw(st.one_of(st.none(), days.map(lambda d: NOW.date() + timedelta(days=d))))
    return open_case(kind=kind, deadline=explicit)


def by_time(records: list[ArchiveEventRow], types: frozenset[str]) -> list[ArchiveEventRow]:
    """``records`` with the events of ``types`` as a reader gives them that reads only
    their business time."""
    return [
        r._replace(event=TimeOnly(r.event.event_type, r.event.occurred_at))
        if r.event.event_type in types
        else r
        for r in records
    ]


def _firm(state: CaseState) -> dict[str, object]:
    """The state but for the loose fields (what a fold by time alone leaves behind)."""
    values = state.model_dump(exclude=set(LOOSE_FIELDS))
    values["milestones"] = [
        {k: v for k, v in m.items() if k not in LOOSE_MILESTONE_FIELDS}
        for m in values["milestones"]
    ]
    return values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(opening(), histories())
def test_the_fold_and_the_archive_of_decide_outputs_never_raise(
    open_cmd: Command, steps: list[tuple[int, Command]]
) -> None:
    now = NOW
    events: list[Event] = list(decide(None, open_cmd, now))
    state = fold(events)
    refusals: list[DomainError] = []
    for gap, command in steps:
        now += timedelta(days=gap)
        try:
            new = decide(state, command, now)
        except DomainError as refused:
            refusals.append(refused)
            continue
        for event in new:
            state = evolve(state, event)
            # evolve's cheap copy builds the state validation would build
            assert CaseState.model_validate(state.model_dump()) == state
            data = event.model_dump(mode="json")
            assert event_from_json(event.event_type, event.schema_version, data) == event
            text = json.dumps(data, ensure_ascii=False)
            assert event_from_json_text(event.event_type, event.schema_version, text) == event
            moment = occurred_at_from_json_text(event.event_type, event.schema_version, text)
            assert moment == event.occurred_at
            assert moment.utcoffset() == event.occurred_at.utcoffset()
            # the field's text alone, as the database's data->>'occurred_at' gives it
            stamp = data["occurred_at"]
            alone = occurred_at_from_text(event.event_type, event.schema_version, stamp)
            assert alone == moment
            assert alone.utcoffset() == moment.utcoffset()
            assert type(alone.tzinfo) is type(moment.tzinfo)
        events.extend(new)
    # the fold writes into a state of its own (evolve_owned): what evolve gives, step by
    # step, to the values and the fields set
    folded = fold(events)
    assert folded == state
    assert folded is not None
    assert state is not None
    assert folded.model_fields_set == state.model_fields_set
    domain_records = [
        # ids that JSON must escape (a quote, a backslash, Chinese) as well as plain ones:
        # the documents write the timeline's ids themselves
        ArchiveEvent(event_id=str(i) if i % 2 else f'{i}"\\号', stream_id='F-1"案\\', event=e)
        for i, e in enumerate(events)
    ]
    counts = case_counts(domain_records)  # the domain's fold: what each figure counts
    records = [ArchiveEventRow(*r) for r in domain_records]  # the rebuild's fast fold
    facts = case_facts(records)
    # what the rebuild's reader computes, reading events of TIME_ONLY types for their
    # business time alone
    timed = by_time(records, TIME_ONLY)
    assert case_facts(timed) == facts
    # what a one-pass build computes for every read model: the same facts, and the state
    # of the whole fold, from one fold
    assert case_facts_and_state(records) == (facts, state)
    # ... and with the events of the loose types read for their time alone: the same
    # facts, and the state but for the loose fields
    loose = by_time(records, LOOSE_TYPES)
    loose_facts, partial = case_facts_and_state(loose)
    assert loose_facts == facts
    assert partial is not None
    assert _firm(partial) == _firm(state)
    if any(r.event.event_type in TIME_ONLY - LOOSE_TYPES for r in records):
        with pytest.raises(TypeError, match="fold it whole"):
            case_facts_and_state(timed)
    if any(isinstance(e, CaseWithdrawn) for e in events):
        # what a reader that skips a withdrawn case's other fields computes instead
        assert withdrawn_case_facts([e.occurred_at for e in events]) == facts
        assert facts.counts == ()
        assert facts.open is None
        assert counts.counts == ()
        assert counts.open is None
    assert (counts.last_at, counts.quarters) == (facts.last_at, facts.quarters)
    for archive in build_archive(domain_records, Period(year=NOW.year), now):
        # the archive survives a round trip through its JSON
        again = CadreArchive.model_validate_json(archive.model_dump_json())
        assert again == archive
        assert again.model_dump_json() == archive.model_dump_json()
    # the documents a projection stores, written by the fast fold without building the
    # archives, are the domain's archives' JSON to the byte, for every cadre the case
    # names and each of its periods
    periods = sorted(
        {p for y, q in facts.quarters for p in (Period(year=y), Period(year=y, quarter=q))},
        key=lambda p: (p.year, p.quarter or 0),
    )
    cadres = {c.cadre_id for c in facts.counts} | {
        e.cadre_id for e in events if hasattr(e, "cadre_id")
    }
    for cadre in sorted(cadres):
        documents = archive_documents(cadre, [facts], periods, now)
        assert documents == [
            a.model_dump_json() for a in archives_of(cadre, [counts], periods, now)
        ]
    assert all(r.code and r.message_zh and r.message_en for r in refusals)
    assert state is not None
    assert state.version == len(events)


@settings(max_examples=150, deadline=None)
@given(opening(), st.integers(0, 500), st.integers(0, 500))
def test_the_traffic_light_never_improves_with_time_alone(
    open_cmd: Command, first: int, second: int
) -> None:
    state = fold(decide(None, open_cmd, NOW))
    earlier, later = sorted((first, second))
    a = traffic_light(state, NOW + timedelta(days=earlier))
    b = traffic_light(state, NOW + timedelta(days=later))
    assert _SEVERITY[a] <= _SEVERITY[b]


@settings(max_examples=60, deadline=None)
@given(opening())
def test_every_planned_step_is_accepted_on_its_date(open_cmd: Command) -> None:
    events = decide(None, open_cmd, NOW)
    state = fold(events)
    now: datetime = NOW
    for _ in range(40):
        steps = planned_steps(state)
        if not steps:
            break
        step = steps[0]
        now = max(now, datetime.combine(step.due, now.timetz()).replace(hour=0, minute=0))
        for event in decide(state, step.command, now):
            state = evolve(state, event)
    assert state is not None
    assert planned_steps(state) == ()
    assert state.escalation_level == 4
