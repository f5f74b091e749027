"""The API's part of the traces (settings.tracing): FastAPI's own server spans."""

from __future__ import annotations

from fastapi.telemetry import TelemetryConfig

from settings.tracing import Tracing

__all__ = ["telemetry_config"]


def telemetry_config(tracing: Tracing | None) -> TelemetryConfig:
    """``FastAPI(telemetry=…)``: a server span per request (route template, status code,
    and spans of its dependencies and endpoint) from this provider when tracing is on;
    nothing at all when it is off, not even from a provider a library installed. Request
    metrics stay with Prometheus (api.metrics) and logs with structlog."""
    if tracing is None:
        return TelemetryConfig(tracing=False, metrics=False, logs=False, auto_configure=False)
    return TelemetryConfig(
        tracing=True,
        tracer_provider=tracing.provider,
        metrics=False,
        logs=False,
        auto_configure=False,
    )
