"""Races on real PostgreSQL: competing writers, late commits, retries."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine

from store.errors import ConcurrencyError, StaleTransaction
from store.event_store import EventStore
from store.reading import Checkpoint
from store.records import AppendResult
from tests.integration.store.helpers import drain, drain_until, new_events, new_stream

pytestmark = pytest.mark.integration


def test_of_two_writers_with_the_same_expected_version_exactly_one_wins(
    event_store: EventStore, engine: Engine
) -> None:
    stream = new_stream()
    event_store.append(stream, 0, new_events(1))
    first, second = new_events(2), new_events(3)
    with engine.connect() as a:
        a.begin()
        event_store.append(stream, 1, first, conn=a)  # holds the stream's row
        with ThreadPoolExecutor(1) as pool:
            late = pool.submit(event_store.append, stream, 1, second)
            with pytest.raises(TimeoutError):
                late.result(timeout=0.3)  # B waits for A's lock, nothing else
            a.commit()
            with pytest.raises(ConcurrencyError) as caught:
                late.result(timeout=10)
    assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == (stream, 1, 3)
    stored = event_store.read_stream(stream)
    assert [e.version for e in stored] == [1, 2, 3]
    assert {e.event_id for e in stored[1:]} == {e.event_id for e in first}


@pytest.mark.parametrize("expected", [0, 2])
def test_many_racing_writers_leave_one_whole_batch(event_store: EventStore, expected: int) -> None:
    stream = new_stream()
    if expected:
        event_store.append(stream, 0, new_events(expected))
    batches = [new_events(3) for _ in range(6)]
    start = threading.Barrier(len(batches))

    def write(batch: list) -> AppendResult | ConcurrencyError:  # type: ignore[type-arg]
        start.wait()
        try:
            return event_store.append(stream, expected, batch)
        except ConcurrencyError as exc:
            return exc

    with ThreadPoolExecutor(len(batches)) as pool:
        outcomes = list(pool.map(write, batches))
    winners = [i for i, o in enumerate(outcomes) if isinstance(o, AppendResult)]
    assert len(winners) == 1
    losers = [o for o in outcomes if isinstance(o, ConcurrencyError)]
    assert all(o.actual == expected + 3 for o in losers)
    stored = event_store.read_stream(stream, from_version=expected + 1)
    assert [e.event_id for e in stored] == [e.event_id for e in batches[winners[0]]]


def test_a_reader_never_passes_a_transaction_that_commits_late(
    event_store: EventStore, engine: Engine
) -> None:
    _, start = drain(event_store, Checkpoint.START)
    late_stream, quick_stream = new_stream(), new_stream()
    ours = {late_stream, quick_stream}
    with engine.connect() as a:
        a.begin()
        event_store.append(late_stream, 0, new_events(2), conn=a)  # A: open
        event_store.append(quick_stream, 0, new_events(2))  # B: commits now
        seen, checkpoint = drain(event_store, start, ours)
        assert seen == []  # neither A's events nor B's, which come after A's
        assert checkpoint == start
        a.commit()
    seen, after = drain_until(event_store, checkpoint, ours, 4)
    assert [(e.stream_id, e.version) for e in seen] == [
        (late_stream, 1),
        (late_stream, 2),
        (quick_stream, 1),
        (quick_stream, 2),
    ]
    again, _ = drain(event_store, after, ours)
    assert again == []


def test_a_rolled_back_append_is_never_read(event_store: EventStore, engine: Engine) -> None:
    _, start = drain(event_store, Checkpoint.START)
    stream = new_stream()
    with engine.connect() as a:
        a.begin()
        event_store.append(stream, 0, new_events(2), conn=a)
        a.rollback()
    event_store.append(stream, 0, new_events(1))
    seen, _ = drain_until(event_store, start, {stream}, 1)
    assert [(e.version, e.data["n"]) for e in seen] == [(1, 0)]
    assert event_store.stream_version(stream) == 1


def test_a_retried_append_writes_once_even_when_retries_race(event_store: EventStore) -> None:
    stream = new_stream()
    batch = new_events(2)
    start = threading.Barrier(4)

    def retry() -> AppendResult:
        start.wait()
        return event_store.append(stream, 0, batch)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: retry(), range(4)))
    assert sum(not r.already_stored for r in results) == 1
    assert len({r.head_hash for r in results}) == 1
    assert len(event_store.read_stream(stream)) == 2


def test_an_old_open_transaction_cannot_append_behind_a_newer_writer(
    event_store: EventStore, engine: Engine
) -> None:
    stream, other = new_stream(), new_stream()
    event_store.append(stream, 0, new_events(1))
    with engine.connect() as old:
        old.begin()
        event_store.append(other, 0, new_events(1), conn=old)  # takes its tx id now
        event_store.append(stream, 1, new_events(1))  # a newer transaction writes
        with pytest.raises(StaleTransaction):
            event_store.append(stream, 2, new_events(1), conn=old)
        old.rollback()
    assert event_store.stream_version(stream) == 2


def test_a_conflicting_append_in_an_open_transaction_leaves_no_lock(
    event_store: EventStore, engine: Engine
) -> None:
    stream = new_stream()
    event_store.append(stream, 0, new_events(2))
    with engine.connect() as open_tx:
        open_tx.begin()
        with pytest.raises(ConcurrencyError):
            event_store.append(stream, 1, new_events(1), conn=open_tx)
        with ThreadPoolExecutor(1) as pool:  # another writer is not held up
            done = pool.submit(event_store.append, stream, 2, new_events(1))
            assert done.result(timeout=5).last_version == 3
        open_tx.rollback()
