"""A Temporal client that connects on first use, so the API starts (and reports
an unreachable Temporal in /health) even when Temporal is down."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

__all__ = ["TemporalGateway", "TemporalUnavailable"]

# A polling worker renews its poll at least every minute or so; one not seen for
# longer than this is gone (killed, or its process stopped).
WORKER_SEEN_WITHIN = timedelta(seconds=90)


class TemporalUnavailable(Exception):
    pass


class TemporalGateway:
    def __init__(self, connect: Callable[[], Awaitable[Client]], client: Client | None = None):
        self._connect = connect
        self._client = client
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await asyncio.wait_for(self._connect(), timeout=5)
                except Exception as exc:
                    raise TemporalUnavailable(str(exc) or type(exc).__name__) from exc
        return self._client

    async def check(self) -> str | None:
        """None when Temporal answers, else the reason it does not."""
        try:
            client = await self.client()
            await asyncio.wait_for(client.service_client.check_health(), timeout=3)
        except Exception as exc:
            return str(exc) or type(exc).__name__
        return None

    async def check_workers(self, task_queue: str) -> str | None:
        """None when a worker polled the case task queue lately, else why not."""
        try:
            client = await self.client()
            described = await asyncio.wait_for(
                client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace=client.namespace,
                        task_queue=TaskQueue(name=task_queue),
                        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                    )
                ),
                timeout=3,
            )
        except Exception as exc:
            return str(exc) or type(exc).__name__
        now = datetime.now(UTC)
        recent = [
            poller
            for poller in described.pollers
            if now - poller.last_access_time.ToDatetime(UTC) <= WORKER_SEEN_WITHIN
        ]
        if not recent:
            return f"no worker has polled task queue {task_queue} in the last 90 s"
        return None
