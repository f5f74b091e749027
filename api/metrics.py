"""/metrics (Prometheus), /livez and /readyz: what operators and orchestrators scrape.

Every request of the app, the API's and the console's (``/console/...``, a mounted app)
alike, is counted and timed by route template (``/api/v1/cases/{case_id}``,
``/console/cases/{case_id}``, not one series per case), method and status code
(prometheus-fastapi-instrumentator). The labels stay bounded whatever clients send:
a path that is no route (a 404, a trailing-slash redirect) is ``handler="none"``, the
console's static files are one ``/console/static``, and a method outside HTTP's usual
ones is ``method="other"``. Only /metrics, /livez and /readyz are not counted. The open cases by
traffic light and escalation level are counted from the case summary when scraped, at
most once per ``metrics_cache_seconds``. Each app has its own registry, so several apps
in one process (tests) do not share series.

/livez answers while the process serves HTTP; /readyz is 200 only while the database
and Temporal answer (a load balancer sends no traffic to an API that would answer 503).
None of the three needs a token: expose them on the internal network only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus

from fastapi import APIRouter, FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator, metrics

from api.deps import AppServices
from application.models import HealthOut
from application.services import Services
from application.status import open_cases_by_light_and_level, readiness

__all__ = ["install_metrics"]

# Seconds; a command waits on its workflow, so the buckets reach well past a read's.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 15, 30)
NOT_COUNTED = ["^/metrics$", "^/livez$", "^/readyz$"]  # regular expressions
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNROUTED = "none"
REDIRECTS = frozenset(
    {str(HTTPStatus.TEMPORARY_REDIRECT.value), str(HTTPStatus.PERMANENT_REDIRECT.value)}
)


def bounded_labels(record: Callable[[metrics.Info], None]) -> Callable[[metrics.Info], None]:
    """``record`` with labels a client cannot multiply: any method is one of ``METHODS``
    or "other", and a trailing-slash redirect (which the instrumentator labels with the
    raw path, ``/api/v1/cases/abc/``) is ``handler="none"`` like any other path that is
    no route."""

    def bounded(info: metrics.Info) -> None:
        if info.method not in METHODS:
            info.method = "other"
        if info.modified_status in REDIRECTS and info.modified_handler == info.request.url.path:
            info.modified_handler = UNROUTED
        record(info)

    return bounded


class OpenCases(Collector):
    """``zhenggai_cases_open{light, escalation_level}``, from a count at most ``ttl`` old."""

    def __init__(self, count: Callable[[], list[tuple[str, int, int]]], ttl: float) -> None:
        self._count = count
        self._ttl = ttl
        self._at = -float("inf")
        self._rows: list[tuple[str, int, int]] = []
        self._ok = 0.0

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = time.monotonic()
        if now - self._at >= self._ttl:
            try:
                self._rows, self._ok = self._count(), 1.0
            except Exception:  # the database is away: say so, keep the last figures
                self._ok = 0.0
            self._at = now
        cases = GaugeMetricFamily(
            "zhenggai_cases_open",
            "Cases open or waiting for verification, by traffic light and escalation level "
            "(from the case summary).",
            labels=["light", "escalation_level"],
        )
        for light, level, n in self._rows:
            cases.add_metric([light, str(level)], n)
        yield cases
        yield GaugeMetricFamily(
            "zhenggai_cases_open_count_ok",
            "1 when the last count of open cases succeeded, 0 when the database did not answer.",
            value=self._ok,
        )


def install_metrics(app: FastAPI, services: Services, cache_seconds: float) -> None:
    registry = CollectorRegistry()
    for collector in (ProcessCollector, PlatformCollector, GCCollector):
        collector(registry=registry)
    instrumentator = Instrumentator(
        should_group_status_codes=False,
        should_ignore_untemplated=False,  # counted, all made-up paths as one "none"
        should_group_untemplated=True,
        excluded_handlers=NOT_COUNTED,
        registry=registry,
    )
    default = metrics.default(
        metric_namespace="zhenggai",
        metric_subsystem="api",
        latency_highr_buckets=LATENCY_BUCKETS,
        latency_lowr_buckets=LATENCY_BUCKETS,  # the one by route (handler)
        registry=registry,
    )
    assert default is not None  # None only when its series exist in the registry already
    instrumentator.add(bounded_labels(default))
    instrumentator.instrument(app)
    registry.register(OpenCases(lambda: open_cases_by_light_and_level(services), cache_seconds))

    router = APIRouter(tags=["operations"], include_in_schema=False)

    @router.get("/metrics")
    async def prometheus_metrics() -> Response:
        body = await asyncio.to_thread(generate_latest, registry)  # the count may query
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @router.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", response_model=HealthOut)
    async def readyz(services: AppServices, response: Response) -> HealthOut:
        result = await readiness(services)
        if result.status != "ok":
            response.status_code = 503
        return result

    app.include_router(router)
