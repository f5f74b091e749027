"""`zhenggai restore-drill FILE`: restore a backup of both databases into a scratch data
dir, start it, and prove the cases came back whole.

    ZHENGGAI_AUDIT_KEY=… zhenggai restore-drill backup.tar.gz [--into DIR] [--commands N]

FILE is an archive of `zhenggai backup` (cli.backup). The drill unpacks it into a new
data dir (a temporary one, removed afterwards, unless ``--into``), starts its
PostgreSQL and its Temporal dev server on free ports (nothing of the live system is
touched), migrates (as `up` would), and checks:

1. the event log: ``zhenggai audit verify`` (every hash, link, stream head and seal,
   against the restored witness file) exits 0;
2. the read models: ``zhenggai projections check`` (each equals a replay of the log)
   exits 0;
3. Temporal's state against the log: every case the log holds as open or awaiting
   verification has a running workflow; every running case workflow has its stream,
   and (replayed by a worker of this code, with notices only logged) answers its state
   query at the version its stream has in the log. That is the pairing a restore from
   two different moments breaks: the next append of such a case would fail;
4. commands: up to ``--commands`` open cases take a progress report (报送进展, by their
   responsible unit, through the case's update as the API sends it), each appended at
   the next version.

Exit 0 when all of it held, 1 when something did not (each problem printed), 2 for bad
input. No notice is sent: the drill runs no dispatcher and its worker only logs them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import typer
from sqlalchemy import Engine, text
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

from application.errors import Refusal
from application.temporal_gateway import TemporalGateway
from application.workflow_calls import send_command
from cli.backup import unpack
from cli.database import resolve_database_url
from cli.embedded_postgres import EmbeddedPostgres, start_embedded_postgres
from cli.logs import configure_logging
from cli.preflight import UsageProblem, exit_with
from cli.projections_common import load_settings
from cli.temporal_dev import TemporalDevServer, wait_for_temporal
from cli.up import migrate_database
from domain.case import fold
from domain.commands import ReportProgress
from domain.events import event_class
from domain.state import CaseState
from domain.vocabulary import Actor, CaseStatus, Role
from settings import Settings
from store.engine import make_engine
from store.event_store import EventStore
from worker import build_worker
from workflows.case_workflow import RectificationCaseWorkflow
from workflows.models import RequestContext

__all__ = ["restore_drill"]

MUST_RUN = (CaseStatus.OPEN, CaseStatus.CLOSURE_PENDING)
ANSWER_S = 30.0
DRILL_USER = "restore-drill"


@dataclass
class Findings:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def ok(self, line: str) -> None:
        self.lines.append(line)
        typer.echo(f"  ok    {line}")

    def problem(self, line: str) -> None:
        self.problems.append(line)
        typer.echo(f"  FAIL  {line}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _command_env(url: str, data_dir: Path) -> dict[str, str]:
    """The environment of `audit verify` and `projections check` on the restored copy."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_URL_FILE")}
    env.update(DATABASE_URL=url, ZHENGGAI_DATA_DIR=str(data_dir), ZHENGGAI_LANGUAGE="en")
    witness = data_dir / "audit" / "witness.jsonl"
    for name in ("ZHENGGAI_AUDIT_WITNESS_FILE", "ZHENGGAI_AUDIT_WITNESS_FILE_FILE"):
        env.pop(name, None)
    if witness.is_file():  # the restored one: the seals this copy's log should hold
        env["ZHENGGAI_AUDIT_WITNESS_FILE"] = str(witness)
    return env


def _run_command(label: str, args: list[str], env: dict[str, str], found: Findings) -> None:
    done = _cli(args, env)
    output = (done.stdout + done.stderr).strip()
    said = [line.strip() for line in output.splitlines() if line.strip() and "━" not in line]
    if done.returncode == 0:
        found.ok(f"{label}: {'; '.join(said)}")
    else:
        found.problem(f"{label}: exit {done.returncode}\n{output}")


def _case_streams(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT stream_id, version FROM streams WHERE type = 'case' ORDER BY stream_id")
        ).all()
    return {str(stream): int(version) for stream, version in rows}


def _logged_state(store: EventStore, stream_id: str) -> CaseState | None:
    recorded = store.read_stream(stream_id)
    return fold(event_class(e.type).model_validate(e.data) for e in recorded)


