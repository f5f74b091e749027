"""The web console's main pages over a large log: each page's time, one request at a
time, against a raw SQL read of the same rows.

    uv run python bench/console.py --url postgresql://postgres@127.0.0.1:5432/postgres \
        --cases 100000 --each 20

The stack is ``zhenggai up``'s: ``zhenggai worker``, ``zhenggai projector`` and
``zhenggai api`` (which serves the console) as child processes, on a Temporal dev server,
over the dataset of bench/api.py (bench/stack.py: ``--cases`` generated cases, their read
models rebuilt, 2,501 units under one province at 100,000 cases) and ``--workflows`` real
cases opened through the API. Three console accounts (a province supervisor, the unit
``U00000``, a province inspector) sign in once each through the login form; then each
page is asked for ``--each`` times after two warm-up requests:

- 我的待办 of each role (``/console/``),
- the case list with and without filters (``/console/cases?…``),
- a case's page (generated cases and real ones, by turns),
- the board of the province and of a unit (``/console/board``),
- a cadre's archive for a year (``/console/archive?cadre=…&year=…``),
- the 录入问题 form (``/console/findings/new``).

Printed per page: p50 and p95 of the page (the whole HTML answer) in ms, the p50 of
its baseline (psycopg, one connection, the SQL reading the same rows the page shows,
with no rendering) and the ratio page p50 / baseline p50. Goal: every page's p95 < 1 s.
``--keep NAME`` keeps the database (seeded once) for repeated runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psycopg
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from application.accounts import new_account
from application.errors import Refusal
from bench.archive import database, server
from bench.stack import child, free_port, open_real_cases, pct, seed, up
from cli.binaries import temporal_cli
from domain.vocabulary import Role
from store.accounts import Accounts
from store.engine import make_engine

PASSWORD = "bench-console-password"
ROLES = {Role.SUPERVISOR: "prov", Role.UNIT: "U00000", Role.INSPECTOR: "prov"}
CADRE, YEAR = "C00000-0", 2025
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LIST = (
    "SELECT * FROM case_summary WHERE {where} "
    "ORDER BY COALESCE(deadline, DATE '9999-12-31'), case_id LIMIT 26"
)
_TOTALS = "SELECT sum(cases), sum(green), sum(yellow), sum(red), sum(grey) FROM unit_board"
_ACTIVE = "status IN ('open', 'closure_pending')"


@dataclass(frozen=True)
class Page:
    label: str
    role: Role
    paths: list[str]  # asked for by turns
    baseline: list[tuple[str, tuple[object, ...]]]  # SQL statements, run one after another


def pages(real: list[str], generated: list[str]) -> list[Page]:
    cases = [p for pair in zip(generated, real, strict=False) for p in pair] or generated
    unit_streams = "ARRAY(SELECT stream_id FROM case_summary WHERE unit_id = 'U00000' AND " + (
        f"{_ACTIVE} ORDER BY COALESCE(deadline, DATE '9999-12-31'), case_id LIMIT 60)"
    )
    return [
        Page(
            "我的待办 supervisor",
            Role.SUPERVISOR,
            ["/console/"],
            [
                (_LIST.format(where="status = 'closure_pending'"), ()),
                (_LIST.format(where=f"{_ACTIVE} AND escalation_level = 4"), ()),
                (_LIST.format(where=f"{_ACTIVE} AND light = 'red'"), ()),
                (_TOTALS, ()),
            ],
        ),
        Page(
            "我的待办 unit",
            Role.UNIT,
            ["/console/"],
            [
                (_LIST.format(where=f"unit_id = 'U00000' AND {_ACTIVE}"), ()),
                (f"SELECT * FROM events WHERE stream_id = ANY({unit_streams}) ORDER BY 3, 4", ()),
            ],
        ),
        Page(
            "我的待办 inspector",
            Role.INSPECTOR,
            ["/console/"],
            [
                ("SELECT * FROM case_summary ORDER BY last_activity DESC, case_id LIMIT 20", ()),
                ("SELECT count(*), max(seq) FROM seals", ()),
                ("SELECT * FROM checkpoints", ()),
                (_TOTALS, ()),
            ],
        ),
        Page(
            "case list",
            Role.SUPERVISOR,
            ["/console/cases"],
            [(_LIST.format(where="true"), ()), (_TOTALS, ())],
        ),
        Page(
            "case list, filters",
            Role.SUPERVISOR,
            [
                "/console/cases?status=open",
                "/console/cases?light=red",
                "/console/cases?light=yellow&status=open&sort=-last_activity",
                "/console/cases?unit=U00017",
            ],
            [(_LIST.format(where="status = 'open'"), ()), (_TOTALS, ())],
        ),
        Page(
            "case page",
            Role.SUPERVISOR,
            [f"/console/cases/{c}" for c in cases],
            [
                (
                    "SELECT * FROM events WHERE stream_id = "
                    "(SELECT stream_id FROM case_summary WHERE case_id = %s) ORDER BY version",
                    (cases[0],),
                )
            ],
        ),
        Page(
            "board, province",
            Role.SUPERVISOR,
            ["/console/board"],
            [
                (
                    "SELECT b.*, u.name FROM unit_board b JOIN units u USING (unit_id) "
                    "ORDER BY u.path",
                    (),
                )
            ],
        ),
        Page(
            "board, a unit",
            Role.SUPERVISOR,
            ["/console/board?unit=U00017"],
            [("SELECT * FROM unit_board WHERE unit_id = 'U00017'", ())],
        ),
        Page(
            "archive",
            Role.SUPERVISOR,
            [f"/console/archive?cadre={CADRE}&year={YEAR}"],
            [
                ("SELECT * FROM cadre_archive WHERE cadre_id = %s", (CADRE,)),
                ("SELECT * FROM cadres ORDER BY cadre_id", ()),
            ],
        ),
        Page(
            "录入问题 (new finding)",
            Role.SUPERVISOR,
            ["/console/findings/new"],
            [("SELECT * FROM units ORDER BY path", ()), ("SELECT * FROM cadres", ())],
        ),
    ]


def accounts(url: str) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        for role, unit in ROLES.items():
            with contextlib.suppress(Refusal):  # kept from a run before
                new_account(
                    Accounts(engine),
                    username=f"bench-{role.value}",
                    display_name=f"压测{role.value}",
                    role=role,
                    unit_id=unit,
                    password=PASSWORD,
                )
    finally:
        engine.dispose()


async def sign_in(base: str, role: Role) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=60)
    form = await client.get("/console/login")
    token = _CSRF.search(form.text)
    if token is None:
        raise RuntimeError(f"no CSRF token in the login form: {form.status_code}")
    signed = await client.post(
        "/console/login",
        data={"username": f"bench-{role.value}", "password": PASSWORD, "csrf_token": token[1]},
    )
    if signed.status_code not in (200, 303) or "zg_session" not in client.cookies:
        raise RuntimeError(f"sign-in as {role.value} failed: {signed.status_code}")
    return client


def baseline(url: str, statements: list[tuple[str, tuple[object, ...]]], each: int) -> list[float]:
    took = []
    with psycopg.connect(url) as conn:
        for turn in range(each + 2):
            started = time.perf_counter()
            for sql, params in statements:
                conn.execute(sql, params).fetchall()
            if turn >= 2:
                took.append(time.perf_counter() - started)
            conn.rollback()
    return took


async def measure(
    clients: dict[Role, httpx.AsyncClient], url: str, page: Page, each: int
) -> tuple[str, list[float], list[float]]:
    client, took = clients[page.role], []
    for turn in range(each + 2):
        path = page.paths[turn % len(page.paths)]
        started = time.perf_counter()
        response = await client.get(path)
        if response.status_code != 200 or "text/html" not in response.headers["content-type"]:
            raise RuntimeError(f"{page.label} {path}: {response.status_code}")
        if turn >= 2:
            took.append(time.perf_counter() - started)
    return page.label, took, await asyncio.to_thread(baseline, url, page.baseline, each)


async def run(args: argparse.Namespace) -> None:
    with server(args.url) as server_url, database(server_url, keep=args.keep) as url:
        made, tokens = seed(url, args.cases)
        accounts(url)
        env = await WorkflowEnvironment.start_local(
            data_converter=pydantic_data_converter, dev_server_existing_path=str(temporal_cli())
        )
        common = {
            "DATABASE_URL": url,
            "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "ZHENGGAI_TASK_QUEUE": f"bench-console-{uuid.uuid4()}",
        }
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        clients: dict[Role, httpx.AsyncClient] = {}
        try:
            with (
                child(["worker"], common),
                child(["projector"], common),
                child(["api", "--port", str(port)], common),
            ):
                async with httpx.AsyncClient() as http:
                    await up(http, base)
                    real = await open_real_cases(http, base, tokens["supervisor"], args.workflows)
                for role in ROLES:
                    clients[role] = await sign_in(base, role)
                generated = [f"F{n:07d}" for n in range(17, made, max(1, made // 50))][:50]
                print(f"{made:,} cases; each page {args.each} times, one at a time (ms):")
                print(
                    f"  {'page':<24} {'p50':>7} {'p95':>7}   {'SQL p50':>7}  {'ratio':>6}",
                    flush=True,
                )
                for page in pages(real, generated):
                    label, took, raw = await measure(clients, url, page, args.each)
                    ratio = pct(took, 0.5) / max(pct(raw, 0.5), 0.001)
                    print(
                        f"  {label:<24} {pct(took, 0.5):7.1f} {pct(took, 0.95):7.1f}   "
                        f"{pct(raw, 0.5):7.1f}  {ratio:6.1f}",
                        flush=True,
                    )
        finally:
            for client in clients.values():
                await client.aclose()
            await env.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a PostgreSQL server (default: a pgserver in a temp dir)")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--workflows", type=int, default=20, help="real cases opened")
    parser.add_argument("--each", type=int, default=20, help="requests per page")
    parser.add_argument("--keep", help="a database name to keep (seeded once) between runs")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
