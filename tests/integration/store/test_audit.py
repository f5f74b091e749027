"""Seals and verification on real PostgreSQL, through the `zhenggai audit` commands."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from cli.audit import audit_app
from store.audit_keys import AuditKeys, key_id
from store.engine import make_engine
from store.event_store import EventStore
from store.merkle import EMPTY_ROOT, merkle_root
from store.seals import seal_log
from store.verify import verify_log
from tests.integration.store.helpers import new_events, new_stream
from tests.postgres import fresh_database

pytestmark = pytest.mark.integration

KEY = "k" * 32
runner = CliRunner()


def _reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written as the RFC does."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    left, right = _reference_root(leaves[:k]), _reference_root(leaves[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 8, 13, 64, 100])
def test_the_incremental_merkle_root_is_the_rfc_6962_root(n: int) -> None:
    leaves = [bytes([i % 256]) * (i % 7 + 1) for i in range(n)]
    assert merkle_root(leaves) == _reference_root(leaves)


@pytest.fixture
def fresh(pg_server: str) -> Iterator[tuple[str, Engine, EventStore]]:
    """A database of its own: these tests alter the log on purpose."""
    with fresh_database(pg_server) as url:
        engine = make_engine(url)
        try:
            yield url, engine, EventStore(engine)
        finally:
            engine.dispose()


def _env(url: str | None, key: str | None = KEY, language: str = "en") -> dict[str, str | None]:
    return {
        "DATABASE_URL": url,
        "ZHENGGAI_DATABASE_URL": None,
        "ZHENGGAI_AUDIT_KEY": key,
        "ZHENGGAI_AUDIT_WITNESS_FILE": None,
        "ZHENGGAI_LANGUAGE": language,
        "ZHENGGAI_ENVIRONMENT": "development",
    }


def _fill(store: EventStore, streams: int = 3, each: int = 4) -> list[str]:
    names = [new_stream() for _ in range(streams)]
    for name in names:
        store.append(name, 0, new_events(each // 2))
        store.append(name, each // 2, new_events(each - each // 2, note="整改"))
    return names


def _as_superuser_without_trigger(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_no_update_delete"))
        conn.execute(text(statement), params)
        conn.execute(text("ALTER TABLE events ENABLE TRIGGER events_no_update_delete"))


def test_an_untouched_log_verifies_after_seals(fresh: tuple[str, Engine, EventStore]) -> None:
    url, _, store = fresh
    _fill(store)
    first = runner.invoke(audit_app, ["seal"], env=_env(url))
    assert first.exit_code == 0, first.output
    assert "sealed #1: 12 events" in first.output
    again = runner.invoke(audit_app, ["seal"], env=_env(url))
    assert "no new events" in again.output
    _fill(store, streams=1)
    second = runner.invoke(audit_app, ["seal"], env=_env(url, language="zh-CN"))
    assert second.exit_code == 0
    assert "已封存 #2" in second.output
    checked = runner.invoke(audit_app, ["verify"], env=_env(url))
    assert checked.exit_code == 0, checked.output
    assert "verified: 16 events, 4 streams, 2 seals" in checked.output


def test_a_change_made_with_the_trigger_disabled_is_caught_and_named(
    fresh: tuple[str, Engine, EventStore],
) -> None:
    url, engine, store = fresh
    target = _fill(store)[1]
    assert seal_log(engine, KEY.encode()).created
    _as_superuser_without_trigger(
        engine,
        "UPDATE events SET data = jsonb_set(data, '{n}', '7') WHERE stream_id = :s AND version = 3",
        s=target,
    )
    result = runner.invoke(audit_app, ["verify"], env=_env(url))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "problems found" in lines[0]
    assert f"stream {target} version 3: the content no longer gives the stored hash" in lines[1]
    assert len(lines) == 2  # the stored hashes are intact, so the seal still holds
    only = runner.invoke(audit_app, ["verify", "--stream", target], env=_env(url, language="zh"))
    assert only.exit_code in (1, 2)  # zh is not a language: settings refuse it
    only = runner.invoke(audit_app, ["verify", "--stream", target], env=_env(url, language="zh-CN"))
    assert only.exit_code == 1
    assert f"流 {target} 版本 3" in only.output


def test_a_rewrite_that_recomputes_the_chain_is_caught_by_the_seal(
    fresh: tuple[str, Engine, EventStore],
) -> None:
    url, engine, store = fresh
    target = _fill(store, streams=2, each=2)[0]
    seal_log(engine, KEY.encode())
    # An insider rewrites version 2 and recomputes its hash and the stream head.
    event = store.read_stream(target)[1]
    forged = {**event.data, "n": 99}
    from store.canonical import canonical_bytes, chain_hash

    digest = chain_hash(
        event.previous_hash,
        canonical_bytes(
            stream_id=target,
            version=2,
            event_id=event.event_id,
            type=event.type,
            schema_version=event.schema_version,
            data=forged,
            metadata=event.metadata,
            recorded_at=event.recorded_at,
        ),
    )
    _as_superuser_without_trigger(
        engine,
        "UPDATE events SET data = CAST(:d AS jsonb), hash = :h "
        "WHERE stream_id = :s AND version = 2",
        d=json.dumps(forged),
        h=digest,
        s=target,
    )
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE streams SET head_hash = :h WHERE stream_id = :s"),
            {"h": digest, "s": target},
        )
    report = verify_log(engine, KEY.encode())
    assert [p.code for p in report.problems] == ["seal_root", "sealed_event"]
    assert report.problems[0].seal_seq == 1
    assert (report.problems[1].stream_id, report.problems[1].version) == (target, 2)
    _fill(store, streams=1)
    refused = runner.invoke(audit_app, ["seal"], env=_env(url))
    assert refused.exit_code == 1
    assert "the log does not verify, nothing sealed" in refused.output
    assert f"case stream {target} version 2: sealed by seal #1 but rewritten" in refused.output


def test_a_deleted_event_is_a_broken_chain(fresh: tuple[str, Engine, EventStore]) -> None:
    _, engine, store = fresh
    target = _fill(store)[2]
    _as_superuser_without_trigger(
        engine, "DELETE FROM events WHERE stream_id = :s AND version = 2", s=target
    )
    report = verify_log(engine, None)
    assert (report.problems[0].code, report.problems[0].stream_id) == ("version", target)
    assert (report.problems[0].version, report.problems[0].expected) == (3, "version 2")
    assert [p.code for p in report.problems] == ["version"]


def test_seals_signed_with_a_key_this_machine_lacks_cannot_be_vouched_for(
    fresh: tuple[str, Engine, EventStore],
) -> None:
    url, engine, store = fresh
    _fill(store, streams=1)
    seal_log(engine, KEY.encode())
    result = runner.invoke(audit_app, ["verify"], env=_env(url, key="x" * 32))
    assert result.exit_code == 1
    assert f"seal #1: signed with key {key_id(KEY.encode())}, which is neither" in result.output
    refused = runner.invoke(audit_app, ["seal"], env=_env(url, key="x" * 32))
    assert refused.exit_code == 2  # configuration: keep the old key among the retired ones
    assert len(refused.output.strip().splitlines()) == 1
    assert "ZHENGGAI_AUDIT_RETIRED_KEYS" in refused.output
    assert _seal_count(engine) == 1


def _seal_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM seals")).scalar_one())


def test_a_rotated_key_signs_new_seals_and_the_retired_one_still_verifies_old_ones(
    fresh: tuple[str, Engine, EventStore],
) -> None:
    url, engine, store = fresh
    old, new = KEY, "n" * 32
    _fill(store, streams=1)
    assert runner.invoke(audit_app, ["seal"], env=_env(url, key=old)).exit_code == 0
    _fill(store, streams=1)
    rotated = {**_env(url, key=new), "ZHENGGAI_AUDIT_RETIRED_KEYS": json.dumps([old])}
    sealed = runner.invoke(audit_app, ["seal"], env=rotated)
    assert sealed.exit_code == 0, sealed.output
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT key_id FROM seals ORDER BY seq")).scalars().all()
    assert ids == [key_id(old.encode()), key_id(new.encode())]
    checked = runner.invoke(audit_app, ["verify"], env=rotated)
    assert checked.exit_code == 0, checked.output
    assert "2 seals, nothing wrong" in checked.output
    # Without the retired key, the old seal cannot be vouched for; nothing else is wrong.
    alone = verify_log(engine, AuditKeys(new.encode()))
    assert [(p.code, p.seal_seq) for p in alone.problems] == [("seal_key", 1)]
    # A forged signature under a key we hold is named as such.
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE seals DISABLE TRIGGER seals_no_update_delete"))
        conn.execute(text("UPDATE seals SET signature = sha256(signature) WHERE seq = 1"))
        conn.execute(text("ALTER TABLE seals ENABLE TRIGGER seals_no_update_delete"))
    forged = verify_log(engine, AuditKeys(new.encode(), (old.encode(),)))
    assert ("seal_signature", 1) in [(p.code, p.seal_seq) for p in forged.problems]
    _fill(store, streams=1)
    refused = runner.invoke(audit_app, ["seal"], env=rotated)
    # Sealing would extend a chain of seals that is no longer sound: refused.
    assert refused.exit_code == 1, refused.output
    assert f"seal #1 does not verify with its key {key_id(old.encode())}" in refused.output
    assert _seal_count(engine) == 2


@pytest.mark.parametrize(
    ("key", "retired", "reason"),
    [
        ("short", "[]", "at least 16 bytes"),
        (KEY, json.dumps(["short"]), "at least 16 bytes"),
        (KEY, json.dumps([KEY]), "also listed as retired"),
        (None, json.dumps([KEY]), "needs ZHENGGAI_AUDIT_KEY"),
        (KEY, "not json", "RETIRED_KEYS"),
    ],
)
def test_unusable_audit_keys_are_refused_before_anything_is_sealed(
    fresh: tuple[str, Engine, EventStore], key: str | None, retired: str, reason: str
) -> None:
    url, engine, store = fresh
    _fill(store, streams=1)
    env = {**_env(url, key=key, language="en"), "ZHENGGAI_AUDIT_RETIRED_KEYS": retired}
    result = runner.invoke(audit_app, ["seal"], env=env)
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert reason.lower() in result.output.lower()
    assert _seal_count(engine) == 0


def test_the_inspector_can_export_the_seals(
    fresh: tuple[str, Engine, EventStore], tmp_path: Path
) -> None:
    url, engine, store = fresh
    _fill(store, streams=1)
    seal_log(engine, KEY.encode())
    _fill(store, streams=1)
    seal_log(engine, KEY.encode())
    target = tmp_path / "seals.jsonl"
    result = runner.invoke(audit_app, ["export-seals", "--output", str(target)], env=_env(url))
    assert result.exit_code == 0, result.output
    seals = [json.loads(line) for line in target.read_text().splitlines()]
    assert [s["seq"] for s in seals] == [1, 2]
    assert seals[1]["previous_signature"] == seals[0]["signature"]
    assert seals[1]["event_count"] == 8
    printed = runner.invoke(audit_app, ["export-seals"], env=_env(url, key=None))
    assert printed.exit_code == 0
    assert [json.loads(line) for line in printed.stdout.splitlines()] == seals
    kept = runner.invoke(audit_app, ["verify", "--seals", str(target)], env=_env(url))
    assert kept.exit_code == 0, kept.output


def test_seals_removed_from_the_database_are_caught_by_the_exported_copy(
    fresh: tuple[str, Engine, EventStore], tmp_path: Path
) -> None:
    url, engine, store = fresh
    _fill(store, streams=1)
    seal_log(engine, KEY.encode())
    target = tmp_path / "seals.jsonl"
    runner.invoke(audit_app, ["export-seals", "-o", str(target)], env=_env(url))
    with engine.begin() as conn:  # an insider drops the seals to hide a rewrite
        conn.execute(text("ALTER TABLE seals DISABLE TRIGGER seals_no_update_delete"))
        conn.execute(text("DELETE FROM seals"))
        conn.execute(text("ALTER TABLE seals ENABLE TRIGGER seals_no_update_delete"))
    # The seal's records of its streams are left without their seal: reported.
    orphaned = runner.invoke(audit_app, ["verify"], env=_env(url))
    assert orphaned.exit_code == 1
    assert "seal #1: its record of stream" in orphaned.output
    with engine.begin() as conn:  # a thorough insider drops those too
        conn.execute(text("SET session_replication_role = replica"))
        conn.execute(text("DELETE FROM seal_streams"))
    # Without a copy kept outside (export or witness file), nothing shows.
    assert runner.invoke(audit_app, ["verify"], env=_env(url)).exit_code == 0
    result = runner.invoke(audit_app, ["verify", "--seals", str(target)], env=_env(url))
    assert result.exit_code == 1
    assert "seal #1: does not match the copy kept outside (present, found missing)" in result.output
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n")
    bad = runner.invoke(audit_app, ["verify", "--seals", str(broken)], env=_env(url))
    assert bad.exit_code == 2
    assert len(bad.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("url", "key", "expected"),
    [
        (None, KEY, "DATABASE_URL is not set"),
        ("postgresql://nobody@127.0.0.1:1/none", KEY, "cannot reach the database"),
        ("mysql://x@y/z", KEY, "invalid settings"),
        ("USE_FRESH", None, "no audit key"),
        ("USE_FRESH", "short", "unusable audit key"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    database_url: str, url: str | None, key: str | None, expected: str
) -> None:
    url = database_url if url == "USE_FRESH" else url
    for command in (["seal"], ["verify"]):
        result = runner.invoke(audit_app, command, env=_env(url, key=key))
        if expected == "unusable audit key" and command == ["verify"]:
            continue  # verify with a short key just finds no valid seal: not bad input
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert len(result.output.strip().splitlines()) == 1
        assert expected in result.output or "配置无效" in result.output


def test_an_unmigrated_database_is_bad_input(pg_server: str) -> None:
    with fresh_database(pg_server, migrate=False) as url:
        result = runner.invoke(audit_app, ["verify"], env=_env(url))
    assert result.exit_code == 2
    assert "has `zhenggai migrate` been run?" in result.output


def test_a_broken_link_is_not_sealed(fresh: tuple[str, Engine, EventStore]) -> None:
    url, engine, store = fresh
    target = _fill(store)[0]
    _as_superuser_without_trigger(
        engine, "DELETE FROM events WHERE stream_id = :s AND version = 2", s=target
    )
    refused = runner.invoke(audit_app, ["seal"], env=_env(url, language="zh-CN"))
    assert refused.exit_code == 1
    assert "日志未通过核验，未封存" in refused.output
    assert f"流 {target}：版本不连续，应为 version 2" in refused.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM seals")).scalar_one() == 0


def test_a_sealed_event_rewritten_with_its_hash_is_named_by_its_broken_link(
    fresh: tuple[str, Engine, EventStore],
) -> None:
    """Links are rechecked only after the last seal; a seal whose root fails
    sends verify back into its range to name the stream and version."""
    _, engine, store = fresh
    target = _fill(store, streams=2)[1]
    assert seal_log(engine, KEY.encode()).created
    _as_superuser_without_trigger(
        engine,
        "UPDATE events SET hash = sha256(hash) WHERE stream_id = :s AND version = 2",
        s=target,
    )
    report = verify_log(engine, KEY.encode())
    found = {(p.code, p.stream_id, p.version) for p in report.problems}
    assert ("hash", target, 2) in found  # the content no longer gives the new hash
    assert ("link", target, 3) in found  # nor does version 3 link to it
    assert ("seal_root", None, None) in found


def test_a_broken_link_after_the_last_seal_is_found(fresh: tuple[str, Engine, EventStore]) -> None:
    _, engine, store = fresh
    _fill(store, streams=2)
    assert seal_log(engine, KEY.encode()).created
    later = _fill(store, streams=1)[0]
    _as_superuser_without_trigger(
        engine,
        "UPDATE events SET previous_hash = sha256(previous_hash) "
        "WHERE stream_id = :s AND version = 4",
        s=later,
    )
    report = verify_log(engine, KEY.encode())
    codes = [(p.code, p.stream_id, p.version) for p in report.problems]
    assert ("link", later, 4) in codes
    assert ("hash", later, 4) in codes  # previous_hash is hashed too
    assert not any(code == "seal_root" for code, _, _ in codes)


def test_stream_rows_that_lost_or_outran_their_events_are_named(
    fresh: tuple[str, Engine, EventStore],
) -> None:
    _, engine, store = fresh
    orphan, behind, ahead = _fill(store)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM streams WHERE stream_id = :s"), {"s": orphan})
        conn.execute(text("UPDATE streams SET version = 3 WHERE stream_id = :s"), {"s": behind})
        conn.execute(text("UPDATE streams SET version = 9 WHERE stream_id = :s"), {"s": ahead})
    report = verify_log(engine, None)
    found = {(p.code, p.stream_id, p.version) for p in report.problems}
    assert ("stream_row", orphan, 1) in found
    assert ("head", behind, 4) in found  # an event past the row's version
    assert ("head", behind, 3) in found  # the row's head hash is not version 3's
    assert ("head", ahead, 9) in found  # the row names a version that is not there
    only = verify_log(engine, None, stream_id=orphan)
    assert [(p.code, p.version) for p in only.problems][:1] == [("stream_row", 1)]
