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
then per rate: requests sent, achieved rate, errors (non-2xx, or no answer 10 s after it
was sent; at most 200 are in flight, the others wait, which counts as their latency),
p50/p95/p99 of all reads and of each kind. Before each rate the bench waits until the
projections have caught up (an overload's backlog belongs to the rate that made it) and,
on a server run without autovacuum, vacuums as autovacuum would have (bench/stack.py's
``settle``); it says so in a line in brackets.
Goals at 100 req/s on two cores: reads p99 < 100 ms, commands p99 < 300 ms. The load
generator runs on the same machine and takes its share of the CPU.

``--cpu`` adds, after the unloaded figures, the CPU milliseconds each process (API,
worker, projector, Temporal, PostgreSQL, this client) spends per request of each kind:
what a rate costs, and what dominates. ``--keep NAME`` keeps the database (seeded
once, bench/stack.py) for repeated runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.archive import database, server
from bench.stack import (
    child,
    cpu_seconds,
    free_port,
    open_real_cases,
    pct,
    pids_named,
    seed,
    settle,
    up,
)
from cli.binaries import temporal_cli

TIMEOUT = 10.0
IN_FLIGHT = 200  # at most this many requests at once (httpx's pool allows 400)
MIX = (("list", 0.40), ("page", 0.25), ("board", 0.15), ("command", 0.20))


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


def _line(label: str, values: list[float]) -> str:
    return (
        f"    {label:<8} n {len(values):5d}  p50 {pct(values, 0.5):7.1f}  "
        f"p95 {pct(values, 0.95):7.1f}  p99 {pct(values, 0.99):7.1f} ms"
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
    # Requests past this many in flight wait here, their latency still counted from when
    # they were due: handed all to httpx's pool instead, thousands queued at an overload
    # make its bookkeeping (a scan of the queue per request) burn the client's CPU, on
    # the cores the servers measured need.
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def send(
        due: float, kind: str, method: str, url: str, body: object, headers: dict[str, str]
    ) -> None:
        try:
            async with gate:
                response = await http.request(
                    method, url, json=body, headers=headers, timeout=TIMEOUT
                )
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


async def cpu_per_request(
    http: httpx.AsyncClient, load: Load, processes: dict[str, list[int]], each: int = 200
) -> str:
    """CPU milliseconds each process spends per request of each kind, the kinds sent
    alone, 4 in flight, with 1.5 s after each for the projector and the worker to
    finish theirs. ``postgres`` counts every PostgreSQL process of the server (other
    databases' work included); ``client`` is this process (httpx)."""
    lines = []
    for kind, _ in MIX:
        wanted: list[tuple[str, str, str, dict[str, object] | None, dict[str, str]]] = []
        while len(wanted) < each:
            request = load.request()
            if request[0] == kind:
                wanted.append(request)

        async def one(
            gate: asyncio.Semaphore, method: str, url: str, body: object, headers: dict[str, str]
        ) -> None:
            async with gate:
                response = await http.request(method, url, json=body, headers=headers)
                if not response.is_success:
                    raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")

        await asyncio.sleep(1.5)
        every = {**processes, "postgres": pids_named("postgres"), "client": [os.getpid()]}
        before = {name: sum(cpu_seconds(p) for p in pids) for name, pids in every.items()}
        started = time.perf_counter()
        gate = asyncio.Semaphore(4)
        await asyncio.gather(*(one(gate, *r[1:]) for r in wanted))
        took = time.perf_counter() - started
        await asyncio.sleep(1.5)
        spent = {
            name: (sum(cpu_seconds(p) for p in pids) - before[name]) * 1000 / each
            for name, pids in every.items()
        }
        shares = "  ".join(f"{name} {ms:5.1f}" for name, ms in spent.items())
        lines.append(
            f"    {kind:<8} {each / took:6.1f}/s  {shares}  total {sum(spent.values()):5.1f}"
        )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> None:
    rates = [float(r) for r in args.rates.split(",")]
    with server(args.url) as server_url, database(server_url, keep=args.keep) as url:
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
                with (
                    child(["worker"], common) as worker,
                    child(["projector"], common) as projector,
                ):
                    ports = [free_port(), free_port()]
                    with child(["api", "--port", str(ports[0])], common):
                        base = f"http://127.0.0.1:{ports[0]}"
                        await up(http, base)
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
                        # A client of its own per phase: no connection kept alive to
                        # an API process of the phase before (stopped) is reused.
                        async with httpx.AsyncClient(limits=limits) as client:
                            with contextlib.ExitStack() as stack:
                                apis = [
                                    stack.enter_context(child(["api", "--port", str(port)], common))
                                    for port in ports[:count]
                                ]
                                bases = [f"http://127.0.0.1:{port}" for port in ports[:count]]
                                for b in bases:
                                    await up(client, b)
                                load = Load(bases, tokens, real, pages, made // 40 + 1)
                                # warm-up
                                await at_rate(client, load, rates[0], min(3.0, args.seconds))
                                if count == 1:
                                    print("unloaded, one request at a time (ms):")
                                    print(await unloaded(client, load), flush=True)
                                if count == 1 and args.cpu:
                                    processes = {
                                        "api": [a.pid for a in apis],
                                        "worker": [worker.pid],
                                        "projector": [projector.pid],
                                        "temporal": pids_named("temporal"),
                                    }
                                    print("CPU ms per request, by process:")
                                    print(
                                        await cpu_per_request(client, load, processes), flush=True
                                    )
                                print(
                                    f"{count} API process(es), {made:,} cases, "
                                    f"{args.seconds:.0f} s per rate:"
                                )
                                for rate in rates:
                                    print(f"    ({await settle(url)})", flush=True)
                                    print(
                                        await at_rate(client, load, rate, args.seconds), flush=True
                                    )
        finally:
            await env.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a PostgreSQL server (default: a pgserver in a temp dir)")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--workflows", type=int, default=300, help="real cases for the commands")
    parser.add_argument("--rates", default="50,100,200")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--keep", help="a database name to keep (seeded once) between runs")
    parser.add_argument("--cpu", action="store_true", help="CPU per request, by process")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
