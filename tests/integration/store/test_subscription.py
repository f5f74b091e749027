"""Projections: exactly once, in order, one runner, woken by NOTIFY, saved by polling."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, text

from store.errors import ConcurrencyError, ProjectionBusy, StaleTransaction
from store.event_store import EventStore
from store.records import NewEvent, RecordedEvent
from store.subscription import Subscription
from tests.integration.store.helpers import new_events, new_stream

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def projection_table(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE seen (projection text, event_id uuid, "
                "PRIMARY KEY (projection, event_id))"
            )
        )


class Recorder:
    """A projection: remembers the events in memory and in its own table."""

    def __init__(self, streams: set[str] | None = None, fail_on_batch: int | None = None) -> None:
        self.name = f"p-{uuid.uuid4().hex[:8]}"
        self.streams = streams
        self.events: list[RecordedEvent] = []
        self.batches = 0
        self.fail_on_batch = fail_on_batch
        self.lock = threading.Lock()

    def __call__(self, conn: Connection, batch: Sequence[RecordedEvent]) -> None:
        ours = [e for e in batch if self.streams is None or e.stream_id in self.streams]
        for event in ours:
            conn.execute(
                text("INSERT INTO seen VALUES (:p, :e)"), {"p": self.name, "e": event.event_id}
            )
        self.batches += 1
        if self.batches == self.fail_on_batch:
            raise RuntimeError("projection failed")
        with self.lock:
            self.events.extend(ours)

    def stored(self, engine: Engine) -> int:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT count(*) FROM seen WHERE projection = :p"), {"p": self.name}
            ).scalar()
        return int(found or 0)


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture
def running() -> Iterator[Callable[[Subscription], None]]:
    started: list[tuple[threading.Thread, threading.Event]] = []

    def start(subscription: Subscription) -> None:
        stop = threading.Event()
        thread = threading.Thread(target=subscription.run, args=(stop,), daemon=True)
        thread.start()
        started.append((thread, stop))

    yield start
    for thread, stop in started:
        stop.set()
        thread.join(timeout=10)


def test_a_failed_batch_rolls_back_with_its_checkpoint(
    event_store: EventStore, engine: Engine
) -> None:
    stream = new_stream()
    event_store.append(stream, 0, new_events(5))
    recorder = Recorder({stream}, fail_on_batch=2)
    subscription = Subscription(engine, recorder.name, recorder, batch_size=2)
    with pytest.raises(RuntimeError):
        subscription.run_once()
    kept = subscription.checkpoint()
    subscription.run_once()
    assert [e.data["n"] for e in recorder.events] == [0, 1, 2, 3, 4]
    assert recorder.stored(engine) == 5
    assert subscription.checkpoint() > kept


def test_only_one_runner_per_projection(engine: Engine, running: Callable[..., None]) -> None:
    recorder = Recorder(set())
    first = Subscription(engine, recorder.name, recorder, poll_interval=0.05)
    running(first)
    assert _wait_for(lambda: recorder.batches > 0 or first.checkpoint().position > 0)
    with pytest.raises(ProjectionBusy):
        Subscription(engine, recorder.name, recorder).run_once()


def test_a_notification_wakes_the_runner(
    event_store: EventStore, engine: Engine, running: Callable[..., None]
) -> None:
    stream = new_stream()
    recorder = Recorder({stream})
    running(Subscription(engine, recorder.name, recorder, poll_interval=60))
    time.sleep(0.3)  # the runner is caught up and waiting
    event_store.append(stream, 0, new_events(2))
    assert _wait_for(lambda: len(recorder.events) == 2, timeout=5)


def test_polling_covers_missed_notifications(engine: Engine, running: Callable[..., None]) -> None:
    quiet = EventStore(engine, notify=False)
    stream = new_stream()
    recorder = Recorder({stream})
    running(Subscription(engine, recorder.name, recorder, poll_interval=0.1))
    time.sleep(0.2)
    quiet.append(stream, 0, new_events(3))
    assert _wait_for(lambda: len(recorder.events) == 3, timeout=5)


# --- random interleavings --------------------------------------------------

CONNECTIONS = 3
STREAMS = 4

steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("append"),
            st.integers(0, CONNECTIONS - 1),
            st.integers(0, STREAMS - 1),
            st.integers(1, 3),
            st.booleans(),  # True: with a wrong expected version
        ),
        st.tuples(st.sampled_from(["commit", "rollback"]), st.integers(0, CONNECTIONS - 1)),
    ),
    min_size=1,
    max_size=25,
)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(schedule=steps, finish=st.lists(st.booleans(), min_size=CONNECTIONS, max_size=CONNECTIONS))
def test_random_interleavings_reach_a_subscriber_exactly_once_in_order(
    engine: Engine,
    schedule: list[tuple[Any, ...]],
    finish: list[bool],
) -> None:
    store = EventStore(engine)
    streams = [new_stream() for _ in range(STREAMS)]
    recorder = Recorder(set(streams))
    subscription = Subscription(engine, recorder.name, recorder, batch_size=7, poll_interval=0.05)
    stop = threading.Event()
    runner = threading.Thread(target=subscription.run, args=(stop,), daemon=True)
    runner.start()

    committed: dict[str, list[uuid.UUID]] = {s: [] for s in streams}
    pending: list[list[tuple[str, list[NewEvent]]]] = [[] for _ in range(CONNECTIONS)]
    rolled_back: set[uuid.UUID] = set()
    holder: dict[str, int] = {}  # stream -> connection whose open transaction locks it
    connections = [engine.connect() for _ in range(CONNECTIONS)]
    for conn in connections:  # a wait on another connection's lock fails, never hangs
        conn.execute(text("SET lock_timeout = '5s'"))
        conn.commit()

    def end(index: int, commit: bool) -> None:
        conn = connections[index]
        if not conn.in_transaction():
            return
        if commit:
            conn.commit()
            for stream, batch in pending[index]:
                committed[stream].extend(e.event_id for e in batch)
        else:
            conn.rollback()
            rolled_back.update(e.event_id for _, batch in pending[index] for e in batch)
        pending[index] = []
        for stream in [s for s, holder_index in holder.items() if holder_index == index]:
            del holder[stream]

    try:
        for step in schedule:
            if step[0] != "append":
                end(step[1], step[0] == "commit")
                continue
            _, index, stream_index, size, wrong = step
            stream = streams[stream_index]
            if holder.get(stream, index) != index:
                continue  # would wait for another open transaction of this same thread
            mine = sum(len(b) for s, b in pending[index] if s == stream)
            expected = len(committed[stream]) + mine
            batch = new_events(size)
            conn = connections[index]
            if not conn.in_transaction():
                conn.begin()
            try:
                store.append(stream, expected + 1 if wrong else expected, batch, conn=conn)
            except ConcurrencyError:
                assert wrong
                continue
            except StaleTransaction:
                pending[index].append((stream, batch))
                end(index, commit=False)
                continue
            assert not wrong
            pending[index].append((stream, batch))
            holder[stream] = index
        for index, commit in enumerate(finish):
            end(index, commit)

        total = sum(len(ids) for ids in committed.values())
        assert _wait_for(lambda: len(recorder.events) >= total, timeout=15)
        time.sleep(0.1)  # a duplicate would show up now
    finally:
        for conn in connections:
            conn.close()
        stop.set()
        runner.join(timeout=10)

    delivered = [e.event_id for e in recorder.events]
    assert len(delivered) == len(set(delivered))  # each once
    assert not rolled_back & set(delivered)
    for stream in streams:
        received = [e for e in recorder.events if e.stream_id == stream]
        assert [e.event_id for e in received] == committed[stream]  # all, in stream order
        assert [e.version for e in received] == list(range(1, len(received) + 1))
    assert recorder.stored(engine) == len(delivered)
