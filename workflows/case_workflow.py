"""RectificationCaseWorkflow: the single writer of one case's event stream, and its clock.

A run opens the case (or takes the state a previous run carried over), then loops:
ask ``workflows.agenda`` for the next timer, sleep until it or until the state
changes, and when it is due run its system command through ``decide``, append the
events and hand out the notices. Human commands arrive as the Updates of
``workflows.updates``. The workflow completes when the case is withdrawn or when
the look-back window after closure has ended.

Every append holds one ``asyncio.Lock``, so the expected version sent to the store
is always the one this workflow last wrote, and ``decide`` always sees the state
the events will be appended to.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.models import (
        AppendEventsInput,
        AppendEventsResult,
        NotificationRequest,
        NotificationResult,
    )
    from domain.case import CaseState, decide, evolve
    from domain.commands import RecomputeDeadline
    from domain.errors import DomainError
    from domain.events import CaseEscalated, Event
    from domain.policy import DEFAULT_POLICY
    from domain.schedule import SYSTEM_ACTOR
    from domain.traffic_light import traffic_light
    from domain.vocabulary import Actor, CaseStatus, EscalationLevel
    from workflows.agenda import Timer, decision_pending, next_timer
    from workflows.errors import refusal
    from workflows.event_mapping import to_append
    from workflows.models import (
        CarriedState,
        CaseOverview,
        CaseWorkflowInput,
        CommandRequest,
        DecisionWatch,
        RequestContext,
        TimerAction,
    )
    from workflows.notices import NOTICES_V2, decision_reminder, notice_for
    from workflows.updates import CaseCommandUpdates

__all__ = ["RectificationCaseWorkflow"]

# The append is a (regular) activity, never a local one: its input, events stamped with
# workflow.now(), is then recorded before it runs. A local activity's is not, so a
# workflow task lost after the append committed would decide again, at another time or
# with the updates in another order, and write something else than the store holds
# (tried: test_continue_as_new caught the conflicts; docs/performance.md).
APPEND_TIMEOUT = timedelta(seconds=30)
APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10)
)
# Applied command keys carried into the next run. A repeat older than this many
# commands of the same case is still answered by the API's stored first answer.
APPLIED_KEYS_KEPT = 1_000
NOTIFY_TIMEOUT = timedelta(seconds=30)
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)


@workflow.defn
class RectificationCaseWorkflow(CaseCommandUpdates):
    @workflow.init
    def __init__(self, request: CaseWorkflowInput) -> None:
        self._policy = request.policy or DEFAULT_POLICY
        self._history_limit = request.history_limit
        self._decision_interval = request.decision_reminder_working_days
        self._state: CaseState | None = None
        self._watch: DecisionWatch | None = None
        # An insertion-ordered set: the keys of the commands this case has applied.
        self._applied: dict[str, None] = {}
        if request.carried is not None:
            self._state = request.carried.state
            self._watch = request.carried.decision_watch
            self._applied = dict.fromkeys(request.carried.applied_command_keys)
        self._lock = asyncio.Lock()
        self._revision = 0  # bumped by every change of state: wakes the clock
        self._work_done = 0  # appends and notices in this run

    @workflow.run
    async def run(self, request: CaseWorkflowInput) -> CaseState:
        if self._state is None:
            await self._open(request)
        while True:
            if self._continue_as_new_due():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._carry(request))
            now = workflow.now()
            timer = self._timer(now)
            if self._finished(timer, now):
                # An update accepted just before the end may still change the case.
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._finished(self._timer(workflow.now()), workflow.now()):
                    break
                continue
            if timer is not None and timer.at <= now:
                await self._fire(timer)
                continue
            await self._sleep(timer, now)
        assert self._state is not None
        return self._state

    # -- queries and the opening update ---------------------------------------------

    @workflow.update
    async def wait_opened(self) -> CaseState:
        """Returns the case once its opening events are in the store."""
        await workflow.wait_condition(
            lambda: self._state is not None and self._state.status is not CaseStatus.RECORDED
        )
        assert self._state is not None
        return self._state

    @workflow.query
    def current_state(self) -> CaseState | None:
        return self._state

    @workflow.query
    def overview(self) -> CaseOverview:
        """The case, its traffic light, and the next thing its clock will do."""
        now = workflow.now()
        timer = self._timer(now)
        return CaseOverview(
            state=self._state,
            as_of=now,
            light=traffic_light(self._state, now, self._policy),
            next_timer=None if timer is None else timer.view(),
            decision_pending=decision_pending(self._state, self._watch),
        )

    # -- human commands (the handlers of workflows.updates) ----------------------------

    def _validate(self, request: CommandRequest[Any]) -> None:
        if self._state is None:
            return  # the opening is still being written; the handler decides after it
        if request.context.command_key in self._applied:
            return  # a repeat: answered with the case as it is, never decided again
        try:
            decide(self._state, request.command, workflow.now(), self._policy)
        except DomainError as exc:
            raise refusal(exc) from exc

    async def _execute(self, request: CommandRequest[Any]) -> CaseState:
        await workflow.wait_condition(lambda: self._state is not None)
        async with self._lock:
            key = request.context.command_key
            if key is not None and key in self._applied:
                assert self._state is not None
                return self._state
            command = request.command
            try:
                events = decide(self._state, command, workflow.now(), self._policy)
            except DomainError as exc:
                raise refusal(exc) from exc
            notices = await self._record(events, command.actor, request.context)
            if isinstance(command, RecomputeDeadline):
                # The operator's new calendar years: the rules stay, the calendar grows.
                self._policy = self._policy.with_calendar_years(command.years)
            if key is not None:
                self._remember(key)
            state = self._state
        await self._notify(notices)
        assert state is not None
        return state

    # -- the clock -----------------------------------------------------------------------

    def _timer(self, now: datetime) -> Timer | None:
        return next_timer(self._state, self._policy, now, self._watch, self._decision_interval)

    def _finished(self, timer: Timer | None, now: datetime) -> bool:
        assert self._state is not None
        if self._state.status in (CaseStatus.WITHDRAWN, CaseStatus.MERGED):
            return True  # MERGED exists only in histories written since it was added
        return timer is not None and timer.action is TimerAction.LOOK_BACK_END and timer.at <= now

    async def _sleep(self, timer: Timer | None, now: datetime) -> None:
        """Until the timer is due, the case changes, or it is time to continue as new."""
        revision = self._revision
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._revision != revision or self._continue_as_new_due(),
                timeout=None if timer is None else timer.at - now,
                timeout_summary=None if timer is None else timer.action.value,
            )

    async def _fire(self, timer: Timer) -> None:
        async with self._lock:
            now = workflow.now()
            if self._timer(now) != timer:
                return  # an update changed the case while we waited for the lock: plan again
            state = self._state
            assert state is not None
            if timer.command is None:  # the decision reminder: a notice, no event
                assert self._watch is not None
                notices = [
                    decision_reminder(
                        self._watch, state, workflow.info().workflow_id, now, self._policy
                    )
                ]
                self._watch = self._watch.model_copy(
                    update={"reminders_sent": self._watch.reminders_sent + 1}
                )
                self._revision += 1
            else:
                events = decide(state, timer.command, now, self._policy)
                notices = await self._record(events, SYSTEM_ACTOR, RequestContext())
        await self._notify(notices)

    # -- writing -------------------------------------------------------------------------

    async def _open(self, request: CaseWorkflowInput) -> None:
        try:
            events = decide(None, request.command, workflow.now(), self._policy)
        except DomainError as exc:
            raise refusal(exc) from exc
        async with self._lock:
            await self._record(events, request.command.actor, request.context)

    async def _record(
        self, events: list[Event], actor: Actor, context: RequestContext
    ) -> list[NotificationRequest]:
        """Append the events (ids from workflow.uuid4: a retry writes nothing twice), fold them."""
        if not events:
            return []
        workflow_id = workflow.info().workflow_id
        appended = to_append(
            events, actor=actor, context=context, workflow_id=workflow_id, new_id=workflow.uuid4
        )
        await workflow.execute_activity(
            "append_events",
            AppendEventsInput(
                stream_id=workflow_id,
                expected_version=0 if self._state is None else self._state.version,
                events=appended,
            ),
            result_type=AppendEventsResult,
            start_to_close_timeout=APPEND_TIMEOUT,
            retry_policy=APPEND_RETRY,
        )
        state = self._state
        notices: list[NotificationRequest] = []
        for event, stored in zip(events, appended, strict=True):
            state = evolve(state, event)
            if (
                isinstance(event, CaseEscalated)
                and event.level is EscalationLevel.ACCOUNTABILITY_RECOMMENDED
            ):
                self._watch = DecisionWatch(
                    since=self._policy.today(event.occurred_at),
                    escalation_event_id=stored.event_id,
                    decisions_before=state.accountability_count + state.tolerance_count,
                )
            notice = notice_for(event, stored.event_id, state, workflow_id, self._policy)
            old = notice_for(event, stored.event_id, state, workflow_id, self._policy, legacy=True)
            if (notice is None) != (old is None) and not workflow.patched(NOTICES_V2):
                notice = old  # a run begun before people's steps notified: replays as it ran
            if notice is not None:
                notices.append(notice)
        self._state = state
        self._revision += 1
        self._work_done += 1
        return notices

    async def _notify(self, notices: list[NotificationRequest]) -> None:
        for notice in notices:
            await workflow.execute_activity(
                "send_notification",
                notice,
                result_type=NotificationResult,
                start_to_close_timeout=NOTIFY_TIMEOUT,
                retry_policy=NOTIFY_RETRY,
            )
            self._work_done += 1

    # -- continue-as-new -------------------------------------------------------------------

    def _continue_as_new_due(self) -> bool:
        if self._work_done == 0:  # a fresh run that did nothing yet must not loop
            return False
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._history_limit
        )

    def _remember(self, key: str) -> None:
        self._applied[key] = None
        while len(self._applied) > APPLIED_KEYS_KEPT:
            del self._applied[next(iter(self._applied))]

    def _carry(self, request: CaseWorkflowInput) -> CaseWorkflowInput:
        assert self._state is not None
        carried = CarriedState(
            state=self._state,
            decision_watch=self._watch,
            applied_command_keys=list(self._applied),
        )
        # The case keeps the rules it opened under (and any calendar years added since).
        return request.model_copy(update={"carried": carried, "policy": self._policy})
