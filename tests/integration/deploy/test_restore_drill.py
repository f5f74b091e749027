"""deploy/restore_drill.py on a real server: dump, restore into a scratch database,
`zhenggai audit verify` there; and a tampered restore is caught."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from store.event_store import EventStore
from store.seals import seal_log
from tests.integration.store.helpers import new_events, new_stream

pytestmark = pytest.mark.integration

KEY = "restore-drill-key-0123456789abcdef"
DRILL = Path(__file__).resolve().parents[3] / "deploy" / "restore_drill.py"


def _env(url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ZHENGGAI_") and k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")
    }
    return {**env, "DATABASE_URL": url, "ZHENGGAI_AUDIT_KEY": KEY}


def test_the_drill_restores_and_verifies_the_log(
    database_url: str, engine: Engine, event_store: EventStore
) -> None:
    for _ in range(3):
        name = new_stream()
        event_store.append(name, 0, new_events(3, note="整改"))
    assert seal_log(engine, KEY.encode()).created
    event_store.append(new_stream(), 0, new_events(2))  # after the seal, unsealed

    done = subprocess.run(
        [sys.executable, str(DRILL)], env=_env(database_url), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit verify exit 0" in done.stdout
    assert "restored: 11 events, 1 seals" in done.stdout
    with engine.connect() as conn:  # the scratch database is gone
        left = conn.execute(
            text("SELECT count(*) FROM pg_database WHERE datname LIKE 'zg_restore_drill_%'")
        ).scalar_one()
    assert left == 0


def test_a_restore_that_fails_verification_fails_the_drill(
    database_url: str, engine: Engine
) -> None:
    # The drill verifies with this environment's keys: a wrong key cannot check the seal.
    env = {**_env(database_url), "ZHENGGAI_AUDIT_KEY": "another-key-0123456789abcdef-xyz"}
    done = subprocess.run([sys.executable, str(DRILL)], env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
