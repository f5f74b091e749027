"""The `zhenggai` command: `up` for one machine, `migrate`/`worker`/`api` for production.

Every predictable failure (a port in use, a data dir that is not writable, an
unreachable service, missing settings) is one line on stderr and exit code 2.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from cli.accounts import account_app
from cli.audit import audit_app
from cli.backup import backup, restore
from cli.calendar import calendar_app
from cli.imports import import_findings
from cli.logs import configure_logging
from cli.messages import text
from cli.notifications import dispatcher, notifications_app
from cli.policy import policy_app
from cli.preflight import UsageProblem, exit_with, require_port
from cli.projections import archive_app, projections_app
from cli.projector import projector
from cli.tokens import token_app
from domain.policy import PolicyBook
from settings import Settings
from settings.policy_file import PolicyFileError

__all__ = ["app", "main"]

app = typer.Typer(
    name="zhenggai",
    help="整改 zhenggai: rectification of assessment findings, tracked until fixed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _settings(**overrides: Any) -> Settings:
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise exit_with(UsageProblem(text("settings_invalid", "zh-CN", reason=reasons))) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


DATA_DIR = "--data-dir"


@app.callback()
def _root(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            DATA_DIR,
            help="The data dir of `zhenggai up` (ZHENGGAI_DATA_DIR): commands find its"
            " running database there when DATABASE_URL is not set. Accepted after any"
            " command too.",
        ),
    ] = None,
) -> None:
    if data_dir is not None:
        os.environ["ZHENGGAI_DATA_DIR"] = str(data_dir)


def hoist_data_dir(argv: list[str]) -> list[str]:
    """``--data-dir D`` may follow any command; it is the root's option, so move it there."""
    rest: list[str] = []
    hoisted: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == DATA_DIR:
            hoisted = [DATA_DIR, next(args, "")]
        elif arg.startswith(f"{DATA_DIR}="):
            hoisted = [arg]
        else:
            rest.append(arg)
    return hoisted + rest


def _database_url(settings: Settings) -> str:
    from cli.database import resolve_database_url

    return resolve_database_url(settings)


@app.command()
def up(
    data_dir: Annotated[
        Path | None, typer.Option(help="Where PostgreSQL and Temporal keep their data.")
    ] = None,
) -> None:
    """Run the whole system on this machine (PostgreSQL, Temporal, worker, API)."""
    from cli.up import run_up

    settings = _settings(data_dir=data_dir)
    try:
        code = run_up(settings, settings.data_dir)
    except UsageProblem as problem:
        raise exit_with(problem) from None
    raise typer.Exit(code)


@app.command()
def migrate(
    logins: Annotated[
        Path | None,
        typer.Option(
            help='A JSON file of login name to password ({"zhenggai_api_login": "…", …}):'
            " after migrating, make or update the login of each process named in it"
            " (zhenggai_<process>_login, IN ROLE zhenggai_<process>; see deploy/README.md)."
        ),
    ] = None,
) -> None:
    """Apply the database migrations to DATABASE_URL (as the owner)."""
    from cli.up import migrate_database

    settings = _settings()
    url = _database_url(settings)
    try:
        migrate_database(url, settings.language)
    except UsageProblem as problem:
        raise exit_with(problem) from None
    typer.echo(text("migrated", settings.language))
    if logins is not None:
        _ensure_logins(url, logins)


def _ensure_logins(url: str, logins: Path) -> None:
    import json

    from store.roles import PROCESSES, ensure_process_logins, login_role

    try:
        named = json.loads(logins.read_text(encoding="utf-8"))
        if not isinstance(named, dict):
            raise ValueError("not a JSON object")
        processes = [p for p in PROCESSES if login_role(p) in named]
        ensure_process_logins(url, logins, processes=processes)
    except (OSError, ValueError, LookupError, PermissionError) as exc:
        raise exit_with(UsageProblem(f"zhenggai migrate --logins {logins}: {exc}")) from None
    typer.echo("logins: " + ", ".join(login_role(p) for p in processes))


def _policy_at_start(settings: Settings) -> PolicyBook:
    """ZHENGGAI_POLICY_FILE read and checked: each problem on its own line, exit 2."""
    from worker import policy_at_start

    try:
        return policy_at_start(settings)
    except PolicyFileError as exc:
        for line in exc.lines:
            typer.echo(f"zhenggai: {line}", err=True)
        raise typer.Exit(2) from None


