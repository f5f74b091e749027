"""store.canonical (Python) and event_canonical (PostgreSQL) are one definition.

The server hashes what it stores; an inspector re-hashes an exported log with
the Python form. For any JSON the store accepts, both must give the same bytes.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from store.canonical import GENESIS, canonical_bytes, chain_hash, jsonb_text
from store.event_store import EventStore
from store.records import NewEvent
from tests.integration.store.helpers import canonical_of

pytestmark = pytest.mark.integration

# Any text PostgreSQL can hold in jsonb: every character but U+0000 (and no
# lone surrogates, which UTF-8 cannot carry).
_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)
_documents = st.dictionaries(_text, _json, max_size=6)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=_documents, metadata=_documents, stream_suffix=_text, event_type=_text)
def test_python_and_postgresql_give_the_same_canonical_bytes(
    event_store: EventStore,
    data: dict[str, Any],
    metadata: dict[str, Any],
    stream_suffix: str,
    event_type: str,
) -> None:
    stream = f"case-{uuid.uuid4()}-{stream_suffix}"
    event_store.append(
        stream, 0, [NewEvent(uuid.uuid4(), event_type or "Noted", data, 1, metadata)]
    )
    (event,) = event_store.read_stream(stream)
    ours = canonical_of(event)
    with event_store.engine.connect() as conn:
        theirs, data_text = conn.execute(
            text(
                "SELECT event_canonical(stream_id, version, event_id, type, schema_version, "
                "recorded_at, data, metadata), data::text FROM events WHERE stream_id = :s"
            ),
            {"s": stream},
        ).one()
    assert jsonb_text(event.data) == data_text
    assert ours == bytes(theirs)
    assert chain_hash(GENESIS, ours) == event.hash


def test_the_form_is_the_documented_one() -> None:
    """A fixed example, so a change of the form cannot pass unnoticed."""
    from datetime import UTC, datetime

    canonical = canonical_bytes(
        stream_id='case-"1"',
        version=2,
        event_id=uuid.UUID("12345678-1234-5678-1234-567812345678"),
        type="Noted",
        schema_version=1,
        recorded_at=datetime(2026, 11, 21, 1, 2, 3, 4, tzinfo=UTC),
        data={"bb": [1, 2.5, None], "a": "整改\n", "ccc": {"x": True}},
        metadata={"actor": "u\x01"},
    )
    assert canonical.decode() == (
        '{"stream_id": "case-\\"1\\"", "version": 2, '
        '"event_id": "12345678-1234-5678-1234-567812345678", "type": "Noted", '
        '"schema_version": 1, "recorded_at": "2026-11-21T01:02:03.000004Z", '
        '"data": {"a": "整改\\n", "bb": [1, 2.5, null], "ccc": {"x": true}}, '
        '"metadata": {"actor": "u\\u0001"}}'
    )
