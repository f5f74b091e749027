"""Property: processing the log in random batches, with a crash and a resume in
between, leaves every read model identical to one rebuild from the log."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, text

from domain.case import CaseState
from domain.commands import (
    ApplyTolerance,
    AssignResponsibility,
    Command,
    Escalate,
    GrantExtension,
    MarkOverdue,
    RecordAccountability,
    RecordSatisfaction,
    RejectClosure,
    ReopenCase,
    ReportProgress,
    RequestClosure,
    RequestExtension,
    SubmitPlan,
    TransferResponsibility,
    VerifyClosure,
    WithdrawCase,
)
from domain.errors import DomainError
from domain.vocabulary import AccountabilityAction
from store.event_store import EventStore
from store.projections.check import check, check_all
from store.projections.registry import PROJECTIONS
from store.records import RecordedEvent
from store.subscription import Subscription

from .helpers import SUPERVISOR, SYSTEM, Case, at, open_command, unit_actor

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _command(choice: int, state: CaseState, value: int) -> Command:
    unit = unit_actor(state.unit_id)
    later = (state.deadline or at(2025, 6, 1).date()) + timedelta(days=10 + value)
    options: list[Command] = [
        SubmitPlan(actor=unit, plan="方案"),
        ReportProgress(actor=unit, text="进展"),
        RequestExtension(actor=unit, reason="r", proposed_deadline=later),
        GrantExtension(actor=SUPERVISOR),
        RequestClosure(actor=unit, summary="s"),
        VerifyClosure(actor=SUPERVISOR),
        RejectClosure(actor=SUPERVISOR, reason="r"),
        RecordSatisfaction(actor=SUPERVISOR, score_percent=value % 101),
        ReopenCase(actor=SUPERVISOR, reason="r"),
        WithdrawCase(actor=SUPERVISOR, reason="r"),
        AssignResponsibility(actor=SUPERVISOR, cadre_id=f"h{value % 3}", reason="r"),
        TransferResponsibility(actor=SUPERVISOR, unit_id="ub", cadre_id="h3", reason="r"),
        MarkOverdue(actor=SYSTEM),
        Escalate(actor=SYSTEM, level=state.escalation_level + 1),
        RecordAccountability(
            actor=SUPERVISOR, action=AccountabilityAction.REASSIGNMENT, reason="r", by_decision=True
        ),
        ApplyTolerance(actor=SUPERVISOR, reason="r", by_decision=True),
    ]
    return options[choice % len(options)]


steps = st.lists(
    st.tuples(st.integers(0, 15), st.integers(0, 40), st.integers(0, 100)), max_size=14
)
cases = st.lists(st.tuples(st.integers(0, 2), steps), min_size=1, max_size=4)


def _write(store: EventStore, drawn: list[tuple[int, list[tuple[int, int, int]]]]) -> None:
    for cadre, script in drawn:
        finding = f"H{uuid.uuid4().hex[:8]}"
        case = Case(store, finding)
        now = at(2025, 3, 3)
        case.do(open_command(finding, cadre_id=f"h{cadre}", unit_id="ua"), now)
        for choice, days, value in script:
            now += timedelta(days=days)
            assert case.state is not None
            try:
                case.do(_command(choice, case.state, value), now)
            except DomainError:
                continue


def _reset(engine: Engine) -> None:
    with engine.begin() as conn:
        for projection in PROJECTIONS.values():
            for table in projection.tables:
                conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("DELETE FROM checkpoints"))


class Crash(RuntimeError):
    pass


def _crashing(handler: object, on_batch: int) -> object:
    seen = {"batches": 0}

    def handle(conn: Connection, batch: Sequence[RecordedEvent]) -> None:
        handler(conn, batch)  # type: ignore[operator]
        seen["batches"] += 1
        if seen["batches"] == on_batch:
            raise Crash("crash in the middle of a batch, after its writes")

    return handle


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    drawn=cases,
    first=st.integers(1, 40),
    second=st.integers(1, 40),
    crash_on=st.integers(1, 4),
)
def test_random_batches_with_a_crash_give_the_tables_of_one_rebuild(
    engine: Engine,
    drawn: list[tuple[int, list[tuple[int, int, int]]]],
    first: int,
    second: int,
    crash_on: int,
) -> None:
    _write(EventStore(engine, notify=False), drawn)
    _reset(engine)
    for projection in PROJECTIONS.values():
        # One handler throughout, as a runner keeps it: what it remembers from the batch
        # that crashed (the archive's folded streams) must not leak into the retry, whose
        # batches may be cut smaller.
        handler = projection.handler()
        crashing = _crashing(handler, crash_on)
        with contextlib.suppress(Crash):
            Subscription(engine, projection.name, crashing, batch_size=first).run_once()  # type: ignore[arg-type]
        Subscription(engine, projection.name, handler, batch_size=second).run_once()
        report = check(engine, projection)
        assert report.ok, [d.describe() for d in report.differences]
    # and identical to the build of every read model from one pass over the log
    for report in check_all(engine):
        assert report.ok, [d.describe() for d in report.differences]
