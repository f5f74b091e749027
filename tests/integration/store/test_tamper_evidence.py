"""Tamper evidence that names the case: a superuser rewrites, truncates or
unseals, and the seals (with the witness file) still say which stream and
which version, on real PostgreSQL."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from cli.audit import audit_app
from store.canonical import canonical_bytes, chain_hash
from store.engine import make_engine
from store.event_store import EventStore
from store.seals import SealRefused, seal_log
from store.verify import verify_log
from store.witness import read_witness
from tests.integration.store.helpers import new_events, new_stream
from tests.postgres import fresh_database

pytestmark = pytest.mark.integration

KEY = "t" * 32
runner = CliRunner()


@pytest.fixture
def fresh(pg_server: str) -> Iterator[tuple[str, Engine, EventStore]]:
    with fresh_database(pg_server) as url:
        engine = make_engine(url)
        try:
            yield url, engine, EventStore(engine)
        finally:
            engine.dispose()


def _env(url: str, witness: Path | None = None) -> dict[str, str | None]:
    return {
        "DATABASE_URL": url,
        "ZHENGGAI_DATABASE_URL": None,
        "ZHENGGAI_AUDIT_KEY": KEY,
        "ZHENGGAI_AUDIT_WITNESS_FILE": None if witness is None else str(witness),
        "ZHENGGAI_LANGUAGE": "en",
        "ZHENGGAI_ENVIRONMENT": "development",
    }


def _fill(store: EventStore, streams: int = 3, each: int = 4) -> list[str]:
    names = [new_stream() for _ in range(streams)]
    for name in names:
        store.append(name, 0, new_events(each // 2))
        store.append(name, each // 2, new_events(each - each // 2, note="整改"))
    return names


def _events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())


def _seal_everything(engine: Engine, witness: Path | None = None) -> int:
    """Seal until the seals cover every event. A seal stops below the oldest
    running transaction of the whole server, which other tests may hold."""
    deadline = time.monotonic() + 20
    while True:
        outcome = seal_log(engine, KEY.encode(), witness=witness)
        assert outcome.seal is not None
        if outcome.seal.event_count == _events(engine):
            return outcome.seal.seq
        assert time.monotonic() < deadline, "the seal never covered every event"
        time.sleep(0.05)


def _seal_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM seals")).scalar_one())


def _as_superuser(engine: Engine, *statements: tuple[str, dict[str, object]]) -> None:
    """With the append-only triggers off, as an attacker with database rights would."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement, params in statements:
            conn.execute(text(statement), params)


def _rewrite_with_chain_recomputed(
    engine: Engine, store: EventStore, stream: str, version: int
) -> None:
    """Change ``version``'s data, recompute its hash and every later link and
    hash of the stream, and move the streams row to the new head: the chain
    checks alone find nothing."""
    events = store.read_stream(stream)
    previous = events[version - 2].hash if version > 1 else events[0].previous_hash
    statements = []
    for event in events[version - 1 :]:
        data = {**event.data, "n": 99} if event.version == version else event.data
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
        statements.append(
            (
                "UPDATE events SET data = CAST(:d AS jsonb), previous_hash = :p, hash = :h "
                "WHERE stream_id = :s AND version = :v",
                {
                    "d": json.dumps(data),
                    "p": previous,
                    "h": digest,
                    "s": stream,
                    "v": event.version,
                },
            )
        )
        previous = digest
    statements.append(
        ("UPDATE streams SET head_hash = :h WHERE stream_id = :s", {"h": previous, "s": stream})
    )
    _as_superuser(engine, *statements)


