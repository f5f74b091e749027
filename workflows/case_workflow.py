"""RectificationCaseWorkflow: the single writer of one case's event stream.

So far it records the finding and opens the case; the timers (reminders,
warnings, escalation) and the human commands as Updates follow with issue 5.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.models import AppendEventsInput, AppendEventsResult
    from domain.case import CaseState, decide, evolve
    from domain.errors import DomainError
    from domain.events import Event
    from domain.vocabulary import Actor, CaseStatus
    from workflows.event_mapping import to_append
    from workflows.models import CaseWorkflowInput, RequestContext

__all__ = ["RectificationCaseWorkflow"]

APPEND_TIMEOUT = timedelta(seconds=30)
APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10)
)


@workflow.defn
class RectificationCaseWorkflow:
    def __init__(self) -> None:
        self._state: CaseState | None = None
        self._version = 0

    @workflow.run
    async def run(self, request: CaseWorkflowInput) -> CaseState:
        try:
            events = decide(None, request.command, workflow.now())
        except DomainError as exc:
            raise ApplicationError(
                exc.message_en,
                exc.code,
                exc.message_zh,
                type=type(exc).__name__,
                non_retryable=True,
            ) from exc
        await self._record(events, request.command.actor, request.context)
        # Until the timers and commands of issue 5 exist the case stays open here.
        await workflow.wait_condition(
            lambda: (
                self._state is not None
                and self._state.status in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN)
            )
        )
        assert self._state is not None
        return self._state

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

    async def _record(self, events: list[Event], actor: Actor, context: RequestContext) -> None:
        info = workflow.info()
        request = AppendEventsInput(
            stream_id=info.workflow_id,
            expected_version=self._version,
            events=to_append(
                events,
                actor=actor,
                context=context,
                workflow_id=info.workflow_id,
                new_id=workflow.uuid4,
            ),
        )
        result = await workflow.execute_activity(
            "append_events",
            request,
            result_type=AppendEventsResult,
            start_to_close_timeout=APPEND_TIMEOUT,
            retry_policy=APPEND_RETRY,
        )
        state = self._state
        for event in events:
            state = evolve(state, event)
        self._state = state
        self._version = result.last_version
