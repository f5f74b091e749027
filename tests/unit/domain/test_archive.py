"""The performance archive (政绩档案), folded from events."""

from __future__ import annotations

import random
from datetime import date

from domain.archive import (
    ArchiveEvent,
    CadreArchive,
    Period,
    archives_of,
    build_archive,
    case_counts,
)
from domain.commands import (
    ApplyTolerance,
    AssignResponsibility,
    Escalate,
    GrantExtension,
    MarkOverdue,
    RecordAccountability,
    RecordSatisfaction,
    RejectClosure,
    ReopenCase,
    RequestClosure,
    RequestExtension,
    VerifyClosure,
    WithdrawCase,
)
from domain.vocabulary import AccountabilityAction
from store.projections.archive_fold import ArchiveEventRow, case_facts
from store.projections.archive_writer import archive_documents

from .builders import SUPERVISOR, SYSTEM, UNIT, History, at, opened, pending_closure, with_plan

YEAR = Period(year=2025)
AS_OF = at(2025, 12, 31, 20)


def _records(case_id: str, history: History) -> list[ArchiveEvent]:
    return [
        ArchiveEvent(event_id=f"{case_id}/{i}", stream_id=case_id, event=event)
        for i, event in enumerate(history.events, start=1)
    ]


def _archive(*cases: tuple[str, History], period: Period = YEAR) -> dict[str, CadreArchive]:
    records = [r for case_id, history in cases for r in _records(case_id, history)]
    return {a.cadre_id: a for a in build_archive(records, period, AS_OF)}


def _closed_on(history: History, day: date) -> History:
    pending_closure(history, at(day.year, day.month, day.day))
    history.do(VerifyClosure(actor=SUPERVISOR), at(day.year, day.month, day.day))
    return history


def test_a_case_closed_by_its_original_deadline_counts_as_on_time() -> None:
    archive = _archive(("A", _closed_on(opened(finding_id="A"), date(2025, 4, 1))))["cadre-1"]
    assert archive.cases_assigned.value == 1
    assert archive.cases_assigned.event_ids == ("A/2",)
    assert archive.cases_closed.value == archive.closed_on_time.value == 1
    assert archive.closed_within_extension.value == 0
    assert archive.days_to_close.value == 29  # 3-3 to 4-1
    assert archive.average_days_to_close == "29.00"


def test_a_case_closed_within_a_granted_extension_is_counted_apart() -> None:
    history = opened(finding_id="B")
    history.do(RequestExtension(actor=UNIT, reason="r", proposed_deadline=date(2025, 6, 30)))
    history.do(GrantExtension(actor=SUPERVISOR))
    _closed_on(history, date(2025, 6, 2))
    archive = _archive(("B", history))["cadre-1"]
    assert archive.closed_on_time.value == 0
    assert archive.closed_within_extension.value == 1
    assert archive.extensions_requested.value == archive.extensions_granted.value == 1


def test_an_event_counts_for_the_cadre_responsible_when_it_happened() -> None:
    history = opened(finding_id="C")
    history.do(RequestExtension(actor=UNIT, reason="r", proposed_deadline=date(2025, 6, 30)))
    history.do(AssignResponsibility(actor=SUPERVISOR, cadre_id="cadre-2", reason="调任"))
    _closed_on(history, date(2025, 4, 10))
    archives = _archive(("C", history))
    assert archives["cadre-1"].extensions_requested.value == 1
    assert archives["cadre-1"].cases_closed.value == 0
    assert archives["cadre-2"].cases_assigned.value == 1
    assert archives["cadre-2"].cases_closed.value == 1


def test_a_withdrawn_case_leaves_the_figures() -> None:
    history = opened(finding_id="D")
    history.do(RequestExtension(actor=UNIT, reason="r", proposed_deadline=date(2025, 6, 30)))
    history.do(WithdrawCase(actor=SUPERVISOR, reason="问题不实"))
    assert _archive(("D", history)) == {}


def test_escalation_overdue_and_accountability_are_traced_to_their_events() -> None:
    history = opened(finding_id="E")
    history.do(MarkOverdue(actor=SYSTEM), at(2025, 5, 6))
    for level in (1, 2, 3, 4):
        history.do(Escalate(actor=SYSTEM, level=level), at(2025, 6, 10))
    history.do(
        RecordAccountability(
            actor=SUPERVISOR, action=AccountabilityAction.ADMONISHMENT_TALK, reason="整改不力"
        ),
        at(2025, 6, 11),
    )
    history.do(ApplyTolerance(actor=SUPERVISOR, reason="客观原因"), at(2025, 6, 11))
    archive = _archive(("E", history))["cadre-1"]
    assert archive.overdue_now.value == 1
    assert archive.overdue_now.event_ids == ("E/2", "E/3")  # opened with the deadline; overdue
    assert archive.highest_escalation_level.value == 4
    assert archive.highest_escalation_level.event_ids == ("E/7",)
    assert [archive.escalations_by_level[k].value for k in "1234"] == [1, 1, 1, 1]
    assert archive.accountability_actions.value == 1
    assert archive.accountability_by_action["admonishment_talk"].value == 1
    assert archive.exemptions.value == 1


