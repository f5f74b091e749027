"""Benchmark of the case workflow against bare Temporal workflows, in one run on one server.

    uv run python bench/workflows.py --url postgresql://postgres@127.0.0.1:5432/postgres \
        --cases 200 [--open-cases 10000]

Starts a Temporal dev server (the CLI's, as the tests do) and a fresh database on that
PostgreSQL server (dropped at the end), then:

1. Throughput: ``--cases`` cases, each through open, plan, progress, closure request and
   verification (five commands, each a workflow update whose events the real
   ``append_events`` activity writes to the event store, with the real notification
   activity writing the outbox), driven ``--concurrency`` at a time by a Temporal client,
   against the same number of bare workflows that run one no-op activity and end, on the
   same server with the same worker settings, in the same process. Printed: cases and
   state transitions per second, and two ratios. A bare workflow is one transition (one
   workflow task, one activity), so the ratio that can be compared with the goal (>= 0.5)
   is transitions per second of the cases / bare workflows per second; the ratio of whole
   cases (five transitions each) is printed too.
2. Memory (with ``--open-cases``): ``zhenggai worker`` as a child process (the production
   entry point, default ``max_cached_workflows``); that many cases are opened and left
   waiting on their timers; after ``--settle`` seconds the worker's resident memory and
   its peak (``VmHWM``) are read from /proc. Goal: under 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notifications import OutboxNotificationSink
from bench.archive import database, server
from bench.bare_workflow import BareWorkflow, noop
from cli.binaries import temporal_cli
from domain.commands import OpenCase, ReportProgress, RequestClosure, SubmitPlan, VerifyClosure
from domain.vocabulary import Actor, Role, Source
from settings import Settings
from store.engine import make_engine
from store.event_store import EventStore
from worker import build_worker, workflow_runner
from workflows.case_workflow import RectificationCaseWorkflow as Case
from workflows.models import CaseWorkflowInput, CommandRequest, RequestContext, case_workflow_id

PROJECT = Path(__file__).resolve().parent.parent
SUPERVISOR = Actor(user_id="sup-1", role=Role.SUPERVISOR, unit_id="prov")
UNIT = Actor(user_id="unit-user-1", role=Role.UNIT, unit_id="county-env")
TRANSITIONS = 5  # open, plan, progress, closure request, verification


def _opening(finding_id: str) -> CaseWorkflowInput:
    return CaseWorkflowInput(
        command=OpenCase(
            actor=SUPERVISOR,
            finding_id=finding_id,
            source=Source.INSPECTION,
            title="河道非法采砂整治不到位",
            unit_id="county-env",
            cadre_id="cadre-7",
            deadline=date.today() + timedelta(days=120),
            target="整治到位，建立长效机制",
        ),
        context=RequestContext(request_id=f"req-{finding_id[:8]}"),
    )


async def _open(client: Client, queue: str, finding_id: str) -> None:
    await client.start_workflow(
        Case.run, _opening(finding_id), id=case_workflow_id(finding_id), task_queue=queue
    )
    handle = client.get_workflow_handle_for(Case.run, case_workflow_id(finding_id))
    await handle.execute_update(Case.wait_opened)


async def _one_case(client: Client, queue: str) -> None:
    finding_id = uuid.uuid4().hex
    await _open(client, queue, finding_id)
    handle = client.get_workflow_handle_for(Case.run, case_workflow_id(finding_id))
    for update, command in (
        (Case.submit_plan, SubmitPlan(actor=UNIT, plan="清理砂场，恢复河道")),
        (Case.report_progress, ReportProgress(actor=UNIT, text="已清理两处砂场")),
        (Case.request_closure, RequestClosure(actor=UNIT, summary="整改完成")),
        (Case.verify_closure, VerifyClosure(actor=SUPERVISOR, comment="验收通过")),
    ):
        request: CommandRequest[Any] = CommandRequest(
            command=command, context=RequestContext(command_key=uuid.uuid4().hex)
        )
        await handle.execute_update(update, request)


async def _one_bare(client: Client, queue: str) -> None:
    await client.execute_workflow(
        BareWorkflow.run, 1, id=f"bare-{uuid.uuid4().hex}", task_queue=queue
    )


async def _many(n: int, concurrency: int, one: Callable[[], Awaitable[None]]) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def gated() -> None:
        async with gate:
            await one()

    started = time.perf_counter()
    await asyncio.gather(*(gated() for _ in range(n)))
    return time.perf_counter() - started


def _bare_worker(client: Client, queue: str) -> Worker:
    from concurrent.futures import ThreadPoolExecutor

    from worker import ACTIVITY_THREADS

    return Worker(
        client,
        task_queue=queue,
        workflows=[BareWorkflow],
        activities=[noop],
        activity_executor=ThreadPoolExecutor(ACTIVITY_THREADS),
        max_concurrent_activities=ACTIVITY_THREADS,
        max_cached_workflows=1000,
        workflow_runner=workflow_runner(),
    )


async def throughput(client: Client, url: str, n: int, concurrency: int, rounds: int) -> None:
    engine = make_engine(url, pool_size=10)
    store = EventStore(engine)
    case_queue, bare_queue = f"bench-cases-{uuid.uuid4()}", f"bench-bare-{uuid.uuid4()}"
    case_times: list[float] = []
    bare_times: list[float] = []
    async with (
        build_worker(
            client,
            store,
            task_queue=case_queue,
            max_cached_workflows=1000,
            notifications=OutboxNotificationSink(store),
        ),
        _bare_worker(client, bare_queue),
    ):
        # Warm-up (imports, the sandbox's first loads, connections), not timed.
        await _many(10, concurrency, lambda: _one_case(client, case_queue))
        await _many(10, concurrency, lambda: _one_bare(client, bare_queue))
        for _ in range(rounds):  # alternated, so drift hits both alike
            bare_times.append(await _many(n, concurrency, lambda: _one_bare(client, bare_queue)))
            case_times.append(await _many(n, concurrency, lambda: _one_case(client, case_queue)))
    with engine.connect() as conn:
        events = conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one()
        notices = conn.exec_driver_sql("SELECT count(*) FROM notification_outbox").scalar_one()
    engine.dispose()
    case_s, bare_s = statistics.median(case_times), statistics.median(bare_times)
    cases_rate, bare_rate = n / case_s, n / bare_s
    print(f"throughput, {n} of each, {concurrency} in flight, median of {rounds} round(s):")
    print(
        f"  cases   {cases_rate:8.1f} cases/s   {cases_rate * TRANSITIONS:8.1f} transitions/s"
        f"   ({case_s:.1f} s; rounds {', '.join(f'{t:.1f}' for t in case_times)} s)"
    )
    print(
        f"  bare    {bare_rate:8.1f} workflows/s (one no-op activity each)"
        f"   ({bare_s:.1f} s; rounds {', '.join(f'{t:.1f}' for t in bare_times)} s)"
    )
    print(
        "  ratio, transitions/s of cases / bare workflows/s: "
        f"{cases_rate * TRANSITIONS / bare_rate:.2f}  (goal >= 0.5)"
    )
    print(f"  ratio, whole cases/s / bare workflows/s:          {cases_rate / bare_rate:.2f}")
    print(f"  events appended: {events:,}; outbox rows: {notices:,} (warm-up included)")


def _proc_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


async def memory(
    client: Client, target: str, url: str, n: int, concurrency: int, settle: float, cache: int
) -> None:
    queue = f"bench-memory-{uuid.uuid4()}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TEMPORAL_ADDRESS": target,
        "ZHENGGAI_TASK_QUEUE": queue,
        "ZHENGGAI_LOG_LEVEL": "WARNING",
        "ZHENGGAI_LOG_FORMAT": "json",
        "ZHENGGAI_MAX_CACHED_WORKFLOWS": str(cache),
    }
    worker = subprocess.Popen(  # noqa: ASYNC220 - started once, before any load
        [sys.executable, "-m", "cli", "worker"],
        env=env,
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await _many(5, 5, lambda: _open(client, queue, uuid.uuid4().hex))
        idle = _proc_kib(worker.pid, "VmRSS")
        started = time.perf_counter()
        done = 0

        async def opened() -> None:
            nonlocal done
            await _open(client, queue, uuid.uuid4().hex)
            done += 1
            if done % 1000 == 0:
                rss = _proc_kib(worker.pid, "VmRSS") / 1024
                at = time.perf_counter() - started
                print(
                    f"  {done:>6,} open  {at:6.0f} s  RSS {rss:5.0f} MiB",
                    flush=True,
                )

        await _many(n, concurrency, opened)
        took = time.perf_counter() - started
        await asyncio.sleep(settle)
        rss, peak = _proc_kib(worker.pid, "VmRSS"), _proc_kib(worker.pid, "VmHWM")
        assert worker.poll() is None, "the worker died"
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
    print(
        f"memory, `zhenggai worker` (max_cached_workflows {cache}), {n + 5:,} open cases on timers:"
    )
    print(f"  opened in {took:.0f} s ({n / took:.0f} cases/s, {concurrency} in flight)")
    print(
        f"  RSS idle {idle / 1024:.0f} MiB, after {settle:.0f} s settled {rss / 1024:.0f} MiB,"
        f" peak (VmHWM) {peak / 1024:.0f} MiB  (goal < 300 MB = 286 MiB)"
    )


async def run(args: argparse.Namespace) -> None:
    from cli.logs import configure_logging

    configure_logging("WARNING", "console")  # a line per event would cost the worker's CPU
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter, dev_server_existing_path=str(temporal_cli())
    )
    try:
        target = env.client.service_client.config.target_host
        with server(args.url) as server_url, database(server_url) as url:
            if args.cases:
                await throughput(env.client, url, args.cases, args.concurrency, args.rounds)
            if args.open_cases:
                await memory(
                    env.client,
                    target,
                    url,
                    args.open_cases,
                    args.open_concurrency,
                    args.settle,
                    args.max_cached,
                )
    finally:
        await env.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a PostgreSQL server (default: a pgserver in a temp dir)")
    parser.add_argument("--cases", type=int, default=200, help="cases and bare workflows (0: skip)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--open-cases", type=int, default=0, help="cases left open for the memory figure"
    )
    parser.add_argument("--open-concurrency", type=int, default=50)
    parser.add_argument("--settle", type=float, default=30.0)
    parser.add_argument(
        "--max-cached",
        type=int,
        default=Settings.model_fields["max_cached_workflows"].default,
        help="the worker's ZHENGGAI_MAX_CACHED_WORKFLOWS (default: the product's default)",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