async def _workflows(
    settings: Settings, url: str, address: str, commands: int, found: Findings
) -> None:
    engine = make_engine(url, pool_size=4)
    store = EventStore(engine)
    try:
        client = await Client.connect(
            address, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter
        )
        streams = _case_streams(engine)
        async with build_worker(
            client, store, task_queue=settings.task_queue, max_cached_workflows=100
        ):
            open_states = await _check_cases(client, store, streams, found)
            await _check_running_have_streams(client, store, found)
            await _try_commands(client, store, open_states[:commands], found)
    finally:
        engine.dispose()


async def _check_cases(
    client: Client, store: EventStore, streams: dict[str, int], found: Findings
) -> list[CaseState]:
    """Each case of the log against its workflow; returns the open ones that answered."""
    running = 0
    answering: list[CaseState] = []
    problems = len(found.problems)
    for stream_id in streams:
        logged = _logged_state(store, stream_id)
        must_run = logged is not None and logged.status in MUST_RUN
        handle = client.get_workflow_handle(stream_id)  # a case's workflow id is its stream id
        try:
            described = await asyncio.wait_for(handle.describe(), ANSWER_S)
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                if must_run:
                    found.problem(f"{stream_id}: open in the log, no workflow in Temporal")
                continue
            raise
        if described.status is not WorkflowExecutionStatus.RUNNING:
            if must_run:
                status = described.status.name if described.status else "?"
                found.problem(f"{stream_id}: open in the log, its workflow is {status}")
            continue
        running += 1
        before = store.stream_version(stream_id)
        try:
            state = await asyncio.wait_for(
                handle.query(RectificationCaseWorkflow.current_state), ANSWER_S
            )
        except (TimeoutError, RPCError, WorkflowQueryFailedError) as exc:
            found.problem(f"{stream_id}: its workflow did not answer: {exc or type(exc).__name__}")
            continue
        after = store.stream_version(stream_id)  # a timer due meanwhile may have appended
        version = None if state is None else state.version
        if version is None or not before <= version <= after:
            found.problem(
                f"{stream_id}: the workflow is at version {version}, the log at {before}: "
                "the two databases are not from one moment"
            )
        elif state is not None and state.status is CaseStatus.OPEN:
            answering.append(state)
    if len(found.problems) == problems:
        found.ok(
            f"workflows: {running} running for {len(streams)} cases in the log; each answered "
            "at its stream's version, and every open case has one"
        )
    return answering


async def _check_running_have_streams(client: Client, store: EventStore, found: Findings) -> None:
    query = f'WorkflowType="{RectificationCaseWorkflow.__name__}" AND ExecutionStatus="Running"'
    orphans = []
    async for execution in client.list_workflows(query):
        if store.stream_version(execution.id) > 0:
            continue
        # Started while the workers were stopped (a dump's quiet time): its opening is
        # appended once a worker takes it, which this drill's worker does now.
        handle = client.get_workflow_handle(execution.id)
        with suppress(TimeoutError, RPCError, WorkflowUpdateFailedError):
            await asyncio.wait_for(
                handle.execute_update(RectificationCaseWorkflow.wait_opened), ANSWER_S
            )
        if store.stream_version(execution.id) == 0:
            orphans.append(execution.id)
    if orphans:
        found.problem(
            f"running workflows without a stream in the log (Temporal is newer): {orphans[:10]}"
        )


async def _try_commands(
    client: Client, store: EventStore, states: list[CaseState], found: Findings
) -> None:
    gateway = TemporalGateway(lambda: _same(client), client)
    accepted = 0
    for state in states:
        stream_id = f"case-{state.case_id}"
        command = ReportProgress(
            actor=Actor(user_id=DRILL_USER, role=Role.UNIT, unit_id=state.unit_id),
            text="恢复演练：由 zhenggai restore-drill 写入恢复副本 / written by the restore drill",
        )
        context = RequestContext(request_id=f"{DRILL_USER}-{uuid.uuid4().hex}")
        try:
            after = await send_command(
                gateway, state.case_id, command, context, answer_within=ANSWER_S
            )
        except Refusal as refusal:
            found.problem(f"{stream_id}: a progress report was refused: {refusal.code}")
            continue
        logged = store.stream_version(stream_id)
        if after.version <= state.version or logged != after.version:
            found.problem(
                f"{stream_id}: the progress report left the workflow at {after.version}, "
                f"the log at {logged} (was {state.version})"
            )
            continue
        accepted += 1
    if states and accepted == len(states):
        found.ok(f"commands: {accepted} open case(s) took a progress report, appended in order")
    elif not states:
        found.ok("commands: no open case to send one to")


