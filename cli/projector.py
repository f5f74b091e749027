"""`zhenggai projector`: keep every read model following the event log.

One thread per projection, each holding its projection's advisory lock;
SIGINT or SIGTERM stops them after the batch in flight. `zhenggai up` runs it
as a child process (`python -m cli projector`), like the worker and the API.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import structlog
import typer

from cli.logs import configure_logging
from cli.preflight import UsageProblem, exit_with
from cli.projections_common import chosen_projections, database, load_settings
from cli.projections_messages import text
from store.projections.runner import run_projections

__all__ = ["projector"]


def projector(
    projection: Annotated[
        str | None,
        typer.Option("--projection", help="Run only this projection (default: all)."),
    ] = None,
) -> None:
    """Run the projections (case summary, unit board, cadre archive) until stopped."""
    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
        chosen = chosen_projections(projection, settings.language)
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, on_signal)
        with database(settings) as engine:
            from cli.metrics import ProjectorMetrics, serve_metrics

            serve_metrics(
                settings.metrics_host,
                settings.projector_metrics_port,
                lambda registry: registry.register(ProjectorMetrics(engine)),
            )
            names = ", ".join(p.name for p in chosen)
            structlog.get_logger("projector").info(
                text("projector_running", settings.language, names=names)
            )
            run_projections(engine, stop, [p.name for p in chosen])
    except UsageProblem as problem:
        raise exit_with(problem) from None
