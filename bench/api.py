"""Open-loop load on the HTTP API: fixed request rates of a realistic mix, one and two API
processes, over a log of --cases cases.

    uv run python bench/api.py --url postgresql://postgres@127.0.0.1:5432/postgres \
        --cases 100000 --rates 50,100,200 --seconds 30

Builds, on that PostgreSQL server, a fresh database (dropped at the end) holding
``--cases`` cases written straight into the log with COPY (bench/archive.py's generator of
realistic lives), the read models rebuilt from it (``zhenggai projections rebuild``), a
directory of the generator's units under one province, and ``--workflows`` real cases
opened through the API on a Temporal dev server, for the commands. Then runs, as child
processes, ``zhenggai worker``, ``zhenggai projector`` and one, then two,
``zhenggai api`` (requests alternate between them, as behind a load balancer).

At each rate the requests are sent on a fixed schedule whatever the answers (open loop),
and each latency counts from the moment its request was due, so a stall shows as latency
instead of as fewer requests. The mix: 40% case list (filters and units varied), 25% a
case's page, 15% the unit board (a unit's subtree, one in five the whole province),
20% commands (a progress report with an
Idempotency-Key on one of the real cases). Printed first: each kind alone, one request at a time;
then per rate: requests sent, achieved rate, errors (non-2xx or no answer in 10 s),
p50/p95/p99 of all reads and of each kind.
Goals at 100 req/s on two cores: reads p99 < 100 ms, commands p99 < 300 ms. The load
generator runs on the same machine and takes its share of the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.archive import database, generate, server, templates
from cli.binaries import temporal_cli
from store.directory import Directory
from store.engine import make_engine
from store.tokens import Tokens

PROJECT = Path(__file__).resolve().parent.parent
TIMEOUT = 10.0
MIX = (("list", 0.40), ("page", 0.25), ("board", 0.15), ("command", 0.20))


def _free_port() -> int:
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


def seed(url: str, cases: int) -> tuple[int, dict[str, str]]:
    """The log, the read models, the directory and tokens; returns (cases, tokens)."""
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
    issuer = Tokens(engine)
    tokens = {
        "supervisor": issuer.create(role="supervisor", unit_id="prov", name="bench-sup").secret,
        "unit": issuer.create(role="unit", unit_id="U00000", name="bench-unit").secret,
    }
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
    return made, tokens


async def _up(http: httpx.AsyncClient, base: str, seconds: float = 90) -> None:
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


@dataclass
class Load:
    bases: list[str]
    tokens: dict[str, str]
    real: list[str]  # cases with a workflow
    pages: list[str]  # cases whose page is read
    units: int
    rng: random.Random = field(default_factory=lambda: random.Random(1))
    turn: int = 0

    def request(self) -> tuple[str, str, str, dict[str, object] | None, dict[str, str]]:
        """(kind, method, url, body, headers) of the next request of the mix."""
        self.turn += 1
        base = self.bases[self.turn % len(self.bases)]
        roll, kind = self.rng.random(), MIX[-1][0]
        for name, share in MIX:
            if roll < share:
                kind = name
                break
            roll -= share
        sup = {"Authorization": f"Bearer {self.tokens['supervisor']}"}
        if kind == "list":
            unit = f"U{self.rng.randrange(self.units):05d}"
            query = self.rng.choice(
                ["", "?status=open", "?light=red", "?light=yellow&status=open", f"?unit={unit}"]
            )
            return kind, "GET", f"{base}/api/v1/cases{query}", None, sup
        if kind == "page":
            return kind, "GET", f"{base}/api/v1/cases/{self.rng.choice(self.pages)}", None, sup
        if kind == "board":
            unit = f"U{self.rng.randrange(self.units):05d}"
            # Mostly a unit's subtree; one in five the whole province (2,500 units).
            query = "" if self.rng.random() < 0.2 else f"?unit={unit}"
            return kind, "GET", f"{base}/api/v1/board{query}", None, sup
        case = self.rng.choice(self.real)
        headers = {
            "Authorization": f"Bearer {self.tokens['unit']}",
            "Idempotency-Key": f"bench-{uuid.uuid4()}",
        }
        body: dict[str, object] = {"text": f"压测进展 {self.turn}"}
        return kind, "POST", f"{base}/api/v1/cases/{case}/progress", body, headers


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _line(label: str, values: list[float]) -> str:
    return (
        f"    {label:<8} n {len(values):5d}  p50 {_pct(values, 0.5):7.1f}  "
        f"p95 {_pct(values, 0.95):7.1f}  p99 {_pct(values, 0.99):7.1f} ms"
    )


async def unloaded(http: httpx.AsyncClient, load: Load, each: int = 20) -> str:
    """Each kind of request alone, one at a time: what the load adds to."""
    took: dict[str, list[float]] = {name: [] for name, _ in MIX}
    while min(len(v) for v in took.values()) < each:
        kind, method, url, body, headers = load.request()
        if len(took[kind]) >= each:
            continue
        started = time.perf_counter()
        response = await http.request(method, url, json=body, headers=headers, timeout=TIMEOUT)
        took[kind].append(time.perf_counter() - started)
        if not response.is_success:
            raise RuntimeError(f"{kind} {url}: {response.status_code} {response.text[:200]}")
    return "\n".join(_line(kind, values) for kind, values in took.items())


async def at_rate(http: httpx.AsyncClient, load: Load, rate: float, seconds: float) -> str:
    took: dict[str, list[float]] = {name: [] for name, _ in MIX}
    errors: dict[str, int] = {}

    async def send(
        due: float, kind: str, method: str, url: str, body: object, headers: dict[str, str]
    ) -> None:
        try:
            response = await http.request(method, url, json=body, headers=headers, timeout=TIMEOUT)
            ok = response.is_success
            why = str(response.status_code)
        except httpx.HTTPError as exc:
            ok, why = False, type(exc).__name__
        took[kind].append(time.perf_counter() - due)
        if not ok:
            errors[f"{kind}:{why}"] = errors.get(f"{kind}:{why}", 0) + 1

    total = int(rate * seconds)
    start = time.perf_counter() + 0.05
    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(due, *load.request())))
    sent_in = time.perf_counter() - start
    await asyncio.gather(*tasks)
    error_text = ", ".join(f"{k} {v}" for k, v in sorted(errors.items())) or "0"
    reads = [t for kind, values in took.items() if kind != "command" for t in values]
    lines = [
        f"  {rate:5.0f}/s  sent {total} at {total / sent_in:.1f}/s  errors {error_text}",
        _line("reads", reads),
        *(_line(kind, values) for kind, values in took.items()),
    ]
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> None:
    rates = [float(r) for r in args.rates.split(",")]
    with server(args.url) as server_url, database(server_url) as url:
        made, tokens = seed(url, args.cases)
        env = await WorkflowEnvironment.start_local(
            data_converter=pydantic_data_converter, dev_server_existing_path=str(temporal_cli())
        )
        target = env.client.service_client.config.target_host
        common = {
            "DATABASE_URL": url,
            "TEMPORAL_ADDRESS": target,
            "ZHENGGAI_TASK_QUEUE": f"bench-api-{uuid.uuid4()}",
        }
        limits = httpx.Limits(max_connections=400, max_keepalive_connections=200)
        try:
            async with httpx.AsyncClient(limits=limits) as http:
                with child(["worker"], common), child(["projector"], common):
                    ports = [_free_port(), _free_port()]
                    with child(["api", "--port", str(ports[0])], common):
                        base = f"http://127.0.0.1:{ports[0]}"
                        await _up(http, base)
                        real = await open_real_cases(
                            http, base, tokens["supervisor"], args.workflows
                        )
                        pages = real
                        probe = await http.get(
                            f"{base}/api/v1/cases/F0000001",
                            headers={"Authorization": f"Bearer {tokens['supervisor']}"},
                        )
                        if probe.status_code == 200:  # the generated cases' pages too
                            pages = real + [f"F{random.randrange(made):07d}" for _ in range(2000)]
                        print(
                            f"case pages read from {len(pages)} cases "
                            f"(generated ones: {probe.status_code == 200})"
                        )
                    for count in (1, 2):
                        bases = []
                        with contextlib.ExitStack() as stack:
                            for port in ports[:count]:
                                stack.enter_context(child(["api", "--port", str(port)], common))
                                bases.append(f"http://127.0.0.1:{port}")
                            for b in bases:
                                await _up(http, b)
                            load = Load(bases, tokens, real, pages, made // 40 + 1)
                            await at_rate(http, load, rates[0], min(3.0, args.seconds))  # warm-up
                            if count == 1:
                                print("unloaded, one request at a time (ms):")
                                print(await unloaded(http, load), flush=True)
                            print(
                                f"{count} API process(es), {made:,} cases, "
                                f"{args.seconds:.0f} s per rate:"
                            )
                            for rate in rates:
                                print(await at_rate(http, load, rate, args.seconds), flush=True)
                                await asyncio.sleep(2)
        finally:
            await env.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a PostgreSQL server (default: a pgserver in a temp dir)")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--workflows", type=int, default=300, help="real cases for the commands")
    parser.add_argument("--rates", default="50,100,200")
    parser.add_argument("--seconds", type=float, default=30.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
