"""A case's timeline on the time-skipping server: a real worker, the real append activity,
real PostgreSQL, and a notification sink that records what it was handed.

Dates: the server starts at the real current time and its clock is shared by every
test of the session, so a timeline starts on the next Monday at 10:00 China Standard
Time and all its dates are counted from there. The policy's calendar has weekends only
(no holidays), so the expected dates can be counted by hand wherever the tests run.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.models import NotificationRequest
from domain.commands import Command, OpenCase
from domain.policy import CalendarPolicy, Policy
from domain.state import CaseState
from domain.values import Milestone
from domain.vocabulary import Actor, CaseKind, Role, Source
from store.event_store import EventStore
from worker import build_worker
from workflows.case_workflow import RectificationCaseWorkflow
from workflows.models import (
    CaseOverview,
    CaseWorkflowInput,
    CommandRequest,
    RequestContext,
    TimerAction,
    case_workflow_id,
)

CST = timezone(timedelta(hours=8))
WEEKENDS_ONLY = Policy(calendar=CalendarPolicy(use_package=False, fixed_holidays=()))
SUPERVISOR = Actor(user_id="sup-1", role=Role.SUPERVISOR, unit_id="prov")
UNIT = Actor(user_id="unit-user-1", role=Role.UNIT, unit_id="county-env")


class RecordingSink:
    """Records every notice (the activity runs in a thread pool)."""

    def __init__(self) -> None:
        self.notices: list[NotificationRequest] = []
        self._lock = threading.Lock()

    def send(self, notice: NotificationRequest) -> bool:
        with self._lock:
            self.notices.append(notice)
        return True


def business_date(moment: str | datetime) -> date:
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.astimezone(CST).date()


async def next_monday_of(env: WorkflowEnvironment) -> date:
    """The Monday the next timeline will start on (strictly after today in China)."""
    now = (await env.get_current_time()).astimezone(CST)
    day = now.date() + timedelta(days=1)
    while day.weekday() != 0:
        day += timedelta(days=1)
    return day


async def skip_to(env: WorkflowEnvironment, day: date, hour: int = 10) -> None:
    target = datetime.combine(day, time(hour), CST)
    delta = target - await env.get_current_time()
    assert delta > timedelta(0), f"{target} is already past"
    await env.sleep(delta)


@dataclass
class Timeline:
    env: WorkflowEnvironment
    store: EventStore
    handle: WorkflowHandle[Any, CaseState]
    sink: RecordingSink
    start: date  # the Monday the case was opened
    context: RequestContext = field(default_factory=RequestContext)

    def day(self, offset: int) -> date:
        return self.start + timedelta(days=offset)

    async def advance_to(self, offset: int, hour: int = 10) -> None:
        """Move the clock to that day and hour, one timer of the case at a time.

        The server's clock does not wait for a fired timer's work, so the clock is
        stopped just after each timer the ``overview`` query announces, until the
        workflow has moved on; events then carry the date their timer was set for.
        """
        target = datetime.combine(self.day(offset), time(hour), CST)
        while True:
            seen = await self.handle.query(RectificationCaseWorkflow.overview)
            timer = seen.next_timer
            if timer is None or timer.at > target or timer.action is TimerAction.LOOK_BACK_END:
                break
            now = await self.env.get_current_time()
            if timer.at >= now:
                await self.env.sleep(timer.at - now + timedelta(seconds=1))
            await self._settle(seen)
        await skip_to(self.env, self.day(offset), hour)

    async def _settle(self, seen: CaseOverview) -> None:
        async def moved_on() -> None:
            while True:
                now = await self.handle.query(RectificationCaseWorkflow.overview)
                if now.next_timer != seen.next_timer or now.state != seen.state:
                    return
                await asyncio.sleep(0.05)

        await asyncio.wait_for(moved_on(), timeout=30)

    async def send(self, update: Any, command: Command) -> CaseState:
        request: CommandRequest[Command] = CommandRequest(command=command, context=self.context)
        state: CaseState = await self.handle.execute_update(update, request)
        return state

    async def overview(self) -> CaseOverview:
        result: CaseOverview = await self.handle.query(RectificationCaseWorkflow.overview)
        return result

    async def refused(self, update: Any, command: Command) -> ApplicationError:
        """Send a command the validator must reject; returns what the caller received."""
        before = self.store.stream_version(self.handle.id)
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await self.send(update, command)
        assert self.store.stream_version(self.handle.id) == before
        cause = caught.value.cause
        assert isinstance(cause, ApplicationError)
        return cause

    async def run_out(self) -> CaseState:
        """Skip to the end of the look-back window and return the workflow's result."""
        timer = (await self.overview()).next_timer
        assert timer is not None
        assert timer.action is TimerAction.LOOK_BACK_END
        await self.env.sleep(timer.at - await self.env.get_current_time() + timedelta(seconds=1))
        result: CaseState = await self.handle.result()
        return result

    def events(self) -> list[tuple[str, date]]:
        stored = self.store.read_stream(self.handle.id)
        return [(e.type, business_date(e.data["occurred_at"])) for e in stored]

    def stored(self) -> list[dict[str, Any]]:
        return [dict(e.data, type=e.type) for e in self.store.read_stream(self.handle.id)]