def test_closures_sent_back_reopening_and_satisfaction() -> None:
    history = pending_closure(opened(finding_id="F"))
    history.do(RejectClosure(actor=SUPERVISOR, reason="证据不足"))
    history.do(RequestClosure(actor=UNIT, summary="补充材料"), at(2025, 3, 20))
    history.do(VerifyClosure(actor=SUPERVISOR), at(2025, 3, 20))
    history.do(RecordSatisfaction(actor=SUPERVISOR, score_percent=90), at(2025, 4, 1))
    history.do(RecordSatisfaction(actor=SUPERVISOR, score_percent=85), at(2025, 4, 2))
    history.do(ReopenCase(actor=SUPERVISOR, reason="反弹"), at(2025, 6, 1))
    archive = _archive(("F", history))["cadre-1"]
    assert archive.closures_sent_back.value == 1
    assert archive.reopened_after_look_back.value == 1
    assert archive.satisfaction_visits.value == 2
    assert archive.average_satisfaction_percent == "87.50"


def test_an_event_counts_in_the_period_of_its_date() -> None:
    history = _closed_on(opened(finding_id="G"), date(2025, 4, 1))
    q1 = _archive(("G", history), period=Period(year=2025, quarter=1))["cadre-1"]
    q2 = _archive(("G", history), period=Period(year=2025, quarter=2))["cadre-1"]
    assert (q1.cases_assigned.value, q1.cases_closed.value) == (1, 0)
    assert (q2.cases_assigned.value, q2.cases_closed.value) == (0, 1)


def test_every_figure_points_at_events_of_the_log() -> None:
    cases = [
        ("A", _closed_on(opened(finding_id="A"), date(2025, 4, 1))),
        ("B", with_plan(opened(finding_id="B"))),
    ]
    ids = {r.event_id for case_id, h in cases for r in _records(case_id, h)}
    for archive in _archive(*cases).values():
        for name, value in archive:
            if hasattr(value, "event_ids"):
                assert set(value.event_ids) <= ids, name
        assert {entry.event_id for entry in archive.timeline} <= ids


def test_a_rebuild_gives_the_same_archive_to_the_byte_whatever_the_interleaving() -> None:
    a = _closed_on(opened(finding_id="A"), date(2025, 4, 1))
    b = opened(finding_id="B", cadre_id="cadre-2")
    b.do(MarkOverdue(actor=SYSTEM), at(2025, 5, 6))
    streams = [_records("A", a), _records("B", b)]
    in_order = [r for s in streams for r in s]
    expected = [x.model_dump_json() for x in build_archive(in_order, YEAR, AS_OF)]
    rng = random.Random(4)
    for _ in range(10):
        queues = [list(s) for s in streams]
        mixed: list[ArchiveEvent] = []
        while any(queues):
            queue = rng.choice([q for q in queues if q])
            mixed.append(queue.pop(0))
        assert [x.model_dump_json() for x in build_archive(mixed, YEAR, AS_OF)] == expected


def test_the_documents_a_projection_stores_are_the_archives_json_even_for_odd_ids() -> None:
    odd = 'A"\\\n\t中\u2028\x7f'  # quotes, escapes, control and non-ASCII characters
    history = _closed_on(opened(finding_id="A", cadre_id=f"cadre-{odd}"), date(2025, 4, 1))
    history.do(RecordSatisfaction(actor=SUPERVISOR, score_percent=87), at(2025, 5, 6))
    records = _records(odd, history)
    facts = case_facts([ArchiveEventRow(*r) for r in records])  # the rebuild's fast fold
    counts = case_counts(records)
    periods = [YEAR, Period(year=2025, quarter=1), Period(year=2025, quarter=2)]
    for cadre in (f"cadre-{odd}", "cadre-1"):
        documents = archive_documents(cadre, [facts], periods, AS_OF)
        assert documents == [
            a.model_dump_json() for a in archives_of(cadre, [counts], periods, AS_OF)
        ]
    assert '"value":1' in archive_documents(f"cadre-{odd}", [facts], periods, AS_OF)[0]
