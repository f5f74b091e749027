"""Exactly once across a case's whole life: repeats by Idempotency-Key after
continue-as-new, after an answer that was never kept, from another caller, and
from clients retrying through a worker killed with -9 and an API restart."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import Engine, text
from temporalio.testing import WorkflowEnvironment

from store.event_store import EventStore
from tests.faults.conftest import Api, WorkerProcess, events_of, make_api
from worker import build_worker
from workflows.models import case_workflow_id

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _texts(engine: Engine, case_id: str) -> list[str]:
    return [d["text"] for t, d, _ in events_of(engine, case_id) if t == "ProgressReported"]


async def _run_id(api: Api, case_id: str) -> str:
    handle = api.env.client.get_workflow_handle(case_workflow_id(case_id))
    return (await handle.describe()).run_id or ""


async def _until_continued_as_new(api: Api, case_id: str, label: str) -> None:
    """Progress reports without a key until the case's workflow starts a new run."""
    before = await _run_id(api, case_id)
    for n in range(80):
        response = await api.post(f"/cases/{case_id}/progress", {"text": f"{label} {n}"}, "unit")
        assert response.status_code == 200, response.text
        if await _run_id(api, case_id) != before:
            return
    raise AssertionError("the workflow never continued as new")


def _forget_answer(engine: Engine, key: str) -> None:
    """As if the API died between the update and keeping its answer."""
    with engine.begin() as conn:
        forgotten = conn.execute(
            text(
                "UPDATE idempotency_keys SET answer_status = NULL, answer = NULL "
                "WHERE key = :key AND answer_status IS NOT NULL"
            ),
            {"key": key},
        ).rowcount
    assert forgotten == 1


async def test_a_repeat_after_continue_as_new_is_answered_and_appends_nothing(
    dev_server_env: WorkflowEnvironment, engine: Engine, database_url: str, tokens: dict[str, str]
) -> None:
    api = make_api(dev_server_env, engine, database_url, tokens, case_history_limit=40)
    async with build_worker(
        dev_server_env.client,
        EventStore(engine),
        task_queue=api.settings.task_queue,
        max_cached_workflows=10,
    ):
        case_id = await api.open_case()
        assert (await api.post(f"/cases/{case_id}/plan", {"plan": "方案"}, "unit")).is_success
        key = f"k-{uuid.uuid4()}"
        body = {"text": "第一次进展"}
        first = await api.post(f"/cases/{case_id}/progress", body, "unit", key)
        assert first.status_code == 200, first.text

        await _until_continued_as_new(api, case_id, "其间进展")
        api.restart()  # and the API restarted too
        again = await api.post(f"/cases/{case_id}/progress", body, "unit", key)
        assert again.status_code == 200
        assert again.json() == first.json()  # the first answer, word for word
        assert again.headers["Idempotent-Replayed"] == "true"
        assert _texts(engine, case_id).count("第一次进展") == 1

        # The API died before keeping the answer, and the case moved to yet another run:
        # the workflow itself recognises the key and appends nothing.
        _forget_answer(engine, key)
        await _until_continued_as_new(api, case_id, "再次进展")
        version_before = len(events_of(engine, case_id))
        late = await api.post(f"/cases/{case_id}/progress", body, "unit", key)
        assert late.status_code == 200, late.text
        assert late.json()["version"] == version_before
        assert len(events_of(engine, case_id)) == version_before
        assert _texts(engine, case_id).count("第一次进展") == 1
        keyed = [m for t, _, m in events_of(engine, case_id) if m.get("command_key")]
        assert len(keyed) == 1  # the one event the key caused carries it, for auditors


async def test_a_key_belongs_to_its_caller(
    dev_server_env: WorkflowEnvironment, engine: Engine, database_url: str, tokens: dict[str, str]
) -> None:
    api = make_api(dev_server_env, engine, database_url, tokens)
    async with build_worker(
        dev_server_env.client,
        EventStore(engine),
        task_queue=api.settings.task_queue,
        max_cached_workflows=10,
    ):
        case_id = await api.open_case()
        assert (await api.post(f"/cases/{case_id}/plan", {"plan": "方案"}, "unit")).is_success
        key, body = f"k-{uuid.uuid4()}", {"text": "单位的进展"}
        ours = await api.post(f"/cases/{case_id}/progress", body, "unit", key)
        assert ours.status_code == 200

        # An inspector with the unit's key and body gets their own refusal, not the answer.
        theirs = await api.post(f"/cases/{case_id}/progress", body, "inspector", key)
        assert theirs.status_code == 403
        assert "Idempotent-Replayed" not in theirs.headers
        # Another user of the same unit with the same key makes a request of their own.
        colleague = await api.post(f"/cases/{case_id}/progress", body, "second_unit_user", key)
        assert colleague.status_code == 200
        assert "Idempotent-Replayed" not in colleague.headers
        assert colleague.json()["version"] == ours.json()["version"] + 1
        assert _texts(engine, case_id).count("单位的进展") == 2


