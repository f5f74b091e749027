"""Dead notifications for admins: `zhenggai notifications …` and the API, with bad input."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import typer
from fastapi import FastAPI
from sqlalchemy import Engine
from typer.testing import CliRunner

from api.main import API_PREFIX, create_app
from api.routes import notifications as notification_routes
from cli.notifications import dispatcher, notifications_app
from settings import Settings
from store.directory import Directory
from store.outbox import Outbox, OutboxStatus
from store.tokens import Tokens
from tests.integration.notifications.helpers import UNITS, notification

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def units(engine: Engine) -> None:
    Directory(engine).add_units(UNITS)


@pytest.fixture
def dead_row(engine: Engine, units: None) -> int:
    """A row that has run out of attempts."""
    outbox = Outbox(engine)
    case = uuid.uuid4().hex
    outbox.enqueue([notification(case, str(uuid.uuid4()), "gone@example.cn")])
    (row,) = [r for r in outbox.claim(limit=100) if r.case_id == case]
    outbox.mark_failed(row, "SMTP 127.0.0.1:1: ConnectionRefusedError", delay=0, max_attempts=1)
    return row.id


@pytest.fixture
def cli_env(database_url: str) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "ZHENGGAI_LANGUAGE": "zh-CN"}


def test_the_cli_lists_dead_rows_and_retries_one_by_hand(
    engine: Engine, dead_row: int, cli_env: dict[str, str]
) -> None:
    runner = CliRunner()
    listed = runner.invoke(notifications_app, ["list", "--dead"], env=cli_env)
    assert listed.exit_code == 0, listed.output
    assert "gone@example.cn" in listed.output
    assert "dead" in listed.output
    retried = runner.invoke(notifications_app, ["retry", str(dead_row)], env=cli_env)
    assert retried.exit_code == 0, retried.output
    assert "已重新排队" in retried.output
    assert Outbox(engine).get(dead_row).status is OutboxStatus.PENDING  # type: ignore[union-attr]


def test_the_cli_refuses_an_unknown_notification_in_one_line(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(notifications_app, ["retry", "999999"], env=cli_env)
    assert result.exit_code == 2
    assert result.output.strip() == "zhenggai: 通知 999999 不存在"


def test_the_dispatcher_refuses_a_bad_smtp_setting_in_one_line(cli_env: dict[str, str]) -> None:
    app = _single_command_app()
    bad_port = CliRunner().invoke(app, [], env={**cli_env, "ZHENGGAI_SMTP_PORT": "not-a-port"})
    assert bad_port.exit_code == 2
    assert len(bad_port.output.strip().splitlines()) == 1
    assert "smtp_port" in bad_port.output
    no_user = CliRunner().invoke(app, [], env={**cli_env, "ZHENGGAI_SMTP_PASSWORD": "x"})
    assert no_user.exit_code == 2
    assert "ZHENGGAI_SMTP_USERNAME" in no_user.output


def test_a_contact_for_an_unknown_unit_is_refused(cli_env: dict[str, str]) -> None:
    args = ["contact", "add", "--unit", "nowhere", "--role", "leader", "--channel", "email"]
    result = CliRunner().invoke(notifications_app, [*args, "--address", "a@b.cn"], env=cli_env)
    assert result.exit_code == 2
    assert "nowhere" in result.output


def _single_command_app() -> typer.Typer:
    app = typer.Typer()
    app.command()(dispatcher)
    return app


@pytest.fixture
async def api(
    engine: Engine, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, dict[str, str]]]]:
    app: FastAPI = create_app(Settings(database_url=database_url), engine=engine)
    paths = {getattr(r, "path", "") for r in app.routes}
    if f"{API_PREFIX}/notifications" not in paths:  # until api/main.py includes the router
        app.include_router(notification_routes.router, prefix=API_PREFIX)
    issuer = Tokens(engine)
    tokens = {
        "admin": issuer.create(role="admin", unit_id=None, name="管理员").secret,
        "supervisor": issuer.create(role="supervisor", unit_id="prov", name="督查员").secret,
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}


async def test_admins_see_dead_rows_and_retry_them_in_the_api(
    engine: Engine, dead_row: int, api: tuple[httpx.AsyncClient, dict[str, dict[str, str]]]
) -> None:
    client, auth = api
    listed = await client.get(f"{API_PREFIX}/notifications?status=dead", headers=auth["admin"])
    assert listed.status_code == 200
    assert dead_row in [n["id"] for n in listed.json()]
    retried = await client.post(
        f"{API_PREFIX}/notifications/{dead_row}/retry", headers=auth["admin"]
    )
    assert retried.status_code == 200
    assert retried.json()["status"] == "pending"

    unknown = await client.post(f"{API_PREFIX}/notifications/999999/retry", headers=auth["admin"])
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["code"] == "notification_not_found"
    forbidden = await client.get(f"{API_PREFIX}/notifications", headers=auth["supervisor"])
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "forbidden_role"
    bad = await client.get(f"{API_PREFIX}/notifications?status=lost", headers=auth["admin"])
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
