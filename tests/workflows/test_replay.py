"""Recorded histories replayed against today's workflow code.

A change that would break running cases (a new timer, a reordered activity) fails
here; make such a change behind ``workflow.patched``. The histories under
``histories/`` were recorded from earlier code; a fresh one is recorded on every run.
Set ZHENGGAI_RECORD_HISTORY=1 to (re)write ``histories/case_lifecycle.json``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from domain.commands import (
    DenyExtension,
    RecordAccountability,
    RequestExtension,
    SubmitPlan,
    VerifyClosure,
)
from domain.vocabulary import AccountabilityAction
from store.event_store import EventStore
from tests.workflows.harness import SUPERVISOR, UNIT, timeline
from worker import workflow_runner
from workflows.case_workflow import RectificationCaseWorkflow as Case

pytestmark = pytest.mark.integration

HISTORIES = Path(__file__).parent / "histories"


def _replayer() -> Replayer:
    return Replayer(
        workflows=[Case],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )


def _save(history: WorkflowHistory) -> None:
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / "case_lifecycle.json").write_text(history.to_json(), encoding="utf-8")


def _load(path: Path) -> str:
    return path.read_text(encoding="utf-8")


async def _record(env: WorkflowEnvironment, store: EventStore) -> WorkflowHistory:
    """Updates (accepted and refused), reminders, overdue, four levels, a decision reminder."""
    async with timeline(env, store, deadline_offset=11) as case:
        await case.advance_to(1)
        await case.send(Case.submit_plan, SubmitPlan(actor=UNIT, plan="方案"))
        await case.send(
            Case.request_extension,
            RequestExtension(actor=UNIT, reason="汛期", proposed_deadline=case.day(25)),
        )
        await case.advance_to(2)
        await case.send(Case.deny_extension, DenyExtension(actor=SUPERVISOR, reason="理由不足"))
        await case.refused(Case.verify_closure, VerifyClosure(actor=SUPERVISOR))
        await case.advance_to(47)
        await case.send(
            Case.record_accountability,
            RecordAccountability(
                actor=SUPERVISOR, action=AccountabilityAction.ADMONISHMENT_TALK, reason="逾期"
            ),
        )
        return await case.handle.fetch_history()


async def test_a_fresh_history_replays_against_the_current_code(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    history = await _record(time_skipping_env, event_store)
    assert len(history.events) > 50
    accepted = [
        e
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    # wait_opened and four commands; the refused verification left no trace.
    assert len(accepted) == 5
    if os.environ.get("ZHENGGAI_RECORD_HISTORY") == "1":
        _save(history)
    await _replayer().replay_workflow(history)


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_a_recorded_history_replays_against_the_current_code(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, _load(path))
    await _replayer().replay_workflow(history)
