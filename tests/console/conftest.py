"""The console on the real stack: uvicorn serving ``create_app`` on a free port in the
tests' event loop, a worker on the Temporal dev server, the projector, PostgreSQL, a
small unit tree, one account per role, and Chromium (Debian's, never downloaded)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from application.accounts import new_account
from domain.vocabulary import Role
from settings import Settings
from store.accounts import Accounts
from store.directory import Directory
from store.event_store import EventStore
from store.projections.lag import projection_lag
from store.projections.runner import run_projections
from worker import build_worker

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
PASSWORD = "correct-horse-42"
WAIT_MS = 20_000  # every wait of the browser is bounded
expect.set_options(timeout=WAIT_MS)

UNITS = [
    ("prov", "某省", None),
    ("city", "某市", "prov"),
    ("county-env", "某县生态环境局", "city"),
    ("county-water", "某县水利局", "city"),
]
CADRES = [
    ("cadre-42", "王某", "county-env", "局长"),
    ("cadre-43", "陈某", "county-water", "局长"),
]
PEOPLE = {  # user name -> (name, role, unit)
    "sup": ("张督查", Role.SUPERVISOR, "city"),
    "env": ("李办事员", Role.UNIT, "county-env"),
    "water": ("周办事员", Role.UNIT, "county-water"),
    "insp": ("刘审计", Role.INSPECTOR, "city"),
    "admin": ("系统管理员", Role.ADMIN, None),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Console:
    base: str
    engine: Engine
    browser: Browser
    caught_up: Callable[[], None]
    shared: dict[str, str] = field(default_factory=dict)

    async def login(self, username: str, *, javascript: bool = True) -> tuple[BrowserContext, Page]:
        """Signed in through the login form; ``javascript=False``: as a browser without
        it (the console's pages work without htmx)."""
        context = await self.browser.new_context(
            viewport=VIEWPORT, locale="zh-CN", java_script_enabled=javascript
        )
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()
        await page.goto(f"{self.base}/console/login")
        await page.get_by_label("用户名").fill(username)
        await page.get_by_label("密码").fill(PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await page.wait_for_url(f"{self.base}/console/**")
        return context, page


async def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@pytest.fixture(scope="module")
def people(engine: Engine) -> None:
    Directory(engine).add_units(UNITS)
    Directory(engine).add_cadres(CADRES)
    accounts = Accounts(engine)
    for username, (name, role, unit) in PEOPLE.items():
        new_account(
            accounts,
            username=username,
            display_name=name,
            role=role,
            unit_id=unit,
            password=PASSWORD,
        )


@pytest.fixture(scope="module")
def follow(engine: Engine) -> Iterator[Callable[[], None]]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_projections, args=(engine, stop), kwargs={"retry": 0.5}, daemon=True
    )
    thread.start()

    def caught_up() -> None:
        deadline = time.monotonic() + 30
        while any(lag.events_behind for lag in projection_lag(engine)):
            assert time.monotonic() < deadline, "projections did not catch up"
            time.sleep(0.05)

    yield caught_up
    stop.set()
    thread.join(15)


@pytest.fixture(scope="module")
async def console(
    dev_server_env: WorkflowEnvironment,
    engine: Engine,
    database_url: str,
    people: None,
    follow: Callable[[], None],
) -> AsyncIterator[Console]:
    queue = f"tq-{uuid.uuid4()}"
    port = _free_port()
    settings = Settings(database_url=database_url, task_queue=queue, api_port=port)
    app = create_app(settings, engine=engine, temporal_client=dev_server_env.client)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", log_config=None
        )
    )
    serving = asyncio.create_task(server.serve())
    async with build_worker(
        dev_server_env.client, EventStore(engine), task_queue=queue, max_cached_workflows=10
    ):
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        async with async_playwright() as pw:
            # A Chinese browser, as on a Chinese desktop: --lang (and LANGUAGE) set its UI
            # language, the context's locale the pages' Accept-Language and Intl. Debian's
            # Chromium without chromium-l10n has only en-US strings, so date fields are
            # also told to follow the page's lang="zh-CN" (2027/03/07, not 03/07/2027).
            # The console draws its own file button (选择文件) in any case.
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--lang=zh-CN",
                    "--enable-blink-features=LangAttributeAwareFormControlUI",
                ],
                env={**os.environ, "LANGUAGE": "zh_CN"},
            )
            try:
                yield Console(f"http://127.0.0.1:{port}", engine, browser, follow)
            finally:
                await browser.close()
    server.should_exit = True
    await asyncio.wait_for(serving, 15)