async def test_a_refusal_is_the_first_answer_of_its_key(
    dev_server_env: WorkflowEnvironment, engine: Engine, database_url: str, tokens: dict[str, str]
) -> None:
    api = make_api(dev_server_env, engine, database_url, tokens)
    async with build_worker(
        dev_server_env.client,
        EventStore(engine),
        task_queue=api.settings.task_queue,
        max_cached_workflows=10,
    ):
        case_id = await api.open_case()
        key, body = f"k-{uuid.uuid4()}", {"decision": "pass"}
        refused = await api.post(f"/cases/{case_id}/verification", body, "supervisor", key)
        assert refused.status_code == 409
        assert (await api.post(f"/cases/{case_id}/plan", {"plan": "方案"}, "unit")).is_success
        closure = {"summary": "已完成", "evidence": []}
        asked = await api.post(f"/cases/{case_id}/closure-request", closure, "unit")
        assert asked.status_code == 200, asked.text
        # The same request now would pass; its key still answers what it answered.
        again = await api.post(f"/cases/{case_id}/verification", body, "supervisor", key)
        assert again.status_code == 409
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["code"] == refused.json()["code"]
        assert "CaseClosed" not in [t for t, _, _ in events_of(engine, case_id)]


async def test_clients_retrying_through_a_killed_worker_lose_and_double_nothing(
    dev_server_env: WorkflowEnvironment,
    engine: Engine,
    database_url: str,
    tokens: dict[str, str],
    worker_process: tuple[WorkerProcess, str],
) -> None:
    worker, queue = worker_process
    api = make_api(dev_server_env, engine, database_url, tokens, command_timeout_seconds=3)
    api.settings = api.settings.model_copy(update={"task_queue": queue})
    api.restart()
    case_id = await api.open_case()
    assert (await api.post(f"/cases/{case_id}/plan", {"plan": "方案"}, "unit")).is_success

    statuses: list[str] = []
    progress = f"/cases/{case_id}/progress"
    bodies = [{"text": f"批量进展 {n}"} for n in range(24)]
    keys = [f"burst-{uuid.uuid4()}" for _ in bodies]
    first_half = [
        asyncio.create_task(api.send_until_answered(progress, b, "unit", k, statuses))
        for b, k in zip(bodies[:12], keys[:12], strict=True)
    ]
    await asyncio.sleep(0.3)
    worker.kill()  # mid-burst: some of the first half are in flight
    # While no worker runs, a command is answered 503 command_pending, not left hanging.
    lone_key = f"lone-{uuid.uuid4()}"
    pending = await api.post(f"/cases/{case_id}/progress", {"text": "无人处理"}, "unit", lone_key)
    assert pending.status_code == 503
    assert pending.json()["code"] == "command_pending"
    api.restart()  # the API restarts as well
    worker.start()
    second_half = [
        asyncio.create_task(api.send_until_answered(progress, b, "unit", k, statuses))
        for b, k in zip(bodies[12:], keys[12:], strict=True)
    ]
    answers = await asyncio.wait_for(asyncio.gather(*first_half, *second_half), timeout=180)
    lone = await asyncio.wait_for(
        api.send_until_answered(progress, {"text": "无人处理"}, "unit", lone_key, statuses), 60
    )
    assert lone.status_code == 200
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    texts = _texts(engine, case_id)
    expected = sorted([b["text"] for b in bodies] + ["无人处理"])
    assert sorted(texts) == expected  # 0 lost, 0 duplicated
    versions = [v for v in range(1, len(events_of(engine, case_id)) + 1)]
    stored = EventStore(engine).read_stream(case_workflow_id(case_id))
    assert [e.version for e in stored] == versions
    assert "command_pending" in statuses