@app.command()
def worker() -> None:
    """Run the Temporal worker (DATABASE_URL, TEMPORAL_ADDRESS)."""
    settings = _settings()
    url = _database_url(settings)
    _policy_at_start(settings)
    try:
        asyncio.run(_run_worker(settings, url))
    except UsageProblem as problem:
        raise exit_with(problem) from None


async def _run_worker(settings: Settings, url: str) -> None:
    import structlog

    from cli.up import _redact
    from settings.tracing import start_tracing
    from store.engine import check_reachable, make_engine
    from store.errors import DatabaseUnreachable
    from worker import connect_temporal, metrics_runtime, worker_from_settings

    lang = settings.language
    engine = make_engine(url, pool_size=10)
    try:
        check_reachable(engine)
    except DatabaseUnreachable as exc:
        raise UsageProblem(
            text("database_unreachable", lang, url=_redact(url), reason=exc)
        ) from exc
    runtime = metrics_runtime(settings)  # Prometheus at ZHENGGAI_WORKER_METRICS_PORT
    tracing = start_tracing(settings, "worker")  # None unless ZHENGGAI_OTEL_ENDPOINT is set
    try:
        client = await asyncio.wait_for(
            connect_temporal(settings, runtime=runtime, tracing=tracing), timeout=10
        )
    except Exception as exc:
        raise UsageProblem(
            text("temporal_unreachable", lang, address=settings.temporal_target, reason=exc)
        ) from exc
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker_from_settings(client, settings, engine):
        structlog.get_logger("worker").info(
            text(
                "worker_running", lang, address=settings.temporal_target, queue=settings.task_queue
            )
        )
        await stop.wait()
    engine.dispose()
    if tracing is not None:
        tracing.shutdown()  # the spans still in the batch go out


@app.command()
def api(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the HTTP API (DATABASE_URL, TEMPORAL_ADDRESS)."""
    settings = _settings(api_host=host, api_port=port)
    _database_url(settings)
    policy = _policy_at_start(settings)
    try:
        require_port(
            settings.api_host, settings.api_port, "API", "ZHENGGAI_API_PORT", settings.language
        )
    except UsageProblem as problem:
        raise exit_with(problem) from None
    # Imported once the checks pass: a port in use fails in a moment, not after the app loads.
    import uvicorn

    from api.main import create_app

    uvicorn.run(
        create_app(settings, policy=policy),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,  # our structlog setup renders uvicorn's records
        access_log=False,  # the request-id middleware logs each request
    )


app.add_typer(token_app, name="token")
app.add_typer(account_app, name="account")
app.add_typer(projections_app, name="projections")
app.add_typer(archive_app, name="archive")  # deprecated alias of projections
app.add_typer(audit_app, name="audit")
app.add_typer(notifications_app, name="notifications")
app.add_typer(policy_app, name="policy")
app.add_typer(calendar_app, name="calendar")
app.command()(dispatcher)
app.command()(projector)
app.command("import")(import_findings)
app.command()(backup)
app.command()(restore)


@app.command("restore-drill")
def restore_drill_command(
    archive: Annotated[
        Path | None, typer.Argument(help="An archive made by zhenggai backup.")
    ] = None,
    restored_copy: Annotated[
        bool,
        typer.Option(
            "--restored-copy",
            help="Check the restored pair at DATABASE_URL and TEMPORAL_ADDRESS instead"
            " (production: both pg_dumps restored into scratch servers); refused while"
            " workers poll its task queue.",
        ),
    ] = False,
    into: Annotated[
        Path | None,
        typer.Option(help="Restore the archive here and keep it; default: a temporary dir."),
    ] = None,
    commands: Annotated[
        int, typer.Option(min=0, help="How many open cases get a test progress report.")
    ] = 3,
) -> None:
    """Restore a backup of both databases, start it, check that every case is intact."""
    from cli.restore_drill import restore_drill  # imports the worker: only when run

    restore_drill(archive, restored_copy, into, commands)


def main(argv: list[str] | None = None) -> None:
    app(args=hoist_data_dir(sys.argv[1:] if argv is None else argv), prog_name="zhenggai")
