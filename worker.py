"""Composition root of the worker process: Settings in, a running Temporal worker out."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.event_log import EventLogActivities
from activities.notifications import LogNotificationSink, NotificationActivities, NotificationSink
from cli.settings import Settings
from store.event_store import EventStore
from workflows.case_workflow import RectificationCaseWorkflow

__all__ = ["build_worker", "connect_temporal", "worker_from_settings", "workflow_runner"]

ACTIVITY_THREADS = 16


async def connect_temporal(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_target,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox, with the pure domain (and its calendar data) passed through."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "domain", "chinese_calendar", "pydantic", "pydantic_core", "annotated_types"
        )
    )


def build_worker(
    client: Client,
    store: EventStore,
    *,
    task_queue: str,
    max_cached_workflows: int,
    notifications: NotificationSink | None = None,
) -> Worker:
    event_log = EventLogActivities(store)
    notices = NotificationActivities(notifications or LogNotificationSink())
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[RectificationCaseWorkflow],
        activities=[event_log.append_events, notices.send_notification],
        activity_executor=ThreadPoolExecutor(ACTIVITY_THREADS, thread_name_prefix="activity"),
        max_concurrent_activities=ACTIVITY_THREADS,
        # Thousands of open cases cost memory only for the cached ones.
        max_cached_workflows=max_cached_workflows,
        workflow_runner=workflow_runner(),
    )


def worker_from_settings(
    client: Client,
    settings: Settings,
    engine: Engine,
    *,
    notifications: NotificationSink | None = None,
) -> Worker:
    """The worker of one process: the store on ``engine``, queue and cache size from Settings.

    Notices go to the log until a delivery channel exists.
    """
    return build_worker(
        client,
        EventStore(engine),
        task_queue=settings.task_queue,
        max_cached_workflows=settings.max_cached_workflows,
        notifications=notifications,
    )
