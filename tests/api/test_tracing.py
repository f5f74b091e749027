"""OpenTelemetry traces (settings.tracing): on, one command is one trace from the API's
request through the workflow's update to the activity that appends its events; off,
nothing of the SDK is loaded and no tracer provider is installed."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from settings import Settings
from settings.tracing import start_tracing, traces_url
from store.event_store import EventStore
from tests.api.conftest import Stack, open_case
from worker import build_worker

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def traced(
    dev_server_env: WorkflowEnvironment, engine: Engine, database_url: str, tokens: dict[str, str]
) -> AsyncIterator[tuple[Stack, InMemorySpanExporter]]:
    """The stack of tests/api with tracing on, its spans kept in memory (the provider is
    this test's own: the process's global one is left alone)."""
    queue = f"tq-{uuid.uuid4()}"
    settings = Settings(
        database_url=database_url, task_queue=queue, otel_endpoint="http://127.0.0.1:4318"
    )
    exporter = InMemorySpanExporter()
    tracing = start_tracing(settings, "test", exporter=exporter, install=False)
    assert tracing is not None
    # The client as the API and the worker make it: with the tracing interceptor.
    config = dev_server_env.client.config()
    config["interceptors"] = tracing.temporal_interceptors()
    client = Client(**config)
    app = create_app(settings, engine=engine, temporal_client=client, tracing=tracing)
    try:
        async with build_worker(
            client, EventStore(engine), task_queue=queue, max_cached_workflows=10
        ):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield Stack(app, http, tokens, engine), exporter
    finally:
        tracing.shutdown()


def _by_name(spans: tuple[ReadableSpan, ...], prefix: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name.startswith(prefix)]


async def test_a_command_is_one_trace_from_the_request_to_the_append_activity(
    traced: tuple[Stack, InMemorySpanExporter],
) -> None:
    stack, exporter = traced
    case_id = await open_case(stack, "污水管网破损未修复", 30)
    exporter.clear()

    plan = await stack.client.post(
        f"/api/v1/cases/{case_id}/plan", json={"plan": "分三步整改"}, headers=stack.auth("unit")
    )
    assert plan.status_code == 200, plan.text
    spans = exporter.get_finished_spans()

    # The API's server span, named by route template with its status code.
    [request] = [s for s in spans if s.kind is SpanKind.SERVER and s.name.startswith("POST")]
    assert request.name == "POST /api/v1/cases/{case_id}/plan"
    assert request.attributes is not None
    assert request.attributes["http.route"] == "/api/v1/cases/{case_id}/plan"
    assert request.attributes["http.response.status_code"] == 200
    assert case_id not in request.name
    trace_id = request.context.trace_id

    # The update the API sent, the workflow's validation and handling of it, the
    # activity it scheduled and the activity's run: all in the request's trace.
    update = _by_name(spans, "StartWorkflowUpdate:submit_plan")
    validated = _by_name(spans, "ValidateUpdate:submit_plan")
    handled = _by_name(spans, "HandleUpdate:submit_plan")
    scheduled = _by_name(spans, "StartActivity:append_events")
    appended = _by_name(spans, "RunActivity:append_events")
    for found in (update, validated, handled, scheduled, appended):
        assert found, sorted(s.name for s in spans)
        assert {s.context.trace_id for s in found} == {trace_id}, sorted(s.name for s in spans)

    # Each hangs under the one before it: request → update → handling and the activity
    # it scheduled (Temporal's workflow spans are instants: siblings under the update)
    # → the activity's run.
    def parent_of(span: ReadableSpan) -> int | None:
        return None if span.parent is None else span.parent.span_id

    assert parent_of(handled[0]) == update[0].context.span_id
    assert parent_of(scheduled[0]) in {update[0].context.span_id, handled[0].context.span_id}
    assert parent_of(appended[0]) == scheduled[0].context.span_id
    # The handling links back to the workflow's own trace (the request that opened it).
    assert [link.context.trace_id != trace_id for link in handled[0].links] == [True]
    assert appended[0].attributes is not None
    assert appended[0].attributes["temporalWorkflowID"] == f"case-{case_id}"
    service = {s.resource.attributes["service.name"] for s in spans}
    assert service == {"zhenggai-test"}


async def test_a_console_page_has_its_route_template_in_its_span(
    traced: tuple[Stack, InMemorySpanExporter],
) -> None:
    stack, exporter = traced
    exporter.clear()
    page = await stack.client.get("/console/login")
    assert page.status_code == 200
    [span] = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/console/login"
    assert span.attributes["http.response.status_code"] == 200


def test_the_otlp_endpoint_gets_the_traces_path_unless_it_names_one() -> None:
    assert traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert traces_url("https://otel.example/custom/v1/traces") == (
        "https://otel.example/custom/v1/traces"
    )


def test_an_endpoint_that_is_no_http_url_is_refused() -> None:
    with pytest.raises(ValueError, match="ZHENGGAI_OTEL_ENDPOINT"):
        Settings(otel_endpoint="collector:4317")


OFF = """
import sys
import opentelemetry.trace as trace
from api.main import create_app
from settings import Settings
from settings.tracing import start_tracing
from worker import connect_temporal

settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none")
assert start_tracing(settings, "worker") is None
app = create_app(settings)
loaded = sorted(
    name for name in sys.modules
    if name.startswith(("opentelemetry.sdk", "opentelemetry.exporter",
                        "temporalio.contrib.opentelemetry"))
)
print("loaded:", loaded)
print("provider:", type(trace.get_tracer_provider()).__name__)
print("fastapi tracing:", app._native_telemetry.enabled())
"""


def test_with_tracing_off_nothing_is_loaded_and_no_provider_is_installed() -> None:
    """In a fresh interpreter, as a process starts: the API and the worker's wiring
    built with the default settings."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(OFF)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stdout, done.stdout
    assert "provider: ProxyTracerProvider" in done.stdout, done.stdout
    assert "fastapi tracing: False" in done.stdout, done.stdout


class _Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver on loopback: keeps what it is sent."""

    received: ClassVar[list[tuple[str, str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


async def test_spans_leave_by_otlp_over_http_to_the_endpoint() -> None:
    """The production path: the app starts its own tracing from the settings, batches the
    spans and sends them to ZHENGGAI_OTEL_ENDPOINT when it stops."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Collector.received.clear()
    try:
        settings = Settings(
            database_url="postgresql://nobody@127.0.0.1:1/none",  # not reached by this page
            otel_endpoint=f"http://127.0.0.1:{server.server_address[1]}",
            otel_service_name="zhenggai-api-test",
        )
        tracing = start_tracing(settings, "api", install=False)
        assert tracing is not None
        app = create_app(settings, tracing=tracing)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/console/login")).status_code == 200
        await asyncio.to_thread(tracing.shutdown)  # flushes the batch
    finally:
        server.shutdown()
        server.server_close()

    [(path, content_type, body)] = _Collector.received
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    sent = ExportTraceServiceRequest.FromString(body)
    [resource] = sent.resource_spans
    service = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert service["service.name"] == "zhenggai-api-test"
    names = {span.name for scope in resource.scope_spans for span in scope.spans}
    assert "GET /console/login" in names, names
