"""Builds the FastAPI app from Settings (or from parts handed in by tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.console import PREFIX as CONSOLE_PREFIX
from api.console import console_app
from api.docs_pages import install_docs
from api.metrics import install_metrics
from api.openapi import install_openapi
from api.problems import install_problem_handlers
from api.request_ids import RequestIdMiddleware
from api.routes import (
    archive,
    board,
    case_list,
    case_page,
    cases,
    commands,
    directory,
    duplicates,
    evidence,
    findings,
    health,
    ledgers,
    notifications,
    projections,
)
from api.tracing import telemetry_config
from application.services import Services
from application.temporal_gateway import TemporalGateway
from domain.policy import PolicyBook
from settings import Settings
from settings.policy_file import policy_book
from settings.tracing import Tracing, start_tracing
from store.directory import Directory
from store.engine import make_engine
from store.event_store import EventStore
from store.evidence import EvidenceFiles
from store.idempotency import IdempotencyKeys
from store.tokens import Tokens

__all__ = ["create_app"]

API_PREFIX = "/api/v1"
API_DESCRIPTION = """\
Every call but `/health` needs `Authorization: Bearer <token>` (`zhenggai token create`).
A supervisor or inspector works on their unit's subtree, a unit user on their own unit;
a case outside your scope answers 404. Errors are RFC 9457 `application/problem+json`
with a stable `code`, `message_zh` and `message_en`. POSTs accept an `Idempotency-Key`.
"""


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    temporal_client: Client | None = None,
    policy: PolicyBook | None = None,
    tracing: Tracing | None = None,
) -> FastAPI:
    """``policy``: the rules new cases open under; None reads ``settings.policy_file``
    (``settings.policy_file.PolicyFileError`` when it cannot be used) or takes the defaults.
    ``tracing``: None starts the process's tracing when ``settings.otel_endpoint`` asks
    for it (settings.tracing); a ``temporal_client`` handed in brings its own interceptors."""
    owns_engine = engine is None
    owns_tracing = tracing is None
    tracing = tracing if tracing is not None else start_tracing(settings, "api")
    book = policy if policy is not None else policy_book(settings.policy_file, settings.language)
    engine = engine or make_engine(settings.require_database_url())

    async def connect() -> Client:
        return await Client.connect(
            settings.temporal_target,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
            interceptors=tracing.temporal_interceptors() if tracing is not None else [],
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_engine:
            engine.dispose()
        if owns_tracing and tracing is not None:
            tracing.shutdown()  # the spans still in the batch go out

    app = FastAPI(
        title="zhenggai 整改",
        description=API_DESCRIPTION,
        summary="Rectification of assessment findings: cases, deadlines, escalation, archive.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by api.docs_pages, without a CDN
        redoc_url=None,
        telemetry=telemetry_config(tracing),  # off unless ZHENGGAI_OTEL_ENDPOINT is set
    )
    app.state.settings = settings
    # What every use case works with (application.services); the routes reach it through
    # api.deps and nothing else of the app's state.
    app.state.services = Services(
        settings=settings,
        policy=book,
        store=EventStore(engine),
        directory=Directory(engine),
        keys=IdempotencyKeys(engine),
        evidence=EvidenceFiles(engine),
        tokens=Tokens(engine),
        temporal=TemporalGateway(connect, temporal_client),
    )
    app.add_middleware(RequestIdMiddleware)
    install_problem_handlers(app)
    install_openapi(app)
    install_docs(app)

    v1 = APIRouter(prefix=API_PREFIX)
    v1.include_router(duplicates.router)  # GET /findings/similar (减负)
    v1.include_router(findings.router)
    v1.include_router(case_list.router)
    v1.include_router(board.router)
    v1.include_router(cases.router)
    v1.include_router(commands.router)
    v1.include_router(evidence.router)
    v1.include_router(directory.router)
    v1.include_router(archive.router)
    v1.include_router(health.router)
    v1.include_router(projections.router)
    v1.include_router(notifications.router)
    v1.include_router(ledgers.router)
    app.include_router(v1)
    app.include_router(health.router)  # /health at the root too, for load balancers
    app.include_router(case_page.router)  # /cases/{id}: the page a notice links to
    # The web console (工作台): server-rendered pages at /console/ over the same use cases.
    app.mount(CONSOLE_PREFIX, console_app(app.state.services))
    # Operations: /metrics (Prometheus), /livez, /readyz; see api/metrics.py.
    install_metrics(app, app.state.services, settings.metrics_cache_seconds)
    return app
