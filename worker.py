"""Composition root of the worker process: Settings in, a running Temporal worker out."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import structlog
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.event_log import EventLogActivities
from activities.notifications import (
    LogNotificationSink,
    NotificationActivities,
    NotificationSink,
    OutboxNotificationSink,
)
from activities.outbox_dispatcher.config import DeliveryConfig, RetryPolicy, SmtpConfig
from activities.outbox_dispatcher.dispatcher import Dispatcher
from domain.policy import PolicyBook
from settings import Settings
from settings.policy_file import policy_book, provisional_warning
from settings.tracing import Tracing
from store.event_store import EventStore
from store.outbox import Outbox
from workflows.case_workflow import RectificationCaseWorkflow

__all__ = [
    "build_worker",
    "connect_temporal",
    "delivery_config",
    "dispatcher_from_settings",
    "metrics_runtime",
    "policy_at_start",
    "worker_from_settings",
    "workflow_runner",
]

ACTIVITY_THREADS = 16


async def connect_temporal(
    settings: Settings, *, runtime: Runtime | None = None, tracing: Tracing | None = None
) -> Client:
    """The worker's client. With ``tracing`` (settings.tracing) its interceptor traces the
    client's calls, and the worker built on it inherits it: each workflow task and
    activity joins the trace of the request that caused it."""
    return await Client.connect(
        settings.temporal_target,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        runtime=runtime,
        interceptors=tracing.temporal_interceptors() if tracing is not None else [],
    )


def metrics_runtime(settings: Settings) -> Runtime | None:
    """The Temporal SDK's runtime serving its Prometheus metrics (workflow and activity
    task latencies, failures, slots, sticky cache, polls) at
    ``metrics_host:worker_metrics_port``; None when that port is not set. One per process."""
    if settings.worker_metrics_port is None:
        return None
    host = settings.metrics_host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=f"{host}:{settings.worker_metrics_port}")
        )
    )


def policy_at_start(settings: Settings, today: date | None = None) -> PolicyBook:
    """The policy file read and checked at start (``settings.policy_file.PolicyFileError``, one
    line per problem, when it cannot be used), with a warning logged when a year within
    the next 60 days has no official calendar.

    Each case carries its rules in its workflow input (fixed when it opened), so the
    worker needs no policy to run cases; it reads the file so that a broken file or an
    unannounced year is noticed where the operator looks.
    """
    book = policy_book(settings.policy_file, settings.language)
    warning = provisional_warning(
        book, today or book.base.today(datetime.now(UTC)), settings.language
    )
    if warning is not None:
        structlog.get_logger("policy").warning(warning)
    return book


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

    Notices go into the notification outbox; ``dispatcher_from_settings`` delivers them.
    """
    store = EventStore(engine)
    return build_worker(
        client,
        store,
        task_queue=settings.task_queue,
        max_cached_workflows=settings.max_cached_workflows,
        notifications=notifications or OutboxNotificationSink(store),
    )


def delivery_config(settings: Settings) -> DeliveryConfig:
    """Delivery settings as plain values; ``ValueError`` names a setting that cannot work."""
    if settings.smtp_password is not None and not settings.smtp_username:
        raise ValueError("ZHENGGAI_SMTP_PASSWORD is set but ZHENGGAI_SMTP_USERNAME is not")
    if "@" not in settings.smtp_sender:
        raise ValueError(f"ZHENGGAI_SMTP_SENDER is not an email address: {settings.smtp_sender!r}")
    if not settings.public_base_url.startswith(("http://", "https://")):
        raise ValueError(
            f"ZHENGGAI_PUBLIC_BASE_URL must start with http:// or https://: "
            f"{settings.public_base_url!r}"
        )
    if settings.notification_backoff_cap_seconds < settings.notification_backoff_base_seconds:
        raise ValueError("ZHENGGAI_NOTIFICATION_BACKOFF_CAP_SECONDS is below the base")
    password = settings.smtp_password
    secret = settings.webhook_secret
    return DeliveryConfig(
        smtp=SmtpConfig(
            host=settings.smtp_host or None,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username or None,
            password=None if password is None else password.get_secret_value(),
            sender=settings.smtp_sender,
            timeout=settings.smtp_timeout_seconds,
        ),
        retry=RetryPolicy(
            max_attempts=settings.notification_max_attempts,
            backoff_base=settings.notification_backoff_base_seconds,
            backoff_cap=settings.notification_backoff_cap_seconds,
        ),
        language=settings.notification_language or settings.language,
        public_base_url=settings.public_base_url,
        webhook_secret=None if secret is None else secret.get_secret_value(),
        poll_seconds=settings.notification_poll_seconds,
        digest_hour=settings.notification_digest_hour,
    )


def dispatcher_from_settings(settings: Settings, engine: Engine) -> Dispatcher:
    """The outbox dispatcher of one process; run it with ``await dispatcher.run(stop)``."""
    return Dispatcher(Outbox(engine), EventStore(engine), delivery_config(settings))
