"""structlog, configured once per process.

JSON lines when stderr is not a terminal (what log collectors want), a readable
console renderer on a terminal. Context (request id, case id, workflow id) is
bound with ``structlog.contextvars`` where it is known and merged into every line.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

__all__ = ["configure_logging"]

NOISY_LIBRARIES = ("pgserver", "alembic", "httpx", "httpcore")


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written, not when logging was set up:
    a stream swapped in for a while (typer's CliRunner, an embedding program) and closed
    afterwards must not leave every later log line failing on a closed file."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: TextIO | None = None) -> None:
    out: TextIO = stream or _CurrentStderr()  # type: ignore[assignment]
    as_json = fmt == "json" or (fmt == "auto" and not out.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if as_json
        else structlog.dev.ConsoleRenderer()
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    # Route stdlib logging (uvicorn, temporalio, alembic) through the same renderer.
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(processor=renderer, foreign_pre_chain=shared)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own logging setup (when something started it with its default config)
    # gives its loggers their handlers and stops propagation: take them back.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        own = logging.getLogger(name)
        own.handlers.clear()
        own.propagate = True
    # Libraries that narrate routine steps at INFO; their warnings still show.
    if level != "DEBUG":
        for name in NOISY_LIBRARIES:
            logging.getLogger(name).setLevel(logging.WARNING)
