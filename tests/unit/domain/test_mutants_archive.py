"""domain/archive.py: whole archives of several cases, cadres and periods; the fold's
edges (as_of, the business date of another policy, the timeline's order).

A figure is shown as ``(value, event ids)``; the helper ``shown`` keeps every figure
that is not zero, so a test comparing it compares the whole archive.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.archive import (
    ArchiveEvent,
    CadreArchive,
    CaseCounts,
    Figure,
    Period,
    archives_of,
    build_archive,
    cadre_archive,
    cadre_archives,
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
    SetDeadline,
    VerifyClosure,
    WithdrawCase,
)
from domain.policy import Policy
from domain.vocabulary import AccountabilityAction

from .builders import CST, SUPERVISOR, SYSTEM, UNIT, History, at, opened, pending_closure

AS_OF = at(2025, 12, 31, 20)
YEAR = Period(year=2025)
TALK = AccountabilityAction.ADMONISHMENT_TALK


def records(case_id: str, history: History) -> list[ArchiveEvent]:
    return [
        ArchiveEvent(event_id=f"{case_id}/{i}", stream_id=case_id, event=event)
        for i, event in enumerate(history.events, start=1)
    ]


def case_a() -> History:
    """cadre-1: extended, sent back, closed within the extension, two visits, reopened
    in Q3 and closed again on time.

    1 FindingRecorded 03-03, 2 CaseOpened 03-03, 3 ExtensionRequested 03-10,
    4 ExtensionGranted 03-11, 5 DeadlineExtended, 6 PlanSubmitted 05-09,
    7 ClosureRequested, 8 ClosureRejected, 9 ClosureRequested 05-10, 10 ClosureVerified,
    11 CaseClosed 05-10, 12/13 SatisfactionRecorded 05-20 (90) / 05-21 (85),
    14 CaseReopened 07-02, 15 ClosureRequested 07-15, 16 ClosureVerified, 17 CaseClosed.
    """
    a = opened(finding_id="A")
    a.do(
        RequestExtension(actor=UNIT, reason="工程量大", proposed_deadline=date(2025, 6, 30)),
        at(2025, 3, 10),
    )
    a.do(GrantExtension(actor=SUPERVISOR), at(2025, 3, 11))
    pending_closure(a, at(2025, 5, 9))
    a.do(RejectClosure(actor=SUPERVISOR, reason="证据不足"), at(2025, 5, 9))
    a.do(RequestClosure(actor=UNIT, summary="补充材料"), at(2025, 5, 10))
    a.do(VerifyClosure(actor=SUPERVISOR), at(2025, 5, 10))
    a.do(RecordSatisfaction(actor=SUPERVISOR, score_percent=90), at(2025, 5, 20))
    a.do(RecordSatisfaction(actor=SUPERVISOR, score_percent=85), at(2025, 5, 21))
    a.do(ReopenCase(actor=SUPERVISOR, reason="反弹"), at(2025, 7, 2))
    a.do(RequestClosure(actor=UNIT, summary="再次完成"), at(2025, 7, 15))
    a.do(VerifyClosure(actor=SUPERVISOR), at(2025, 7, 15))
    return a


def case_b() -> History:
    """cadre-2, then cadre-3 (assigned 05-13); overdue, still open.

    1 FindingRecorded 03-05, 2 CaseOpened 03-05, 3 CaseOverdue 05-06, 4 CaseEscalated 1
    05-06, 5 CaseEscalated 2 05-12, 6 ResponsibilityAssigned 05-13, 7 CaseEscalated 3
    05-19, 8 AccountabilityRecorded (cadre-3) 05-20, 9 AccountabilityRecorded (cadre-2)
    05-20, 10 ToleranceApplied (cadre-2) 05-21.
    """
    b = opened(finding_id="B", cadre_id="cadre-2", now=at(2025, 3, 5))
    b.do(MarkOverdue(actor=SYSTEM), at(2025, 5, 6))
    b.do(Escalate(actor=SYSTEM, level=1), at(2025, 5, 6))
    b.do(Escalate(actor=SYSTEM, level=2), at(2025, 5, 12))
    b.do(AssignResponsibility(actor=SUPERVISOR, cadre_id="cadre-3", reason="调任"), at(2025, 5, 13))
    b.do(Escalate(actor=SYSTEM, level=3), at(2025, 5, 19))
    b.do(
        RecordAccountability(actor=SUPERVISOR, action=TALK, reason="整改不力", by_decision=True),
        at(2025, 5, 20),
    )
    b.do(
        RecordAccountability(
            actor=SUPERVISOR, action=TALK, reason="前任", cadre_id="cadre-2", by_decision=True
        ),
        at(2025, 5, 20),
    )
    b.do(
        ApplyTolerance(actor=SUPERVISOR, reason="客观原因", cadre_id="cadre-2", by_decision=True),
        at(2025, 5, 21),
    )
    return b


def case_c() -> History:
    """cadre-1, withdrawn: it counts nowhere."""
    c = opened(finding_id="C")
    c.do(
        RequestExtension(actor=UNIT, reason="r", proposed_deadline=date(2025, 6, 30)),
        at(2025, 3, 10),
    )
    c.do(WithdrawCase(actor=SUPERVISOR, reason="问题不实"), at(2025, 3, 12))
    return c


def case_d() -> History:
    """cadre-1: overdue, a new deadline (06-30), overdue again: still open.

    1 FindingRecorded 03-03, 2 CaseOpened 03-03, 3 CaseOverdue 05-06, 4 DeadlineSet 05-07,
    5 CaseOverdue 07-01.
    """
    d = opened(finding_id="D")
    d.do(MarkOverdue(actor=SYSTEM), at(2025, 5, 6))
    d.do(SetDeadline(actor=SUPERVISOR, deadline=date(2025, 6, 30), reason="调整"), at(2025, 5, 7))
    d.do(MarkOverdue(actor=SYSTEM), at(2025, 7, 1))
    return d


def everything() -> list[ArchiveEvent]:
    return (
        records("A", case_a())
        + records("B", case_b())
        + records("C", case_c())
        + records("D", case_d())
    )


def shown(archive: CadreArchive) -> dict[str, Any]:
    out: dict[str, Any] = {"who": (archive.cadre_id, archive.period.label, archive.as_of)}
    for name, value in archive:
        if isinstance(value, Figure):
            if value != Figure():
                out[name] = (value.value, value.event_ids)
        elif isinstance(value, dict):
            for key, figure in value.items():
                if figure != Figure():
                    out[f"{name}[{key}]"] = (figure.value, figure.event_ids)
        elif name == "timeline":
            out[name] = tuple(entry.event_id for entry in value)
        elif name.startswith("average_") and value is not None:
            out[name] = value
    return out


D_OVERDUE = (1, ("D/4", "D/5"))  # the deadline in force (set anew) and its overdue mark
B_OVERDUE = (1, ("B/2", "B/3"))  # opened with the deadline; overdue


def test_the_year_archives_of_every_cadre() -> None:
    archives = build_archive(everything(), YEAR, AS_OF)
    assert [shown(a) for a in archives] == [
        {
            "who": ("cadre-1", "2025", AS_OF),
            "cases_assigned": (2, ("A/2", "D/2")),
            "cases_closed": (2, ("A/11", "A/17")),
            "closed_on_time": (1, ("A/17",)),
            "closed_within_extension": (1, ("A/11",)),
            "overdue_now": D_OVERDUE,
            "extensions_requested": (1, ("A/3",)),
            "extensions_granted": (1, ("A/4",)),
            "closures_sent_back": (1, ("A/8",)),
            "reopened_after_look_back": (1, ("A/14",)),
            "days_to_close": (81, ("A/2", "A/11", "A/14", "A/17")),  # 68 + 13
            "average_days_to_close": "40.50",
            "satisfaction_visits": (2, ("A/12", "A/13")),
            "average_satisfaction_percent": "87.50",
            # by moment, then id: A/2 and D/2 are at the same moment
            "timeline": (
                "A/2",
                "D/2",
                "A/3",
                "A/4",
                "D/4",
                "A/8",
                "A/11",
                "A/12",
                "A/13",
                "D/5",
                "A/14",
                "A/17",
            ),
        },
        {
            "who": ("cadre-2", "2025", AS_OF),
            "cases_assigned": (1, ("B/2",)),
            "highest_escalation_level": (2, ("B/5",)),
            "escalations_by_level[1]": (1, ("B/4",)),
            "escalations_by_level[2]": (1, ("B/5",)),
            "accountability_actions": (1, ("B/9",)),
            "accountability_by_action[admonishment_talk]": (1, ("B/9",)),
            "exemptions": (1, ("B/10",)),
            "timeline": ("B/2", "B/4", "B/5", "B/9", "B/10"),
        },
        {
            "who": ("cadre-3", "2025", AS_OF),
            "cases_assigned": (1, ("B/6",)),
            "overdue_now": B_OVERDUE,
            "highest_escalation_level": (3, ("B/7",)),
            "escalations_by_level[3]": (1, ("B/7",)),
            "accountability_actions": (1, ("B/8",)),
            "accountability_by_action[admonishment_talk]": (1, ("B/8",)),
            "timeline": ("B/2", "B/3", "B/6", "B/7", "B/8"),
        },
    ]


def test_each_quarter_counts_the_events_of_its_dates_and_overdue_now_in_all() -> None:
    events = everything()
    q = {
        n: {
            a.cadre_id: shown(a) for a in build_archive(events, Period(year=2025, quarter=n), AS_OF)
        }
        for n in (1, 2, 3, 4)
    }
    assert q[1] == {
        "cadre-1": {
            "who": ("cadre-1", "2025-Q1", AS_OF),
            "cases_assigned": (2, ("A/2", "D/2")),
            "overdue_now": D_OVERDUE,
            "extensions_requested": (1, ("A/3",)),
            "extensions_granted": (1, ("A/4",)),
            "timeline": ("A/2", "D/2", "A/3", "A/4", "D/4", "D/5"),
        },
        "cadre-2": {
            "who": ("cadre-2", "2025-Q1", AS_OF),
            "cases_assigned": (1, ("B/2",)),
            "timeline": ("B/2",),
        },
        "cadre-3": {
            "who": ("cadre-3", "2025-Q1", AS_OF),
            "overdue_now": B_OVERDUE,
            "timeline": ("B/2", "B/3"),
        },
    }
    assert q[2]["cadre-1"] == {
        "who": ("cadre-1", "2025-Q2", AS_OF),
        "cases_closed": (1, ("A/11",)),
        "closed_within_extension": (1, ("A/11",)),
        "overdue_now": D_OVERDUE,
        "closures_sent_back": (1, ("A/8",)),
        "days_to_close": (68, ("A/2", "A/11")),  # in the quarter of the closure
        "average_days_to_close": "68.00",
        "satisfaction_visits": (2, ("A/12", "A/13")),
        "average_satisfaction_percent": "87.50",
        "timeline": ("A/2", "D/4", "A/8", "A/11", "A/12", "A/13", "D/5"),
    }
    assert q[2]["cadre-2"]["timeline"] == ("B/4", "B/5", "B/9", "B/10")
    assert q[2]["cadre-3"]["cases_assigned"] == (1, ("B/6",))
    assert q[3] == {
        "cadre-1": {
            "who": ("cadre-1", "2025-Q3", AS_OF),
            "cases_closed": (1, ("A/17",)),
            "closed_on_time": (1, ("A/17",)),
            "overdue_now": D_OVERDUE,
            "reopened_after_look_back": (1, ("A/14",)),
            "days_to_close": (13, ("A/14", "A/17")),  # from the reopening
            "average_days_to_close": "13.00",
            "timeline": ("D/4", "D/5", "A/14", "A/17"),
        },
        "cadre-3": {
            "who": ("cadre-3", "2025-Q3", AS_OF),
            "overdue_now": B_OVERDUE,
            "timeline": ("B/2", "B/3"),
        },
    }
    assert list(q[4].values()) == [
        {
            "who": ("cadre-1", "2025-Q4", AS_OF),
            "overdue_now": D_OVERDUE,
            "timeline": ("D/4", "D/5"),
        },
        {
            "who": ("cadre-3", "2025-Q4", AS_OF),
            "overdue_now": B_OVERDUE,
            "timeline": ("B/2", "B/3"),
        },
    ]


def test_one_cadre_over_several_periods_folds_each_stream_once_to_the_same_archives() -> None:
    events = everything()
    periods = [YEAR, Period(year=2025, quarter=2), Period(year=2024)]
    streams = [[r for r in events if r.stream_id == s] for s in ("A", "B", "C", "D")]
    for cadre in ("cadre-1", "cadre-3", "cadre-9"):
        one_by_one = tuple(cadre_archive(events, cadre, p, AS_OF) for p in periods)
        assert cadre_archives(streams, cadre, periods, AS_OF) == one_by_one
        assert archives_of(cadre, [case_counts(s) for s in streams], periods, AS_OF) == one_by_one
    assert shown(cadre_archive(events, "cadre-1", Period(year=2024), AS_OF)) == {
        "who": ("cadre-1", "2024", AS_OF),
        "overdue_now": D_OVERDUE,
        "timeline": ("D/4", "D/5"),
    }


def test_a_cadre_with_nothing_gets_an_archive_of_zeros() -> None:
    archive = cadre_archive(everything(), "cadre-9", YEAR, AS_OF)
    zero = Figure(value=0, event_ids=())
    assert archive == CadreArchive(
        cadre_id="cadre-9",
        period=YEAR,
        as_of=AS_OF,
        cases_assigned=zero,
        cases_closed=zero,
        closed_on_time=zero,
        closed_within_extension=zero,
        overdue_now=zero,
        highest_escalation_level=zero,
        escalations_by_level={str(level): zero for level in range(1, 5)},
        extensions_requested=zero,
        extensions_granted=zero,
        closures_sent_back=zero,
        reopened_after_look_back=zero,
        days_to_close=zero,
        average_days_to_close=None,
        satisfaction_visits=zero,
        average_satisfaction_percent=None,
        accountability_actions=zero,
        accountability_by_action={a.value: zero for a in AccountabilityAction},
        exemptions=zero,
        timeline=(),
    )
    assert build_archive(everything(), Period(year=2026), at(2025, 4, 30, 23)) == ()


# --- case_counts ------------------------------------------------------------------------


def test_what_a_case_counts_beyond_its_figures() -> None:
    assert case_counts([]) == CaseCounts(None, frozenset())
    withdrawn = case_counts(records("C", case_c()))
    assert withdrawn == CaseCounts(at(2025, 3, 12), frozenset({(2025, 1)}))
    a = case_counts(records("A", case_a()))
    assert (a.last_at, a.quarters, a.open) == (
        at(2025, 7, 15),
        frozenset({(2025, 1), (2025, 2), (2025, 3)}),
        None,
    )
    d = case_counts(records("D", case_d()))
    assert d.open is not None
    assert d.open.deadline == date(2025, 6, 30)


def test_quarters_of_the_events_dates() -> None:
    history = opened(finding_id="Q", now=at(2025, 3, 31, 23))
    history.do(MarkOverdue(actor=SYSTEM), at(2025, 10, 1))
    history.do(Escalate(actor=SYSTEM, level=1), at(2025, 12, 31))
    assert case_counts(records("Q", history)).quarters == frozenset({(2025, 1), (2025, 4)})


# --- as_of, policy, timeline order --------------------------------------------------------


def test_an_event_at_as_of_counts_and_one_after_is_left_out() -> None:
    history = opened(finding_id="A")
    history.do(
        RequestExtension(actor=UNIT, reason="r", proposed_deadline=date(2025, 6, 30)),
        at(2025, 3, 10),
    )
    events = records("A", history)
    on_the_dot = cadre_archive(events, "cadre-1", YEAR, at(2025, 3, 10))
    assert on_the_dot.extensions_requested == Figure(value=1, event_ids=("A/3",))
    before = cadre_archive(events, "cadre-1", YEAR, at(2025, 3, 10) - timedelta(microseconds=1))
    assert before.extensions_requested == Figure()
    assert before.cases_assigned == Figure(value=1, event_ids=("A/2",))


def test_archives_of_refuses_a_case_with_events_after_as_of() -> None:
    counts = case_counts(records("A", case_a()))
    late = at(2025, 7, 15) - timedelta(microseconds=1)
    with pytest.raises(ValueError) as raised:
        archives_of("cadre-1", [counts], [YEAR], late)
    assert str(raised.value) == f"a case has events after as_of {late.isoformat()}"
    assert archives_of("cadre-1", [counts], [YEAR], at(2025, 7, 15))[0].cases_closed.value == 2


UTC_POLICY = Policy(utc_offset_hours=0)


def test_the_policy_gives_the_business_date_of_each_event() -> None:
    # 2025-03-31 20:00 UTC: 04-01 in China (Q2), 03-31 at UTC (Q1)
    history = opened(finding_id="P", now=datetime(2025, 3, 31, 20, tzinfo=UTC))
    events = records("P", history)
    as_of = at(2025, 4, 2)  # not overdue
    q1, q2 = Period(year=2025, quarter=1), Period(year=2025, quarter=2)
    assigned = Figure(value=1, event_ids=("P/2",))
    assert cadre_archive(events, "cadre-1", q2, as_of).cases_assigned == assigned
    assert cadre_archive(events, "cadre-1", q1, as_of, UTC_POLICY).cases_assigned == assigned
    assert [a.cadre_id for a in build_archive(events, q1, as_of, UTC_POLICY)] == ["cadre-1"]
    assert build_archive(events, q1, as_of) == ()
    [utc] = cadre_archives([events], "cadre-1", [q1], as_of, UTC_POLICY)
    assert utc.cases_assigned == assigned
    assert case_counts(events, UTC_POLICY).quarters == frozenset({(2025, 1)})


def test_the_policy_gives_today_for_overdue_now() -> None:
    # due 04-30; as_of 04-30 20:00 UTC is 05-01 in China
    events = records("A", opened(finding_id="A"))
    as_of = datetime(2025, 4, 30, 20, tzinfo=UTC)
    assert cadre_archive(events, "cadre-1", YEAR, as_of).overdue_now.value == 1
    assert cadre_archive(events, "cadre-1", YEAR, as_of, UTC_POLICY).overdue_now.value == 0
    q3 = Period(year=2025, quarter=3)
    assert [a.cadre_id for a in build_archive(events, q3, as_of)] == ["cadre-1"]
    assert build_archive(events, q3, as_of, UTC_POLICY) == ()
    [year] = build_archive(events, YEAR, as_of, UTC_POLICY)
    assert (year.cases_assigned.value, year.overdue_now.value) == (1, 0)
    assert build_archive(events, YEAR, as_of)[0].overdue_now.value == 1
    on_the_day = datetime(2025, 4, 30, 12, tzinfo=UTC)  # 20:00 in China, the deadline day
    assert build_archive(events, q3, on_the_day) == ()


def test_several_periods_take_the_policys_today_too() -> None:
    events = records("A", opened(finding_id="A"))
    as_of = datetime(2025, 4, 30, 20, tzinfo=UTC)  # 05-01 in China, still 04-30 at UTC
    [china] = cadre_archives([events], "cadre-1", [YEAR], as_of)
    [utc] = cadre_archives([events], "cadre-1", [YEAR], as_of, UTC_POLICY)
    assert (china.cases_assigned.value, china.overdue_now.value) == (1, 1)
    assert (utc.cases_assigned.value, utc.overdue_now.value) == (1, 0)


def moved(history: History, when: datetime) -> History:
    """The case with its opening (and recording) moved to ``when``."""
    history.events[:2] = [e.model_copy(update={"occurred_at": when}) for e in history.events[:2]]
    return history


def test_the_timeline_is_in_time_order_then_by_event_id() -> None:
    nine = datetime(2025, 3, 3, 9, tzinfo=CST)  # 01:00 UTC
    later = moved(opened(finding_id="A"), nine + timedelta(microseconds=1))
    first = moved(opened(finding_id="B"), nine)
    same = moved(opened(finding_id="D"), nine)
    events = records("A", later) + records("B", first) + records("D", same)
    timeline = cadre_archive(events, "cadre-1", YEAR, AS_OF).timeline
    assert [e.event_id for e in timeline] == ["B/2", "D/2", "A/2"]
    assert timeline[0].model_dump() == {
        "event_id": "B/2",
        "case_id": "B",
        "event_type": "CaseOpened",
        "occurred_at": nine,
    }


def test_naive_moments_are_read_as_utc() -> None:
    five = moved(opened(finding_id="B"), datetime(2025, 3, 3, 5))
    four = moved(opened(finding_id="C"), datetime(2025, 3, 3, 4, 59))
    counts = [case_counts(records("B", five)[:2]), case_counts(records("C", four)[:2])]
    [archive] = archives_of("cadre-1", counts, [YEAR], datetime(2025, 3, 4))
    assert [e.event_id for e in archive.timeline] == ["C/2", "B/2"]


def test_within_an_extension_needs_a_granted_one() -> None:
    # A log whose closure names a later deadline than the original one, with no
    # extension granted on the way: late, and not "within an extension".
    history = pending_closure(opened(finding_id="A"), at(2025, 5, 10))
    history.do(VerifyClosure(actor=SUPERVISOR), at(2025, 5, 10))
    closed = history.events[-1]
    history.events[-1] = closed.model_copy(update={"deadline": date(2025, 6, 30)})
    archive = cadre_archive(records("A", history), "cadre-1", YEAR, AS_OF)
    assert (archive.cases_closed.value, archive.closed_on_time.value) == (1, 0)
    assert archive.closed_within_extension == Figure()