def open_case(
    finding_id: str,
    deadline: date | None,
    *,
    kind: CaseKind = CaseKind.TIME_LIMITED,
    milestones: tuple[Milestone, ...] = (),
) -> OpenCase:
    return OpenCase(
        actor=SUPERVISOR,
        finding_id=finding_id,
        source=Source.INSPECTION,
        title="河道非法采砂整治不到位",
        unit_id="county-env",
        cadre_id="cadre-7",
        kind=kind,
        deadline=deadline,
        target="整治到位，建立长效机制",
        milestones=milestones,
    )


@asynccontextmanager
async def timeline(
    env: WorkflowEnvironment,
    store: EventStore,
    *,
    deadline_offset: int | None,
    policy: Policy = WEEKENDS_ONLY,
    kind: CaseKind = CaseKind.TIME_LIMITED,
    milestone_offsets: tuple[int, ...] = (),
    history_limit: int | None = None,
    max_cached_workflows: int = 10,
) -> AsyncIterator[Timeline]:
    """A case opened on the next Monday at 10:00 with its deadline that many days later.

    The workflow is terminated on the way out if it is still running: an open case
    left without a worker would hold the shared server's clock for the next test.
    """
    queue = f"tq-{uuid.uuid4()}"
    finding_id = uuid.uuid4().hex
    sink = RecordingSink()
    start = await next_monday_of(env)
    await skip_to(env, start)
    milestones = tuple(
        Milestone(milestone_id=f"m{i + 1}", title=f"第{i + 1}阶段", due=start + timedelta(days=d))
        for i, d in enumerate(milestone_offsets)
    )
    deadline = None if deadline_offset is None else start + timedelta(days=deadline_offset)
    request = CaseWorkflowInput(
        command=open_case(finding_id, deadline, kind=kind, milestones=milestones),
        context=RequestContext(request_id=f"req-{finding_id[:8]}"),
        policy=policy,
    )
    if history_limit is not None:
        request = request.model_copy(update={"history_limit": history_limit})
    async with build_worker(
        env.client,
        store,
        task_queue=queue,
        max_cached_workflows=max_cached_workflows,
        notifications=sink,
    ):
        await env.client.start_workflow(
            RectificationCaseWorkflow.run,
            request,
            id=case_workflow_id(finding_id),
            task_queue=queue,
        )
        # No run id: updates, queries and the result follow the case across continue-as-new.
        handle = env.client.get_workflow_handle_for(
            RectificationCaseWorkflow.run, case_workflow_id(finding_id)
        )
        await handle.execute_update(RectificationCaseWorkflow.wait_opened)
        try:
            yield Timeline(env, store, handle, sink, start)
        finally:
            await terminate_if_running(handle)


async def terminate_if_running(handle: WorkflowHandle[Any, Any]) -> None:
    with contextlib.suppress(RPCError):  # already completed
        await handle.terminate("test over")
