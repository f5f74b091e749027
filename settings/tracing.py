"""OpenTelemetry traces of one process, when ``ZHENGGAI_OTEL_ENDPOINT`` is set.

On, a request's trace runs from the API (FastAPI's own server span, with the route
template and the status code) through the Temporal calls it makes (Temporal's
``TracingInterceptor`` on the client, whose workers inherit it; see
settings.tracing_temporal) into the case workflow (the command's update, validated
and handled) and the activity that appends the events: one trace id across the API
and the worker, carried in Temporal's headers.

Off (the default), ``start_tracing`` returns None and nothing here imports the
OpenTelemetry SDK, the OTLP exporter or Temporal's interceptor: no tracer provider is
installed, FastAPI's telemetry is switched off and the Temporal client has no
interceptor, so a request costs what it cost before.

Spans leave by OTLP over HTTP in batches (a collector that is down costs dropped spans,
logged by the SDK, never a failed request). The exporter's standard variables
(``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_EXPORTER_OTLP_CERTIFICATE``, …) are read by
the exporter itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from settings.process import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from temporalio.client import Interceptor

__all__ = ["Tracing", "start_tracing", "traces_url"]

TRACES_PATH = "/v1/traces"
TRACER_NAME = "zhenggai"


@dataclass(frozen=True)
class Tracing:
    """The tracer provider of this process, and what each door needs of it."""

    provider: TracerProvider

    def temporal_interceptors(self) -> list[Interceptor]:
        """For ``Client.connect(interceptors=…)``; a worker built on that client traces
        its workflows and activities with the same interceptor."""
        from settings.tracing_temporal import CaseTracingInterceptor

        return [CaseTracingInterceptor(self.provider.get_tracer(TRACER_NAME))]

    def shutdown(self) -> None:
        """Sends the spans still in the batch, then stops (at the end of the process)."""
        self.provider.shutdown()


def traces_url(endpoint: str) -> str:
    """``http://collector:4318`` → ``http://collector:4318/v1/traces``; a URL that names a
    path is taken as it is."""
    if urlsplit(endpoint).path.strip("/"):
        return endpoint
    return endpoint.rstrip("/") + TRACES_PATH


def start_tracing(
    settings: Settings,
    process: str,
    *,
    exporter: SpanExporter | None = None,
    install: bool = True,
) -> Tracing | None:
    """The tracing of process ``process`` ("api", "worker"), or None when it is off.

    ``exporter``: where spans go instead of the OTLP receiver, sent one by one (tests
    pass an in-memory exporter). ``install``: also make it the process's global tracer
    provider, so a library that traces through the OpenTelemetry API joins the trace
    (a test process, which builds several, passes False).
    """
    if settings.otel_endpoint is None:
        return None
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    resource = Resource.create(
        {
            "service.name": settings.otel_service_name or f"zhenggai-{process}",
            "service.namespace": "zhenggai",
            "zhenggai.process": process,
        }
    )
    provider = TracerProvider(
        resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.otel_sample_ratio))
    )
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        otlp = OTLPSpanExporter(endpoint=traces_url(settings.otel_endpoint))
        provider.add_span_processor(BatchSpanProcessor(otlp))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    if install:
        trace.set_tracer_provider(provider)
    return Tracing(provider)
