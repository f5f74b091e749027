"""Benchmark of the event store against raw PostgreSQL, in one run on one server.

    uv run python bench/store.py --url postgresql://postgres@127.0.0.1:5432/postgres

Creates a fresh database on that server (dropped at the end unless --keep),
migrates it, and prints each figure with its raw baseline and the ratio
(store / raw, higher is better; the goal is >= 0.7):

  append, 1 event per transaction, 1 and 8 connections   vs single-row INSERT transactions
  append, 100 events per transaction                     vs one 100-row INSERT per transaction
  read_all over --events events                          vs one plain SELECT of the same rows
  audit verify over --events events before and after sealing them (events/s,
  goal > 300k/s), and audit seal

The raw table is ``CREATE TABLE raw_events (LIKE events INCLUDING ALL)``: the
same columns, defaults, identity and indexes (not the trigger). The --events
events are generated with COPY, hashed with store.canonical (the Python form)
so that verify, which hashes in the database, finds a valid log only if the
two forms agree.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from store.canonical import GENESIS, canonical_bytes
from store.engine import make_engine
from store.event_store import EventStore
from store.metadata import EventMetadata
from store.migrate import upgrade
from store.reading import Checkpoint
from store.records import NewEvent
from store.seals import seal_log
from store.verify import verify_log

KEY = b"bench-key-bench-key-bench-key-00"
RAW_INSERT = (
    "INSERT INTO raw_events (stream_id, version, event_id, type, schema_version, data, "
    "metadata, recorded_at, previous_hash, hash) VALUES "
)
ROW = "(%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s)"


def payload(i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    data = {
        "finding_id": f"F-2026-{i:07d}",
        "title": f"考核发现问题第{i}项：整改台账未按期更新",
        "unit_id": f"unit-{i % 97}",
        "deadline": "2026-12-31",
        "severity": "high" if i % 3 else "normal",
        "n": i,
    }
    metadata = EventMetadata(
        actor=f"user-{i % 50}",
        role="inspector",
        unit_id=f"unit-{i % 97}",
        request_id=f"req-{i}",
        correlation_id=f"case-{i % 1000}",
        workflow_id=f"case-{i % 1000}",
    ).as_dict()
    return data, metadata


def new_event(i: int) -> NewEvent:
    data, metadata = payload(i)
    return NewEvent(uuid.uuid4(), "FindingRecorded", data, 1, metadata)


def raw_row(stream: str, version: int, event: NewEvent) -> tuple[Any, ...]:
    digest = bytes(32)
    return (
        stream,
        version,
        event.event_id,
        event.type,
        event.schema_version,
        json.dumps(event.data, ensure_ascii=False),
        json.dumps(event.metadata, ensure_ascii=False),
        datetime.now(UTC),
        digest,
        digest,
    )


# --- writers (run in worker processes) ---------------------------------------


def store_writer(
    url: str, worker: int, transactions: int, size: int, notify: bool = True
) -> tuple[float, float]:
    engine = make_engine(url, pool_size=1)
    store = EventStore(engine, notify=notify)
    streams = [f"bench-{worker}-{uuid.uuid4().hex[:8]}-{s}" for s in range(20)]
    versions = dict.fromkeys(streams, 0)
    batches = [[new_event(t * size + k) for k in range(size)] for t in range(transactions)]
    store.append(f"warm-{uuid.uuid4()}", 0, [new_event(0)])
    start = time.monotonic()
    for t, batch in enumerate(batches):
        stream = streams[t % len(streams)]
        store.append(stream, versions[stream], batch)
        versions[stream] += size
    end = time.monotonic()
    engine.dispose()
    return start, end


def raw_writer(url: str, worker: int, transactions: int, size: int) -> tuple[float, float]:
    """Plain INSERTs of the same rows; the JSON text is made in the loop, as a
    plain writer would have to, but no hash is computed."""
    streams = [f"raw-{worker}-{uuid.uuid4().hex[:8]}-{s}" for s in range(20)]
    versions = dict.fromkeys(streams, 0)
    sql = RAW_INSERT + ", ".join([ROW] * size)
    batches = [[new_event(t * size + k) for k in range(size)] for t in range(transactions)]
    with psycopg.connect(url) as conn:
        start = time.monotonic()
        for t, batch in enumerate(batches):
            stream = streams[t % len(streams)]
            values: list[Any] = []
            for event in batch:
                versions[stream] += 1
                values.extend(raw_row(stream, versions[stream], event))
            with conn.transaction():
                conn.execute(sql, values)
        end = time.monotonic()
    return start, end


def _run(args: tuple[str, str, int, int, int]) -> tuple[float, float]:
    kind, url, worker, transactions, size = args
    if kind == "raw":
        return raw_writer(url, worker, transactions, size)
    return store_writer(url, worker, transactions, size, notify=kind == "store")


def writers(kind: str, url: str, connections: int, transactions: int, size: int) -> float:
    """Events per second of ``connections`` processes each doing ``transactions``."""
    jobs = [(kind, url, w, transactions, size) for w in range(connections)]
    with multiprocessing.get_context("fork").Pool(connections) as pool:
        spans = pool.map(_run, jobs)
    elapsed = max(end for _, end in spans) - min(start for start, _ in spans)
    return connections * transactions * size / elapsed


# --- generation of the big log -----------------------------------------------


def generate(url: str, events: int, streams: int) -> float:
    """COPY ``events`` valid events (round-robin over ``streams``) in 10 transactions."""
    started = time.monotonic()
    names = [f"big-{s:06d}-{uuid.uuid4().hex[:6]}" for s in range(streams)]
    heads = dict.fromkeys(names, GENESIS)
    versions = dict.fromkeys(names, 0)
    chunk = max(1, events // 10)
    copy_sql = (
        "COPY events (stream_id, version, event_id, type, schema_version, data, metadata, "
        "recorded_at, previous_hash, hash) FROM STDIN"
    )
    moment = datetime.now(UTC)
    with psycopg.connect(url) as conn:
        streams_sql = "COPY streams (stream_id, type, version, head_hash) FROM STDIN"
        with conn.transaction(), conn.cursor() as cur, cur.copy(streams_sql) as cp:
            for name in names:
                cp.write_row((name, "case", 0, GENESIS))
        done = 0
        while done < events:
            with conn.transaction(), conn.cursor() as cur, cur.copy(copy_sql) as cp:
                for i in range(done, min(events, done + chunk)):
                    name = names[i % streams]
                    versions[name] += 1
                    data, metadata = payload(i)
                    event_id = uuid.uuid4()
                    previous = heads[name]
                    digest = hashlib.sha256(
                        previous
                        + canonical_bytes(
                            stream_id=name,
                            version=versions[name],
                            event_id=event_id,
                            type="FindingRecorded",
                            schema_version=1,
                            data=data,
                            metadata=metadata,
                            recorded_at=moment,
                        )
                    ).digest()
                    heads[name] = digest
                    cp.write_row(
                        (
                            name,
                            versions[name],
                            event_id,
                            "FindingRecorded",
                            1,
                            json.dumps(data, ensure_ascii=False),
                            json.dumps(metadata, ensure_ascii=False),
                            moment,
                            previous,
                            digest,
                        )
                    )
            done = min(events, done + chunk)
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE heads (stream_id text, version int, head_hash bytea)")
            with cur.copy("COPY heads FROM STDIN") as cp:
                for name in names:
                    cp.write_row((name, versions[name], heads[name]))
            cur.execute(
                "UPDATE streams s SET version = h.version, head_hash = h.head_hash "
                "FROM heads h WHERE s.stream_id = h.stream_id"
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE events")
    return time.monotonic() - started


# --- reads -------------------------------------------------------------------


def read_store(url: str, page: int) -> tuple[int, float]:
    engine = make_engine(url, pool_size=1)
    store = EventStore(engine)
    count, after = 0, Checkpoint.START
    start = time.monotonic()
    while batch := store.read_all(after, limit=page):
        count += len(batch)
        after = Checkpoint.after(batch[-1])
    elapsed = time.monotonic() - start
    engine.dispose()
    return count, elapsed


def read_raw(url: str, page: int) -> tuple[int, float]:
    count = 0
    with psycopg.connect(url) as conn:
        start = time.monotonic()
        with conn.transaction(), conn.cursor(name="raw") as cur:
            cur.itersize = page
            cur.execute(
                "SELECT position, tx_id::text::bigint, stream_id, version, event_id, type, "
                "schema_version, data, metadata, recorded_at, previous_hash, hash "
                "FROM events ORDER BY events.tx_id, events.position"
            )
            while rows := cur.fetchmany(page):
                count += len(rows)
        elapsed = time.monotonic() - start
    return count, elapsed


# --- driver ------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    ours: float
    raw: float | None
    unit: str

    def line(self) -> str:
        if self.raw is None:
            return f"{self.name:<44} {self.ours:>12,.0f} {self.unit}"
        ratio = self.ours / self.raw
        return (
            f"{self.name:<44} {self.ours:>12,.0f} {self.unit}  raw {self.raw:>12,.0f}"
            f"  ratio {ratio:4.2f}{'' if ratio >= 0.7 else '  (goal 0.7 missed)'}"
        )


@contextmanager
def bench_database(server: str, keep: bool) -> Iterator[str]:
    name = f"zg_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(server, pool_size=1)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        if not keep:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("ZHENGGAI_BENCH_DATABASE_URL"))
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--transactions", type=int, default=2000, help="per connection")
    parser.add_argument("--batches", type=int, default=300, help="100-event transactions")
    parser.add_argument("--page", type=int, default=5000, help="read_all page size")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    if not args.url:
        parser.error("give --url postgresql://user@host:5432/db (or ZHENGGAI_BENCH_DATABASE_URL)")
    print(
        f"python bench/store.py --events {args.events} --streams {args.streams} "
        f"--transactions {args.transactions} --batches {args.batches} --page {args.page}"
    )
    with bench_database(args.url, args.keep) as url:
        engine = make_engine(url, pool_size=1)
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE raw_events (LIKE events INCLUDING ALL)"))
            version = conn.execute(text("SHOW server_version")).scalar()
            fsync = conn.execute(text("SHOW synchronous_commit")).scalar()
        engine.dispose()
        print(f"PostgreSQL {version}, synchronous_commit={fsync}, {os.cpu_count()} CPUs")
        plain = libpq(url)
        figures: list[Figure] = []

        def show(figure: Figure) -> None:
            figures.append(figure)
            print(figure.line(), flush=True)

        for connections in (1, 8):
            transactions = args.transactions if connections == 1 else args.transactions // 2
            raw = writers("raw", plain, connections, transactions, 1)
            ours = writers("store", url, connections, transactions, 1)
            show(Figure(f"append 1 event/tx, {connections} conn", ours, raw, "events/s"))
            quiet = writers("store-quiet", url, connections, transactions, 1)
            show(Figure(f"  the same without NOTIFY, {connections} conn", quiet, raw, "events/s"))
        raw = writers("raw", plain, 1, args.batches, 100)
        ours = writers("store", url, 1, args.batches, 100)
        show(Figure("append 100 events/tx, 1 conn", ours, raw, "events/s"))

        took = generate(plain, args.events, args.streams)
        print(f"(generated {args.events:,} events over {args.streams:,} streams in {took:.1f} s)")
        raw_count, raw_time = read_raw(plain, args.page)
        count, ours_time = read_store(url, args.page)
        show(
            Figure(
                f"read_all of {count:,} events", count / ours_time, raw_count / raw_time, "events/s"
            )
        )

        engine = make_engine(url, pool_size=1)
        show(timed_verify(engine, "audit verify, no seal yet (every link joined)"))
        start = time.monotonic()
        seal = seal_log(engine, KEY)
        sealed = time.monotonic() - start
        assert seal.seal is not None
        show(
            Figure(
                f"audit seal of {seal.seal.event_count:,} events (links checked)",
                seal.seal.event_count / sealed,
                None,
                "events/s",
            )
        )
        show(timed_verify(engine, "audit verify, sealed"))
        engine.dispose()


def timed_verify(engine: Engine, label: str) -> Figure:
    start = time.monotonic()
    report = verify_log(engine, KEY)
    took = time.monotonic() - start
    status = "ok" if report.ok else f"{report.problem_count} PROBLEMS"
    goal = "goal 300,000" + ("" if report.events / took >= 300_000 else ", missed")
    return Figure(
        f"{label}: {report.events:,} events ({status})",
        report.events / took,
        None,
        f"events/s ({goal})",
    )


if __name__ == "__main__":
    main()
