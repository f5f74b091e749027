"""`zhenggai up`: the whole system on one machine, supervised, stopped cleanly by Ctrl-C.

Order of start: PostgreSQL → migrations → Temporal → worker, projector,
notification dispatcher → API; stop runs it backwards. Each service that
DATABASE_URL or TEMPORAL_ADDRESS names is used instead of being started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

import httpx
import typer
from sqlalchemy import make_url

from cli.embedded_postgres import NoEmbeddedPostgres, start_embedded_postgres
from cli.messages import text
from cli.preflight import UsageProblem, require_port, writable_dir
from cli.settings import Settings
from cli.temporal_dev import TemporalDevServer, wait_for_temporal
from store.engine import check_reachable, make_engine
from store.errors import DatabaseUnreachable
from store.migrate import upgrade

__all__ = ["run_up"]

HEALTH_TIMEOUT_S = 60.0


def migrate_database(url: str, language: str) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        check_reachable(engine)
        upgrade(engine)
    except DatabaseUnreachable as exc:
        raise UsageProblem(
            text("database_unreachable", language, url=_redact(url), reason=exc)
        ) from exc
    finally:
        engine.dispose()


def _redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


class _Child:
    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "cli", *args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def run_up(settings: Settings, data_dir: Path) -> int:
    lang = settings.language
    data_dir = writable_dir(data_dir, lang)
    logs = writable_dir(data_dir / "logs", lang)
    require_port(settings.api_host, settings.api_port, "API", "ZHENGGAI_API_PORT", lang)
    if settings.temporal_address is None:
        require_port(
            "127.0.0.1", settings.temporal_port, "Temporal", "ZHENGGAI_TEMPORAL_PORT", lang
        )
        require_port(
            "127.0.0.1", settings.temporal_ui_port, "Temporal UI", "ZHENGGAI_TEMPORAL_UI_PORT", lang
        )

    stop_requested = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    typer.echo(text("starting", lang, path=data_dir))
    with ExitStack() as running:
        running.callback(lambda: typer.echo(text("stopped", lang, path=data_dir)))
        database_url = settings.database_url
        if database_url is None:
            try:
                postgres = start_embedded_postgres(data_dir / "pg")
            except NoEmbeddedPostgres as exc:
                raise UsageProblem(text("pgserver_missing", lang)) from exc
            running.callback(postgres.stop)
            database_url = postgres.url
            typer.echo(text("pg_embedded", lang))
        else:
            typer.echo(text("pg_external", lang))
        migrate_database(database_url, lang)
        typer.echo(text("migrated", lang))

        temporal_address = settings.temporal_address
        ui_url: str | None = None
        if temporal_address is None:
            server = TemporalDevServer(
                data_dir, settings.temporal_port, settings.temporal_ui_port, logs / "temporal.log"
            )
            running.callback(server.stop)
            reason = wait_for_temporal(server.address, process=server.process)
            if reason is not None:
                raise UsageProblem(
                    text("temporal_failed", lang, reason=reason, log=server.log_path)
                )
            temporal_address, ui_url = server.address, server.ui_url
            typer.echo(text("temporal_embedded", lang, path=server.database))
        else:
            reason = wait_for_temporal(temporal_address, timeout=5)
            if reason is not None:
                raise UsageProblem(
                    text("temporal_unreachable", lang, address=temporal_address, reason=reason)
                )
            typer.echo(text("temporal_external", lang, address=temporal_address))

        env = {**os.environ, "DATABASE_URL": database_url, "TEMPORAL_ADDRESS": temporal_address}
        children = [
            _Child("worker", ["worker"], env, logs / "worker.log"),
            _Child("projector", ["projector"], env, logs / "projector.log"),
            _Child("dispatcher", ["dispatcher"], env, logs / "dispatcher.log"),
            _Child(
                "api",
                ["api", "--host", settings.api_host, "--port", str(settings.api_port)],
                env,
                logs / "api.log",
            ),
        ]
        for child in children:  # stopped in reverse: the API first, the worker last
            running.callback(child.stop)

        api_url = f"http://{settings.api_host}:{settings.api_port}"
        failed = _wait_until_healthy(api_url, children, stop_requested)
        if failed is None and not stop_requested.is_set():
            typer.echo(text("ready", lang))
            typer.echo(text("url_api", lang, url=f"{api_url}/api/v1"))
            typer.echo(text("url_docs", lang, url=f"{api_url}/docs"))
            if ui_url:
                typer.echo(text("url_temporal_ui", lang, url=ui_url))
            typer.echo(text("stop_hint", lang), nl=True)
            failed = _supervise(children, stop_requested)
        if failed is not None:
            code = failed.process.returncode
            typer.echo(text("child_failed", lang, name=failed.name, code=code, log=failed.log_path))
        typer.echo(text("stopping", lang))
    for sig, handler in previous.items():
        signal.signal(sig, handler)
    return 1 if failed is not None else 0


def _first_dead(children: list[_Child]) -> _Child | None:
    return next((c for c in children if c.process.poll() is not None), None)


def _supervise(children: list[_Child], stop: threading.Event) -> _Child | None:
    while not stop.wait(0.5):
        dead = _first_dead(children)
        if dead is not None:
            return dead
    return None


def _wait_until_healthy(
    api_url: str, children: list[_Child], stop: threading.Event
) -> _Child | None:
    """Returns a child that died while starting, else None once /health answers 200."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline and not stop.is_set():
        dead = _first_dead(children)
        if dead is not None:
            return dead
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return None
        except httpx.HTTPError:
            pass
        stop.wait(0.3)
    return None
