"""tests/workflows/harness.py's timeline, with the outbox sink (made to fail once) instead of
the recording one."""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from activities.models import NotificationRequest
from activities.notifications import OutboxNotificationSink
from store.event_store import EventStore
from tests.workflows.harness import (
    WEEKENDS_ONLY,
    RecordingSink,
    Timeline,
    next_monday_of,
    open_case,
    skip_to,
    terminate_if_running,
)
from worker import build_worker
from workflows.case_workflow import RectificationCaseWorkflow
from workflows.models import CaseWorkflowInput, RequestContext, case_workflow_id


class FailingOnceOutboxSink(RecordingSink):
    """Writes the rows, then fails the first attempt of every notice: the retried
    activity writes the same rows again, and the outbox must keep one of each."""

    def __init__(self, store: EventStore) -> None:
        super().__init__()
        self._outbox = OutboxNotificationSink(store)
        self._failed: set[str] = set()
        self._guard = threading.Lock()
        self.calls = 0

    def send(self, notice: NotificationRequest) -> bool:
        written = self._outbox.send(notice)
        with self._guard:
            self.calls += 1
            first = notice.idempotency_key not in self._failed
            self._failed.add(notice.idempotency_key)
        if first:
            raise RuntimeError("simulated crash after the outbox write")
        super().send(notice)
        return written.rows > 0


@asynccontextmanager
async def outbox_timeline(
    env: WorkflowEnvironment, store: EventStore, *, deadline_offset: int
) -> AsyncIterator[tuple[Timeline, FailingOnceOutboxSink]]:
    queue = f"tq-{uuid.uuid4()}"
    finding_id = uuid.uuid4().hex
    sink = FailingOnceOutboxSink(store)
    start = await next_monday_of(env)
    await skip_to(env, start)
    request = CaseWorkflowInput(
        command=open_case(finding_id, start + timedelta(days=deadline_offset)),
        context=RequestContext(request_id=f"req-{finding_id[:8]}"),
        policy=WEEKENDS_ONLY,
    )
    async with build_worker(
        env.client, store, task_queue=queue, max_cached_workflows=10, notifications=sink
    ):
        await env.client.start_workflow(
            RectificationCaseWorkflow.run,
            request,
            id=case_workflow_id(finding_id),
            task_queue=queue,
        )
        handle = env.client.get_workflow_handle_for(
            RectificationCaseWorkflow.run, case_workflow_id(finding_id)
        )
        await handle.execute_update(RectificationCaseWorkflow.wait_opened)
        try:
            yield Timeline(env, store, handle, sink, start), sink
        finally:
            await terminate_if_running(handle)
