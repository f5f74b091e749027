"""GET /cases/{id}/history checks the case's events against the seals: a sealed
event rewritten by a superuser, with the chain recomputed and the streams row
moved to match, makes the history say not ok and name the version."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import Engine, text

from store.canonical import canonical_bytes, chain_hash
from store.event_store import EventStore
from store.seals import seal_log
from tests.api.conftest import Stack, open_case

pytestmark = pytest.mark.integration

KEY = b"h" * 32


def _seal_everything(engine: Engine) -> None:
    """A seal stops below the oldest running transaction of the server (other
    tests may hold one): seal until every event is covered."""
    deadline = time.monotonic() + 20
    while True:
        outcome = seal_log(engine, KEY)
        with engine.connect() as conn:
            total = int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())
        assert outcome.seal is not None
        if outcome.seal.event_count == total:
            return
        assert time.monotonic() < deadline, "the seal never covered every event"
        time.sleep(0.05)


def _rewrite_first_event(engine: Engine, stream: str) -> None:
    """Version 1's data changed, every hash and link after it recomputed, the
    streams row moved to the new head, with the append-only triggers off."""
    events = EventStore(engine).read_stream(stream)
    previous = events[0].previous_hash
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for event in events:
            data = {**event.data, "title": "改写"} if event.version == 1 else event.data
            digest = chain_hash(
                previous,
                canonical_bytes(
                    stream_id=stream,
                    version=event.version,
                    event_id=event.event_id,
                    type=event.type,
                    schema_version=event.schema_version,
                    data=data,
                    metadata=event.metadata,
                    recorded_at=event.recorded_at,
                ),
            )
            conn.execute(
                text(
                    "UPDATE events SET data = CAST(:d AS jsonb), previous_hash = :p, hash = :h "
                    "WHERE stream_id = :s AND version = :v"
                ),
                {
                    "d": json.dumps(data),
                    "p": previous,
                    "h": digest,
                    "s": stream,
                    "v": event.version,
                },
            )
            previous = digest
        conn.execute(
            text("UPDATE streams SET head_hash = :h WHERE stream_id = :s"),
            {"h": previous, "s": stream},
        )


async def test_the_history_says_not_ok_when_a_sealed_event_was_rewritten(stack: Stack) -> None:
    case_id = await open_case(stack, "河道整治台账", 30)
    other_id = await open_case(stack, "另一案件", 30)
    _seal_everything(stack.engine)
    url = f"/api/v1/cases/{case_id}/history"
    before = (await stack.client.get(url, headers=stack.auth("inspector"))).json()
    assert before["verification"]["ok"] is True
    assert before["verification"]["seals_covering"] >= 1
    assert before["verification"]["first_bad_version"] is None
    stream = before["stream_id"]

    _rewrite_first_event(stack.engine, stream)

    response = await stack.client.get(url, headers=stack.auth("inspector"))
    assert response.status_code == 200
    verification = response.json()["verification"]
    assert verification["ok"] is False
    assert verification["first_bad_version"] == 1
    assert verification["first_problem"] == "sealed_event"
    assert verification["seals_covering"] >= 1
    assert verification["problems"][0]["stream_id"] == stream
    # The chain alone agrees with itself: only the seal tells.
    assert {p["code"] for p in verification["problems"]} == {"sealed_event"}
    # The fields the history always had are still there.
    assert {"ok", "events_checked", "seals_checked", "problems"} <= verification.keys()
    other = await stack.client.get(
        f"/api/v1/cases/{other_id}/history", headers=stack.auth("inspector")
    )
    assert other.json()["verification"]["ok"] is True
