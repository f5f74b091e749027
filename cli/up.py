"""`zhenggai up`: the whole system on one machine, supervised, stopped cleanly by Ctrl-C.

Order of start: PostgreSQL → migrations → Temporal → worker, projector,
notification dispatcher → API; stop runs it backwards. Each service that
DATABASE_URL or TEMPORAL_ADDRESS names is used instead of being started.

A child that dies is restarted after a backoff; one that keeps crashing makes
`up` give up, stop everything and exit 1. `up` locks its data dir (`up.pid`,
which lists the processes it started): a second `up` there is refused, and
whatever a killed `up` left running is stopped by the next one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import httpx
import typer
from sqlalchemy import make_url

from cli.embedded_postgres import (
    NoEmbeddedPostgres,
    start_embedded_postgres,
    stop_orphan_postmaster,
)
from cli.messages import text
from cli.preflight import (
    Recorded,
    UpLock,
    UsageProblem,
    require_port,
    stop_leftovers,
    writable_dir,
)
from cli.temporal_dev import TemporalDevServer, stop_child, wait_for_temporal
from settings import Settings
from settings.policy_file import PolicyFileError, policy_book, provisional_warning
from store.engine import check_reachable, make_engine
from store.errors import DatabaseUnreachable
from store.migrate import upgrade
from store.roles import ensure_process_logins

__all__ = ["RestartPolicy", "migrate_database", "run_up"]

HEALTH_TIMEOUT_S = 60.0
POLL_S = 0.3


@dataclass(frozen=True)
class RestartPolicy:
    """Backoff doubling from ``first_delay`` up to ``max_delay``; give up at the
    ``max_crashes``-th crash within ``window`` seconds. A child that ran for
    ``stable_after`` seconds before dying starts counting afresh."""

    first_delay: float = 0.5
    max_delay: float = 10.0
    max_crashes: int = 5
    window: float = 60.0
    stable_after: float = 30.0


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
        self.args = args
        self.env = env
        self.log_path = log_path
        self.crashes: list[float] = []  # monotonic times of the recent crashes
        self.restart_at: float | None = None  # set while waiting out the backoff
        self.delay = 0.0
        self.last_code: int | None = None
        self.process = self._spawn()
        self.started_at = time.monotonic()

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            return subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "cli", *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches `up` alone, which stops us in order
            )

    def crashed(self, now: float, policy: RestartPolicy) -> bool:
        """Notes that the child died; False when it crashed too often to restart."""
        self.last_code = self.process.returncode
        if now - self.started_at >= policy.stable_after:
            self.crashes.clear()
        self.crashes = [t for t in self.crashes if now - t < policy.window]
        self.crashes.append(now)
        if len(self.crashes) >= policy.max_crashes:
            return False
        self.delay = min(policy.first_delay * 2 ** (len(self.crashes) - 1), policy.max_delay)
        self.restart_at = now + self.delay
        return True

    def current_pid(self) -> int:
        return self.process.pid

    def restart(self) -> None:
        self.restart_at = None
        self.process = self._spawn()
        self.started_at = time.monotonic()

    def stop(self) -> bool:
        self.restart_at = None
        return stop_child(self.process, timeout=20.0)


@dataclass
class _Started:
    """Something this `up` started, stopped in reverse order of start."""

    name: str
    pid: Callable[[], int]
    stop: Callable[[], bool]


def _child_env(
    name: str, base_env: dict[str, str], database_urls: dict[str, str]
) -> dict[str, str]:
    """The environment of child ``name``: the one place to give a child its own settings.

    On the embedded server each child connects as its own least-privilege login
    (``store.roles``); with DATABASE_URL the operator chose the roles.
    """
    env = dict(base_env)
    if name in database_urls:
        env["DATABASE_URL"] = database_urls[name]
    return env


def _check_policy(settings: Settings) -> None:
    """A bad policy file stops `up` before anything starts; a provisional year soon is said."""
    try:
        book = policy_book(settings.policy_file, settings.language)
    except PolicyFileError as exc:
        raise UsageProblem("\n".join(exc.lines)) from None
    warning = provisional_warning(book, book.base.today(datetime.now(UTC)), settings.language)
    if warning is not None:
        typer.echo(warning)


def run_up(settings: Settings, data_dir: Path, policy: RestartPolicy | None = None) -> int:
    lang = settings.language
    stop_requested = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()  # the supervisor stops everything in order, then returns

    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, on_signal) for sig in handled}
    try:
        data_dir = writable_dir(data_dir, lang)
        logs = writable_dir(data_dir / "logs", lang)
        lock = UpLock.acquire(data_dir, lang)  # before the port checks: a leftover may hold them
        try:
            _stop_leftovers(lock, data_dir, settings.database_url is None, lang)
            _require_ports(settings)
            if stop_requested.is_set():
                return 0
            return _run(settings, data_dir, logs, lock, policy or RestartPolicy(), stop_requested)
        finally:
            lock.release()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _require_ports(settings: Settings) -> None:
    lang = settings.language
    require_port(settings.api_host, settings.api_port, "API", "ZHENGGAI_API_PORT", lang)
    if settings.temporal_address is None:
        require_port(
            "127.0.0.1", settings.temporal_port, "Temporal", "ZHENGGAI_TEMPORAL_PORT", lang
        )
        require_port(
            "127.0.0.1", settings.temporal_ui_port, "Temporal UI", "ZHENGGAI_TEMPORAL_UI_PORT", lang
        )


def _stop_leftovers(lock: UpLock, data_dir: Path, embedded_pg: bool, language: str) -> None:
    """Stops what a killed `up` left running on this data dir, or says what it cannot."""
    stopped, stuck = stop_leftovers(lock.previous)
    if embedded_pg and (orphan := stop_orphan_postmaster(data_dir / "pg")) is not None:
        pid, gone = orphan
        (stopped if gone else stuck).append(Recorded("postgres", pid, ""))
    if stuck:
        for process in stuck:
            lock.carry(process)  # so that the next `up` tries again
        raise UsageProblem(text("stale_stuck", language, names=_names(stuck)))
    if stopped:
        typer.echo(text("stale_cleaned", language, names=_names(stopped)))


def _names(processes: list[Recorded]) -> str:
    return ", ".join(f"{p.name} ({p.pid})" for p in processes)


def _run(
    settings: Settings,
    data_dir: Path,
    logs: Path,
    lock: UpLock,
    policy: RestartPolicy,
    stop: threading.Event,
) -> int:
    lang = settings.language
    started: list[_Started] = []
    typer.echo(text("starting", lang, path=data_dir))
    try:
        code = _start_and_supervise(settings, data_dir, logs, lock, policy, started, stop)
    except BaseException:
        _stop_all(started, lock, lang, data_dir)
        raise
    return code if _stop_all(started, lock, lang, data_dir) else 1


def _stop_all(started: list[_Started], lock: UpLock, language: str, data_dir: Path) -> bool:
    """Stops everything in reverse order of start; says "stopped" only when all are gone."""
    typer.echo(text("stopping", language))
    left: list[Recorded] = []
    for part in reversed(started):
        if part.stop():
            lock.forget(part.name)
        else:
            left.append(Recorded(part.name, part.pid(), ""))
    if left:
        typer.echo(text("stop_incomplete", language, names=_names(left), path=data_dir))
        return False
    typer.echo(text("stopped", language, path=data_dir))
    return True


def _start_and_supervise(
    settings: Settings,
    data_dir: Path,
    logs: Path,
    lock: UpLock,
    policy: RestartPolicy,
    started: list[_Started],
    stop: threading.Event,
) -> int:
    lang = settings.language
    _check_policy(settings)
    database_url = settings.database_url
    if database_url is None:
        try:
            postgres = start_embedded_postgres(data_dir / "pg")
        except NoEmbeddedPostgres as exc:
            raise UsageProblem(text("pgserver_missing", lang)) from exc
        started.append(_Started("postgres", lambda: postgres.pid, postgres.stop))
        lock.record("postgres", postgres.pid)
        database_url = postgres.url
        typer.echo(text("pg_embedded", lang))
    else:
        typer.echo(text("pg_external", lang))
    migrate_database(database_url, lang)
    typer.echo(text("migrated", lang))
    database_urls: dict[str, str] = {}
    if settings.database_url is None:  # our embedded server: one login per child
        database_urls = ensure_process_logins(database_url, data_dir / "db-roles.json")
    if stop.is_set():
        return 0

    temporal_address = settings.temporal_address
    ui_url: str | None = None
    if temporal_address is None:
        server = TemporalDevServer(
            data_dir, settings.temporal_port, settings.temporal_ui_port, logs / "temporal.log"
        )
        started.append(_Started("temporal", lambda: server.process.pid, server.stop))
        lock.record("temporal", server.process.pid)
        reason = wait_for_temporal(server.address, process=server.process, stop=stop)
        if stop.is_set():
            return 0
        if reason is not None:
            raise UsageProblem(text("temporal_failed", lang, reason=reason, log=server.log_path))
        temporal_address, ui_url = server.address, server.ui_url
        typer.echo(text("temporal_embedded", lang, path=server.database))
    else:
        reason = wait_for_temporal(temporal_address, timeout=5)
        if reason is not None:
            raise UsageProblem(
                text("temporal_unreachable", lang, address=temporal_address, reason=reason)
            )
        typer.echo(text("temporal_external", lang, address=temporal_address))

    base_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_address,
        "ZHENGGAI_DATA_DIR": str(data_dir),  # also names the children as this data dir's
    }
    api_args = ["api", "--host", settings.api_host, "--port", str(settings.api_port)]
    children: list[_Child] = []
    for name, args in (
        ("worker", ["worker"]),
        ("projector", ["projector"]),
        ("dispatcher", ["dispatcher"]),
        ("api", api_args),
    ):
        child = _Child(name, args, _child_env(name, base_env, database_urls), logs / f"{name}.log")
        children.append(child)
        started.append(_Started(name, child.current_pid, child.stop))
        lock.record(name, child.process.pid)

    api_url = f"http://{settings.api_host}:{settings.api_port}"
    ready = False
    health_deadline: float | None = time.monotonic() + HEALTH_TIMEOUT_S
    while not stop.is_set():
        gave_up = _tend(children, lock, lang, policy)
        if gave_up is not None:
            typer.echo(
                text(
                    "child_gave_up",
                    lang,
                    name=gave_up.name,
                    count=len(gave_up.crashes),
                    window=policy.window,
                    code=gave_up.last_code,
                    log=gave_up.log_path,
                )
            )
            return 1
        if not ready and _healthy(api_url):
            ready = True
            typer.echo(text("ready", lang))
            typer.echo(text("url_console", lang, url=f"{api_url}/console/"))
            typer.echo(text("url_api", lang, url=f"{api_url}/api/v1"))
            typer.echo(text("url_docs", lang, url=f"{api_url}/docs"))
            if ui_url:
                typer.echo(text("url_temporal_ui", lang, url=ui_url))
            typer.echo(text("stop_hint", lang))
        elif not ready and health_deadline is not None and time.monotonic() > health_deadline:
            health_deadline = None  # said once; keep waiting, the API may still come
            typer.echo(
                text("api_not_healthy", lang, seconds=HEALTH_TIMEOUT_S, log=logs / "api.log")
            )
        stop.wait(POLL_S)
    return 0


def _tend(
    children: list[_Child], lock: UpLock, language: str, policy: RestartPolicy
) -> _Child | None:
    """Restarts the children whose backoff is over; returns one that crashed too often."""
    now = time.monotonic()
    for child in children:
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.restart()
                lock.record(child.name, child.process.pid)
                typer.echo(
                    text(
                        "child_restarted",
                        language,
                        name=child.name,
                        code=child.last_code,
                        delay=child.delay,
                        pid=child.process.pid,
                        count=len(child.crashes),
                        window=policy.window,
                        log=child.log_path,
                    )
                )
        elif child.process.poll() is not None and not child.crashed(now, policy):
            return child
    return None


def _healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
