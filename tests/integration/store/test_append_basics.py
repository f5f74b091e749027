"""The event store on real PostgreSQL: append, read back, conflicts, repeats, append-only."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from store.canonical import GENESIS, chain_hash
from store.errors import ConcurrencyError, IdempotencyConflict
from store.event_store import EventStore
from store.records import NewEvent
from tests.integration.store.helpers import canonical_of

pytestmark = pytest.mark.integration


def _events(n: int, **data: object) -> list[NewEvent]:
    return [
        NewEvent(
            event_id=uuid.uuid4(), type="Noted", data={"n": i, **data}, metadata={"actor": "t"}
        )
        for i in range(n)
    ]


def _stream() -> str:
    return f"case-{uuid.uuid4()}"


def test_first_append_creates_the_stream_and_reads_back_in_order(event_store: EventStore) -> None:
    stream = _stream()
    result = event_store.append(stream, 0, _events(3, text="整改"))
    assert (result.first_version, result.last_version, result.already_stored) == (1, 3, False)
    stored = event_store.read_stream(stream)
    assert [e.version for e in stored] == [1, 2, 3]
    assert [e.data["n"] for e in stored] == [0, 1, 2]
    assert stored[0].data["text"] == "整改"
    assert stored[0].previous_hash == GENESIS
    assert [e.previous_hash for e in stored[1:]] == [e.hash for e in stored[:-1]]
    assert event_store.stream_version(stream) == 3


def test_each_hash_is_the_chain_of_the_canonical_form(event_store: EventStore) -> None:
    stream = _stream()
    event_store.append(stream, 0, _events(2))
    for event in event_store.read_stream(stream):
        canonical = canonical_of(event)
        assert chain_hash(event.previous_hash, canonical) == event.hash


def test_wrong_expected_version_names_stream_expected_and_actual(event_store: EventStore) -> None:
    stream = _stream()
    event_store.append(stream, 0, _events(2))
    with pytest.raises(ConcurrencyError) as caught:
        event_store.append(stream, 1, _events(1))
    assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == (stream, 1, 2)
    assert event_store.stream_version(stream) == 2
    with pytest.raises(ConcurrencyError):
        event_store.append(_stream(), 3, _events(1))  # a stream that does not exist is at 0


def test_the_same_append_twice_writes_once(event_store: EventStore) -> None:
    stream = _stream()
    batch = _events(2)
    first = event_store.append(stream, 0, batch)
    again = event_store.append(stream, 0, batch)
    assert again.already_stored
    assert (again.last_version, again.head_hash) == (first.last_version, first.head_hash)
    assert len(event_store.read_stream(stream)) == 2


def test_the_same_event_id_with_other_content_is_refused(event_store: EventStore) -> None:
    stream = _stream()
    batch = _events(1)
    event_store.append(stream, 0, batch)
    altered = [NewEvent(event_id=batch[0].event_id, type="Noted", data={"n": 99})]
    with pytest.raises(IdempotencyConflict, match="data"):
        event_store.append(stream, 0, altered)
    assert event_store.read_stream(stream)[0].data["n"] == 0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"score": float("nan")}, "plain JSON"),  # JSON has no NaN
        ({"when": object()}, "plain JSON"),  # not JSON at all
        ({"text": "a\x00b"}, "NUL"),  # PostgreSQL's jsonb cannot hold U+0000
    ],
)
def test_data_that_is_not_storable_json_is_refused_before_anything_is_written(
    event_store: EventStore, data: dict[str, object], reason: str
) -> None:
    stream = _stream()
    with pytest.raises(ValueError, match=reason):
        event_store.append(stream, 0, [NewEvent(uuid.uuid4(), "Noted", data)])
    assert event_store.stream_version(stream) == 0
    assert event_store.read_stream(stream) == []


def test_numbers_are_stored_and_hashed_as_postgresql_prints_them(event_store: EventStore) -> None:
    stream = _stream()
    data = {"score": 0.5, "tiny": 1e-07, "big": 10**30, "minus_zero": -0.0}
    event_store.append(stream, 0, [NewEvent(uuid.uuid4(), "Noted", data)])
    (event,) = event_store.read_stream(stream)
    assert event.data == data
    canonical = canonical_of(event)
    assert b'"tiny": 0.0000001' in canonical
    assert b'"minus_zero": 0.0' in canonical
    assert chain_hash(GENESIS, canonical) == event.hash


@pytest.mark.parametrize(
    "statement", ["UPDATE events SET type = 'x'", "DELETE FROM events", "TRUNCATE events CASCADE"]
)
def test_events_are_append_only(event_store: EventStore, statement: str) -> None:
    event_store.append(_stream(), 0, _events(1))
    with pytest.raises(DBAPIError, match="append-only"), event_store.engine.begin() as conn:
        conn.execute(text(statement))


def test_an_event_id_stored_in_another_stream_is_refused(event_store: EventStore) -> None:
    batch = _events(1)
    event_store.append(_stream(), 0, batch)
    other = _stream()
    with pytest.raises(IdempotencyConflict, match="another stream") as caught:
        event_store.append(other, 0, batch)
    assert caught.value.event_id == str(batch[0].event_id)
    assert event_store.stream_version(other) == 0


def test_metadata_is_stored_as_given(event_store: EventStore) -> None:
    from store.metadata import EventMetadata

    stream = _stream()
    metadata = EventMetadata(
        actor="u-1",
        role="inspector",
        unit_id="unit-3",
        request_id="req-9",
        causation_id="cmd-1",
        correlation_id="case-1",
        workflow_id="wf-1",
    ).as_dict()
    event_store.append(stream, 0, [NewEvent(uuid.uuid4(), "Noted", {}, metadata=metadata)])
    assert event_store.read_stream(stream)[0].metadata == metadata


def test_an_append_on_a_connection_the_server_dropped_is_retried_once(
    event_store: EventStore,
) -> None:
    stream = _stream()
    event_store.append(stream, 0, _events(1))  # leaves an idle append connection
    with event_store.engine.begin() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = 'zhenggai' "
                "AND pid <> pg_backend_pid() AND query LIKE '%append_events%'"
            )
        ).scalar_one()
    assert killed >= 1
    result = event_store.append(stream, 1, _events(1))
    assert (result.last_version, result.already_stored) == (2, False)
    assert [e.version for e in event_store.read_stream(stream)] == [1, 2]
