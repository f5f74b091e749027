"""Old stored shapes come out in the current shape; the stored rows stay as they were."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Engine

from store.event_store import EventStore
from store.metadata import EventMetadata
from store.reading import Checkpoint
from store.records import NewEvent
from store.upcasting import Upcasters
from store.verify import verify_log
from tests.integration.store.helpers import new_stream

pytestmark = pytest.mark.integration

upcasters = Upcasters()


@upcasters.register("FindingRecorded", from_version=1)
def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    severity = data.pop("level", "normal")
    return {**data, "severity": severity}


@upcasters.register("FindingRecorded", from_version=2)
def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    unit_id = data.pop("unit_id")
    return {**data, "unit_ids": [unit_id]}


def _finding(schema_version: int, data: dict[str, Any]) -> NewEvent:
    metadata = EventMetadata(actor="u-1", role="inspector", correlation_id="c-1").as_dict()
    return NewEvent(uuid.uuid4(), "FindingRecorded", data, schema_version, metadata)


def test_old_shapes_are_read_in_the_current_shape(engine: Engine) -> None:
    raw = EventStore(engine)
    store = EventStore(engine, upcasters=upcasters)
    stream = new_stream()
    raw.append(
        stream,
        0,
        [
            _finding(1, {"level": "high", "unit_id": "u9"}),
            _finding(2, {"severity": "low", "unit_id": "u8"}),
            _finding(3, {"severity": "low", "unit_ids": ["u7"]}),
        ],
    )
    current = store.read_stream(stream)
    assert [e.schema_version for e in current] == [3, 3, 3]
    assert [e.data for e in current] == [
        {"severity": "high", "unit_ids": ["u9"]},
        {"severity": "low", "unit_ids": ["u8"]},
        {"severity": "low", "unit_ids": ["u7"]},
    ]
    everything = store.read_all(Checkpoint.START, limit=1000)
    assert [e.data for e in everything if e.stream_id == stream] == [e.data for e in current]
    assert raw.read_stream(stream)[0].data == {"level": "high", "unit_id": "u9"}
    assert verify_log(engine, None, stream_id=stream).ok


def test_a_step_registered_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):
        upcasters.add("FindingRecorded", 1, lambda data: data)


def test_metadata_leaves_out_what_is_unknown() -> None:
    metadata = EventMetadata(actor="u-1", role="inspector", request_id="r-1")
    assert metadata.as_dict() == {"actor": "u-1", "role": "inspector", "request_id": "r-1"}
    assert EventMetadata.from_dict({**metadata.as_dict(), "other": 1}) == metadata