def test_an_untouched_store_verifies_ok_against_every_seal(
    fresh: tuple[str, Engine, EventStore], tmp_path: Path
) -> None:
    url, engine, store = fresh
    witness = tmp_path / "witness.jsonl"
    names = _fill(store)
    _seal_everything(engine, witness)
    _fill(store, streams=1)
    store.append(names[0], 4, new_events(2))
    last = _seal_everything(engine, witness)
    assert [seal["seq"] for seal in read_witness(witness)] == list(range(1, last + 1))
    full = verify_log(engine, KEY.encode(), witness=witness)
    assert full.ok, full.problems
    one = verify_log(engine, KEY.encode(), stream_id=names[0], witness=witness)
    assert one.ok, one.problems
    assert one.sealed_by >= 2  # the first seal and the one that sealed versions 5-6
    assert one.sealed_version == 6
    checked = runner.invoke(audit_app, ["verify"], env=_env(url, witness))
    assert checked.exit_code == 0, checked.output
    alone = runner.invoke(audit_app, ["verify", "--stream", names[1]], env=_env(url, witness))
    assert alone.exit_code == 0, alone.output


def test_a_sealed_event_rewritten_with_the_chain_recomputed_is_named(
    fresh: tuple[str, Engine, EventStore],
) -> None:
    url, engine, store = fresh
    names = _fill(store)
    _seal_everything(engine)
    target = names[1]
    _rewrite_with_chain_recomputed(engine, store, target, 2)
    # Only the seals see it: the chain and the streams row agree with each other.
    chain_codes = {"hash", "link", "version", "head", "stream_row"}
    full = verify_log(engine, KEY.encode())
    assert not full.ok
    named = [(p.code, p.stream_id, p.version) for p in full.problems if p.stream_id]
    assert named == [("sealed_event", target, 2)]
    assert not chain_codes & {p.code for p in full.problems}
    one = verify_log(engine, KEY.encode(), stream_id=target)
    assert not one.ok
    assert [(p.code, p.stream_id, p.version) for p in one.problems] == [("sealed_event", target, 2)]
    assert verify_log(engine, KEY.encode(), stream_id=names[0]).ok  # the others are sound
    result = runner.invoke(audit_app, ["verify"], env=_env(url))
    assert result.exit_code == 1
    # A seal may stop short of the newest events (see _seal_everything): any seal number.
    assert re.search(
        rf"case stream {target} version 2: sealed by seal #\d+ but rewritten", (result.output)
    )
    only = runner.invoke(audit_app, ["verify", "--stream", target], env=_env(url))
    assert only.exit_code == 1
    assert f"case stream {target} version 2" in only.output
    zh = runner.invoke(
        audit_app, ["verify", "--stream", target], env={**_env(url), "ZHENGGAI_LANGUAGE": "zh-CN"}
    )
    assert re.search(rf"案件流 {target} 版本 2：已被封存 #\d+ 封存，但已被改写", zh.output)


def test_a_sealed_stream_truncated_with_its_row_moved_back_is_named(
    fresh: tuple[str, Engine, EventStore],
) -> None:
    url, engine, store = fresh
    names = _fill(store)
    _seal_everything(engine)
    target = names[2]
    kept = store.read_stream(target)[1]
    _as_superuser(
        engine,
        ("DELETE FROM events WHERE stream_id = :s AND version > 2", {"s": target}),
        (
            "UPDATE streams SET version = 2, head_hash = :h WHERE stream_id = :s",
            {"h": kept.hash, "s": target},
        ),
    )
    full = verify_log(engine, KEY.encode())
    named = [(p.code, p.stream_id, p.version) for p in full.problems if p.stream_id]
    assert named == [("sealed_missing", target, 3)]
    one = verify_log(engine, KEY.encode(), stream_id=target)
    assert [(p.code, p.stream_id, p.version) for p in one.problems] == [
        ("sealed_missing", target, 3)
    ]
    result = runner.invoke(audit_app, ["verify", "--stream", target], env=_env(url))
    assert result.exit_code == 1
    assert re.search(
        rf"case stream {target} version 3: sealed by seal #\d+ but gone", (result.output)
    )


