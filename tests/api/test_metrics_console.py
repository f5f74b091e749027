"""/metrics counts every request of the app, the console's as well as the API's, by
route template, method and status, and no client can multiply its series."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import Stack

pytestmark = pytest.mark.integration


def _series(body: str, name: str) -> dict[tuple[str, ...], float]:
    """The samples of ``name`` by their labels (handler, method[, status])."""
    found: dict[tuple[str, ...], float] = {}
    for line in body.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
            key = tuple(labels[k] for k in ("handler", "method", "status") if k in labels)
            found[key] = float(match.group(2))
    return found


def _requests(body: str) -> dict[tuple[str, ...], float]:
    return _series(body, "zhenggai_api_http_requests_total")


def _durations(body: str) -> set[tuple[str, ...]]:
    return set(_series(body, "zhenggai_api_http_request_duration_seconds_count"))


async def test_console_requests_are_counted_by_route_template_and_status(stack: Stack) -> None:
    client = stack.client
    assert (await client.get("/console/login")).status_code == 200
    assert (await client.post("/console/login", data={"username": "x"})).status_code == 403
    for case_id in ("c0ffee01", "c0ffee02", "c0ffee03"):  # signed out: to the login page
        assert (await client.get(f"/console/cases/{case_id}")).status_code == 303
    assert (await client.get("/console/static/console.css")).status_code == 200
    assert (await client.get("/console/no/such/page")).status_code == 404
    assert (await client.get("/api/v1/cases/c0ffee01", headers=stack.auth("unit"))).status_code

    body = (await client.get("/metrics")).text
    counted = _requests(body)
    assert counted[("/console/login", "GET", "200")] == 1
    assert counted[("/console/login", "POST", "403")] == 1
    assert counted[("/console/cases/{case_id}", "GET", "303")] == 3  # one series, not three
    assert counted[("/console/static", "GET", "200")] == 1  # the files are one series
    assert counted[("none", "GET", "404")] >= 1  # a made-up page: counted, as "none"
    assert counted[("/api/v1/cases/{case_id}", "GET", "404")] >= 1
    assert not [key for key in counted if "c0ffee" in key[0] or "no/such" in key[0]], counted
    # Latency histograms by the same templates.
    durations = _durations(body)
    assert ("/console/cases/{case_id}", "GET") in durations, durations
    assert ("/console/login", "POST") in durations, durations
    # /metrics, /livez and /readyz are not counted; other paths with those words are.
    assert not [key for key in counted if key[0] in ("/metrics", "/livez", "/readyz")]


async def test_no_client_can_multiply_the_series(stack: Stack) -> None:
    client = stack.client
    before = _requests((await client.get("/metrics")).text)
    for n in range(5):
        await client.get(f"/console/made-up-{n}")  # 404s of made-up paths
        await client.get(f"/api/v1/cases/c0ffee{n}/", headers=stack.auth("unit"))  # slash redirect
        await client.request(f"BREW{n}", "/api/v1/cases/c0ffee01")  # methods of its own
        await client.get(f"/api/v1/metrics/{n}")  # not the excluded /metrics

    after = _requests((await client.get("/metrics")).text)
    new = {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key)}
    assert new == {
        ("none", "GET", "404"): 10,
        ("none", "GET", "307"): 5,
        ("/api/v1/cases/{case_id}", "other", "405"): 5,
    }, new
