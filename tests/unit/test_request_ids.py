"""The request id middleware: an id offered by the client is echoed when it is safe,
replaced when it is not, reaches the route (and the problem bodies), and every
request is logged once with its status."""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.request_ids import HEADER, RequestIdMiddleware


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestIdMiddleware)

    @app.get("/seen")
    async def seen(request: Request) -> dict[str, str]:
        bound = structlog.contextvars.get_contextvars()
        return {"state": request.state.request_id, "log": bound["request_id"]}

    @app.get("/own-header")
    async def own_header() -> JSONResponse:
        return JSONResponse({}, status_code=409, headers={HEADER: "set-by-the-route"})

    @app.get("/fails")
    async def fails() -> None:
        raise RuntimeError("boom")

    return app


@pytest.fixture
def logged() -> Iterator[list[MutableMapping[str, Any]]]:
    with structlog.testing.capture_logs() as captured:
        yield captured


async def _get(path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """One request; header values go out as latin-1 bytes, as a client may send them."""
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        raw = {k.encode(): v.encode("latin-1") for k, v in (headers or {}).items()}
        return await client.get(path, headers=raw)


async def test_a_safe_offered_id_is_echoed_and_reaches_the_route_and_the_log(
    logged: list[MutableMapping[str, Any]],
) -> None:
    response = await _get("/seen", {HEADER: "abc-123.X_y"})
    assert response.headers[HEADER] == "abc-123.X_y"
    assert response.json() == {"state": "abc-123.X_y", "log": "abc-123.X_y"}
    requests = [e for e in logged if e["event"] == "request"]
    assert len(requests) == 1
    assert (requests[0]["method"], requests[0]["path"], requests[0]["status"]) == (
        "GET",
        "/seen",
        200,
    )


@pytest.mark.parametrize("offered", ["", "has space", "x" * 129, "semi;colon", "换行"], ids=repr)
async def test_an_unsafe_or_missing_id_is_replaced_by_a_new_one(offered: str) -> None:
    headers = (
        {HEADER: offered} if offered.isascii() else {HEADER: offered.encode().decode("latin-1")}
    )
    response = await _get("/seen", headers)
    made = response.headers[HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", made), made
    assert response.json()["state"] == made


async def test_the_id_replaces_one_the_route_set_and_every_status_is_logged(
    logged: list[MutableMapping[str, Any]],
) -> None:
    conflict = await _get("/own-header", {HEADER: "mine"})
    assert conflict.status_code == 409
    assert conflict.headers.get_list(HEADER) == ["mine"]
    missing = await _get("/nowhere")
    assert missing.status_code == 404
    assert re.fullmatch(r"[0-9a-f]{32}", missing.headers[HEADER])
    failed = await _get("/fails")
    assert failed.status_code == 500  # answered by Starlette's error middleware, outside
    statuses = [e["status"] for e in logged if e["event"] == "request"]
    assert statuses == [409, 404, 500]