def test_seal_refuses_an_altered_event_and_writes_no_seal(
    fresh: tuple[str, Engine, EventStore], tmp_path: Path
) -> None:
    url, engine, store = fresh
    witness = tmp_path / "witness.jsonl"
    target = _fill(store)[0]
    # Content altered in place (the links still hold, only the content hash tells).
    _as_superuser(
        engine,
        (
            "UPDATE events SET data = jsonb_set(data, '{n}', '7') "
            "WHERE stream_id = :s AND version = 2",
            {"s": target},
        ),
    )
    with pytest.raises(SealRefused) as refused:
        seal_log(engine, KEY.encode(), witness=witness)
    assert ("hash", target, 2) in [
        (p.code, p.stream_id, p.version) for p in refused.value.report.problems
    ]
    assert _seal_count(engine) == 0
    assert not witness.exists()
    result = runner.invoke(audit_app, ["seal"], env=_env(url, witness))
    assert result.exit_code == 1
    assert "the log does not verify, nothing sealed" in result.output
    assert f"stream {target} version 2: the content no longer gives the stored hash" in (
        result.output
    )
    assert _seal_count(engine) == 0


def test_seal_refuses_to_seal_over_a_rewritten_sealed_event(
    fresh: tuple[str, Engine, EventStore],
) -> None:
    url, engine, store = fresh
    target = _fill(store)[0]
    before = _seal_everything(engine)
    _rewrite_with_chain_recomputed(engine, store, target, 3)
    _fill(store, streams=1)
    result = runner.invoke(audit_app, ["seal"], env=_env(url))
    assert result.exit_code == 1
    assert f"case stream {target} version 3" in result.output
    assert _seal_count(engine) == before


def test_the_newest_seal_deleted_is_caught_by_the_witness_file(
    fresh: tuple[str, Engine, EventStore], tmp_path: Path
) -> None:
    url, engine, store = fresh
    witness = tmp_path / "witness.jsonl"
    _fill(store)
    _seal_everything(engine, witness)
    later = _fill(store, streams=1)[0]
    newest = _seal_everything(engine, witness)
    assert read_witness(witness)[-1]["seq"] == newest
    # A thorough insider removes the newest seal and its records of the streams.
    _as_superuser(
        engine,
        ("DELETE FROM seal_streams WHERE seal_seq = :q", {"q": newest}),
        ("DELETE FROM seals WHERE seq = :q", {"q": newest}),
    )
    assert verify_log(engine, KEY.encode()).ok  # without the witness, nothing shows
    report = verify_log(engine, KEY.encode(), witness=witness)
    assert [(p.code, p.seal_seq) for p in report.problems] == [("seal_missing", newest)]
    one = verify_log(engine, KEY.encode(), stream_id=later, witness=witness)
    assert not one.ok
    result = runner.invoke(audit_app, ["verify"], env=_env(url, witness))
    assert result.exit_code == 1
    assert f"seal #{newest}: in the witness file but missing from the database" in result.output
    refused = runner.invoke(audit_app, ["seal"], env=_env(url, witness))
    assert refused.exit_code == 1
    assert _seal_count(engine) == newest - 1


def test_a_forged_record_of_a_stream_is_reported(fresh: tuple[str, Engine, EventStore]) -> None:
    _, engine, store = fresh
    target = _fill(store)[0]
    _seal_everything(engine)
    # The insider rewrites the events and the seal's record to match: the
    # record's HMAC (the key is not in the database) gives it away.
    _rewrite_with_chain_recomputed(engine, store, target, 2)
    hashes = b"".join(e.hash for e in store.read_stream(target))
    _as_superuser(
        engine,
        ("UPDATE seal_streams SET hashes = :h WHERE stream_id = :s", {"h": hashes, "s": target}),
    )
    one = verify_log(engine, KEY.encode(), stream_id=target)
    assert ("seal_streams", target) in [(p.code, p.stream_id) for p in one.problems]
    full = verify_log(engine, KEY.encode())
    codes = {(p.code, p.stream_id) for p in full.problems}
    assert ("seal_streams", target) in codes
    assert ("seal_streams", None) in codes  # the seal's signed digest of its records
