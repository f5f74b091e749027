"""A retried append writes nothing twice: the event ids come from ``workflow.uuid4()``."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from domain.commands import SubmitPlan
from store.event_store import EventStore
from store.records import AppendResult, NewEvent
from tests.workflows.harness import UNIT, timeline
from workflows.case_workflow import RectificationCaseWorkflow as Case

pytestmark = pytest.mark.integration


class LosesEveryFirstAnswer(EventStore):
    """Commits every append, then fails the first attempt as if the answer were lost."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.attempts: list[str] = []
        self._lock = threading.Lock()

    def append(
        self, stream_id: str, expected_version: int, new_events: Sequence[NewEvent], **kw: Any
    ) -> AppendResult:
        result = super().append(stream_id, expected_version, new_events, **kw)
        key = str(new_events[0].event_id)
        with self._lock:
            first = key not in self.attempts
            self.attempts.append(key)
        if first:
            raise ConnectionResetError("the answer was lost after the commit")
        assert result.already_stored
        return result


async def test_every_append_retried_after_a_lost_answer_is_stored_once(
    time_skipping_env: WorkflowEnvironment, engine: Engine
) -> None:
    store = LosesEveryFirstAnswer(engine)
    async with timeline(time_skipping_env, store, deadline_offset=11) as case:
        await case.advance_to(1)
        await case.send(Case.submit_plan, SubmitPlan(actor=UNIT, plan="方案"))
        await case.advance_to(5)
        assert case.events() == [
            ("FindingRecorded", case.day(0)),
            ("CaseOpened", case.day(0)),
            ("PlanSubmitted", case.day(1)),
            ("ReminderSent", case.day(4)),
            ("WarningRaised", case.day(4)),
        ]
    # Four appends (the opening, the plan, the reminder, the warning), each tried twice.
    assert len(store.attempts) == 8
    assert len(set(store.attempts)) == 4
