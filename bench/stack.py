"""What the benchmarks of the running processes share (bench/api.py, bench/console.py):
the dataset, the child processes, waiting for an API, real cases opened through it.

The dataset: ``--cases`` cases written straight into the log with COPY
(bench/archive.py's generator of realistic lives), the read models rebuilt from it
(``zhenggai projections rebuild``), a directory of the generator's units under one
province ``prov`` (2,501 units at 100,000 cases) with one cadre, and two API tokens
(a province supervisor, the unit ``U00000``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine

from bench.archive import generate, templates
from store.directory import Directory
from store.engine import make_engine
from store.projections.lag import projection_lag
from store.tokens import Tokens

__all__ = [
    "PROJECT",
    "child",
    "cpu_seconds",
    "free_port",
    "open_real_cases",
    "pct",
    "pids_named",
    "seed",
    "up",
]

PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def child(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        env={**os.environ, "ZHENGGAI_LOG_LEVEL": "WARNING", "ZHENGGAI_LOG_FORMAT": "json", **env},
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _tokens(engine: Engine) -> dict[str, str]:
    issuer = Tokens(engine)
    return {
        "supervisor": issuer.create(role="supervisor", unit_id="prov", name="bench-sup").secret,
        "unit": issuer.create(role="unit", unit_id="U00000", name="bench-unit").secret,
    }


def seed(url: str, cases: int) -> tuple[int, dict[str, str]]:
    """The log, the read models, the directory and tokens; returns (cases, tokens).
    A database seeded before (``--keep``) is used as it is, with new tokens."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            stored = conn.exec_driver_sql(  # the generated ones: F0000000, F0000001, …
                "SELECT count(*) FROM case_summary WHERE case_id ~ '^F[0-9]{7}$'"
            ).scalar_one()
        if stored:
            print(f"kept database: {stored:,} generated cases", flush=True)
            _analyze(url)
            return int(stored), _tokens(engine)
    finally:
        engine.dispose()
    shapes = templates(7)
    per_case = statistics.mean(len(s) for s in shapes)
    started = time.perf_counter()
    made = generate(url, 0, int(cases * per_case), shapes)
    took = time.perf_counter() - started
    units = made // 40 + 1
    engine = make_engine(url, pool_size=1)
    directory = Directory(engine)
    directory.add_units(
        [("prov", "某省", None)] + [(f"U{u:05d}", f"单位{u}", "prov") for u in range(units)]
    )
    directory.add_cadres([("C00000-0", "王某", "U00000", "局长")])
    tokens = _tokens(engine)
    with engine.connect() as conn:
        events = conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one()
    engine.dispose()
    print(f"seeded {made:,} cases, {events:,} events with COPY in {took:.0f} s", flush=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cli", "projections", "rebuild"],
        env={**os.environ, "DATABASE_URL": url, "ZHENGGAI_LOG_LEVEL": "WARNING"},
        cwd=PROJECT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(f"read models rebuilt in {time.perf_counter() - started:.0f} s", flush=True)
    _analyze(url)
    return made, tokens


def _analyze(url: str) -> None:
    """Planner statistics of every table, as autovacuum (on by default) would have taken
    them by now: a PostgreSQL run with ``autovacuum = off`` (CI's configuration) would
    otherwise plan the log's reads for a table of unknown size."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


async def settle(url: str, seconds: float = 180) -> str:
    """Between two measured rates: wait until every projection has caught up with the
    log (an overload leaves a backlog that the next rate would otherwise pay for), then,
    on a server without autovacuum (CI's configuration), vacuum as autovacuum would have
    by then; the read models' rows are rewritten at every event. What it did, in words."""
    engine = make_engine(url, pool_size=1)
    started = time.perf_counter()
    try:
        while True:
            behind = sum(lag.events_behind for lag in projection_lag(engine))
            if behind == 0 or time.perf_counter() - started > seconds:
                break
            await asyncio.sleep(0.5)
        waited = time.perf_counter() - started
        said = (
            f"projections caught up in {waited:.0f} s"
            if behind == 0
            else (f"projections still {behind} events behind after {waited:.0f} s")
        )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if conn.exec_driver_sql("SHOW autovacuum").scalar_one() == "off":
                conn.exec_driver_sql("VACUUM (ANALYZE)")
                said += "; vacuumed (the server runs without autovacuum)"
        return said
    finally:
        engine.dispose()


async def up(http: httpx.AsyncClient, base: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if (await http.get(f"{base}/readyz", timeout=3)).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{base} never became ready")
        await asyncio.sleep(0.3)


async def open_real_cases(
    http: httpx.AsyncClient, base: str, token: str, n: int, concurrency: int = 10
) -> list[str]:
    gate = asyncio.Semaphore(concurrency)
    body = {
        "source": "audit",
        "unit_id": "U00000",
        "cadre_id": "C00000-0",
        "deadline": (date.today() + timedelta(days=120)).isoformat(),
        "force_new": True,
    }
    headers = {"Authorization": f"Bearer {token}"}

    async def one(i: int) -> str:
        async with gate:
            key = {"Idempotency-Key": f"open-{uuid.uuid4()}"}
            for _ in range(60):
                r = await http.post(
                    f"{base}/api/v1/findings",
                    json={**body, "title": f"压测整改问题 {i} {uuid.uuid4().hex[:6]}"},
                    headers=headers | key,
                    timeout=60,
                )
                if r.status_code == 201:
                    return str(r.json()["case_id"])
                await asyncio.sleep(1)
            raise RuntimeError(f"could not open a case: {r.status_code} {r.text[:200]}")

    started = time.perf_counter()
    ids = await asyncio.gather(*(one(i) for i in range(n)))
    print(f"opened {n} real cases through the API in {time.perf_counter() - started:.0f} s")
    return list(ids)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def pids_named(part: str) -> list[int]:
    """Processes whose command name holds ``part`` (``postgres``, ``temporal``)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/comm") as comm:
                if part in comm.read():
                    found.append(int(entry))
    return found
