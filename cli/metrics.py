"""Prometheus endpoints of the projector and the dispatcher, each on its own port.

Figures are computed when scraped (at most once per ``ttl`` seconds; a query that
fails leaves the last figures and sets ``…_scrape_ok`` to 0). The worker's metrics are
the Temporal SDK's (``worker.metrics_runtime``); the API serves its own /metrics.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, GCCollector, ProcessCollector, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from store.outbox_counts import oldest_due_seconds, outbox_counts
from store.projections.lag import projection_lag

__all__ = ["DispatcherMetrics", "ProjectorMetrics", "serve_metrics"]


class _Cached(Collector):
    prefix = ""

    def __init__(self, engine: Engine, ttl: float = 5.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._at = -float("inf")
        self._figures: Any = None
        self._ok = 0.0
        self._lock = threading.Lock()

    def measure(self, engine: Engine) -> Any:
        raise NotImplementedError

    def families(self, figures: Any) -> Iterable[GaugeMetricFamily]:
        raise NotImplementedError

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            now = time.monotonic()
            if now - self._at >= self._ttl:
                try:
                    self._figures, self._ok = self.measure(self._engine), 1.0
                except Exception:  # the database is away; the next scrape tries again
                    self._ok = 0.0
                self._at = now
            figures, ok = self._figures, self._ok
        if figures is not None:
            yield from self.families(figures)
        yield GaugeMetricFamily(
            f"{self.prefix}_scrape_ok", "1 when the figures were read from the database.", ok
        )


class ProjectorMetrics(_Cached):
    prefix = "zhenggai_projector"

    def measure(self, engine: Engine) -> Any:
        return projection_lag(engine)

    def families(self, figures: Any) -> Iterable[GaugeMetricFamily]:
        behind = GaugeMetricFamily(
            "zhenggai_projection_events_behind",
            "Events appended after the projection's checkpoint (capped at 1,000,000).",
            labels=["projection"],
        )
        position = GaugeMetricFamily(
            "zhenggai_projection_checkpoint_position",
            "Log position of the projection's checkpoint (0: not started).",
            labels=["projection"],
        )
        head = 0
        for lag in figures:
            behind.add_metric([lag.name], lag.events_behind)
            position.add_metric([lag.name], lag.checkpoint_position)
            head = lag.head_position
        yield behind
        yield position
        yield GaugeMetricFamily(
            "zhenggai_event_log_head_position", "Position of the newest event in the log.", head
        )


class DispatcherMetrics(_Cached):
    prefix = "zhenggai_dispatcher"

    def measure(self, engine: Engine) -> Any:
        return outbox_counts(engine), oldest_due_seconds(engine)

    def families(self, figures: Any) -> Iterable[GaugeMetricFamily]:
        counts, oldest = figures
        rows = GaugeMetricFamily(
            "zhenggai_outbox_rows",
            "Notification outbox rows by status (pending, sent = delivered, dead, cancelled) "
            "and channel.",
            labels=["status", "channel"],
        )
        for status, channel, n in counts:
            rows.add_metric([status, channel], n)
        yield rows
        yield GaugeMetricFamily(
            "zhenggai_outbox_oldest_due_seconds",
            "How long the oldest pending row has been due (0: nothing is waiting).",
            oldest,
        )


def serve_metrics(
    host: str, port: int | None, make: Callable[[CollectorRegistry], None]
) -> CollectorRegistry | None:
    """Serve a registry filled by ``make`` on ``host:port`` (a daemon thread); None: off."""
    if port is None:
        return None
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    GCCollector(registry=registry)
    make(registry)
    start_http_server(port, addr=host, registry=registry)
    structlog.get_logger("metrics").info("metrics_serving", address=f"{host}:{port}")
    return registry