async def _same(client: Client) -> Client:
    return client


def _check(
    settings: Settings, url: str, address: str, env: dict[str, str], commands: int
) -> Findings:
    found = Findings()
    _run_command("event log (audit verify)", ["audit", "verify"], env, found)
    _run_command("read models (projections check)", ["projections", "check"], env, found)
    asyncio.run(_workflows(settings, url, address, commands, found))
    return found


def _drill_archive(settings: Settings, archive: Path, scratch: Path, commands: int) -> Findings:
    lang = settings.language
    manifest = unpack(archive, scratch, lang)
    typer.echo(f"restored {archive} (backed up at {manifest['made_at']}) into {scratch}")
    (scratch / "logs").mkdir(exist_ok=True)
    postgres: EmbeddedPostgres = start_embedded_postgres(scratch / "pg")
    server: TemporalDevServer | None = None
    try:
        migrate_database(postgres.url, lang)
        server = TemporalDevServer(
            scratch, _free_port(), _free_port(), scratch / "logs" / "temporal.log"
        )
        reason = wait_for_temporal(server.address, process=server.process)
        if reason is not None:
            raise UsageProblem(f"the restored Temporal did not start: {reason}")
        env = _command_env(postgres.url, scratch)
        return _check(settings, postgres.url, server.address, env, commands)
    finally:
        if server is not None:
            server.stop()
        postgres.stop()


async def _polled(settings: Settings) -> bool:
    """Whether a worker polled the case task queue lately (a live system)."""

    async def connect() -> Client:
        return await Client.connect(
            settings.temporal_target,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
        )

    gateway = TemporalGateway(connect)
    reason = await gateway.check()
    if reason is not None:
        raise UsageProblem(f"Temporal at {settings.temporal_target} does not answer: {reason}")
    return await gateway.check_workers(settings.task_queue) is None


def _drill_copy(settings: Settings, commands: int) -> Findings:
    """The checks on a pair the operator restored (production: both pg_dumps restored
    into a scratch PostgreSQL, a scratch Temporal server started on them)."""
    url = resolve_database_url(settings)
    if asyncio.run(_polled(settings)):
        raise UsageProblem(
            f"workers poll the task queue {settings.task_queue} at {settings.temporal_target}: "
            "that is a live system, not a restored copy (the drill would answer its cases)"
        )
    typer.echo(f"checking the restored copy at {settings.temporal_target} and its event store")
    env = {**os.environ, "DATABASE_URL": url, "ZHENGGAI_LANGUAGE": "en"}
    return _check(settings, url, settings.temporal_target, env, commands)


def restore_drill(
    archive: Path | None, restored_copy: bool, into: Path | None, commands: int
) -> None:
    """Restore a backup into a scratch data dir (or take the copy at DATABASE_URL and
    TEMPORAL_ADDRESS with ``restored_copy``), start it, check that every case is intact."""
    try:
        settings = load_settings()
        configure_logging("WARNING", settings.log_format)  # the worker's notices stay quiet
        if (archive is None) == (not restored_copy):
            raise UsageProblem("give either an archive of zhenggai backup or --restored-copy")
        if settings.audit_keys() is None:
            raise UsageProblem(
                "the drill verifies the seals: set ZHENGGAI_AUDIT_KEY (and the retired keys) "
                "of the system the backup comes from"
            )
        if archive is None:
            found = _drill_copy(settings, commands)
        else:
            scratch = into or Path(tempfile.mkdtemp(prefix="zg-drill-")) / "data"
            try:
                found = _drill_archive(settings, archive, scratch, commands)
            finally:
                if into is None:
                    shutil.rmtree(scratch.parent, ignore_errors=True)
    except UsageProblem as problem:
        raise exit_with(problem) from None
    if found.problems:
        typer.echo(f"restore drill FAILED: {len(found.problems)} problem(s)")
        raise typer.Exit(1)
    typer.echo("restore drill passed")
