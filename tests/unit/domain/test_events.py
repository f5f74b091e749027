"""Events as stored: JSON without floats, loaded back through ``EVENT_TYPES``."""

from __future__ import annotations

import json

import pytest

from domain.commands import (
    GrantExtension,
    MergeDuplicateFinding,
    RecordSatisfaction,
    ReportProgress,
    RequestExtension,
    VerifyClosure,
)
from domain.events import (
    EVENT_TYPES,
    Event,
    event_class,
    event_from_json,
    event_from_json_text,
)
from domain.vocabulary import Source

from .builders import EVIDENCE, SUPERVISOR, UNIT, History, at, opened, pending_closure


def _full_history() -> History:
    history = opened()
    history.do(
        MergeDuplicateFinding(
            actor=SUPERVISOR, finding_id="F-2", source=Source.AUDIT, title="t", similarity="0.75"
        )
    )
    history.do(ReportProgress(actor=UNIT, text="进展", evidence=(EVIDENCE,), percent_complete=40))
    history.do(RequestExtension(actor=UNIT, reason="r", proposed_deadline=at(2025, 6, 1).date()))
    history.do(GrantExtension(actor=SUPERVISOR))
    pending_closure(history)
    history.do(VerifyClosure(actor=SUPERVISOR))
    history.do(RecordSatisfaction(actor=SUPERVISOR, score_percent=95, respondents=20))
    return history


def _has_float(value: object) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False


def test_events_round_trip_through_their_stored_json_without_floats() -> None:
    for event in _full_history().events:
        data = json.loads(json.dumps(event.model_dump(mode="json")))
        assert not _has_float(data)
        assert event_from_json(event.event_type, event.schema_version, data) == event
        text = json.dumps(data, ensure_ascii=False)
        assert event_from_json_text(event.event_type, event.schema_version, text) == event


def test_every_event_type_is_registered_under_its_own_name() -> None:
    assert len(EVENT_TYPES) == 31  # 29 + CaseMergedInto, CaseAbsorbed (合并案件)
    for name, cls in EVENT_TYPES.items():
        assert cls.event_type == name
        assert issubclass(cls, Event)
        assert cls.schema_version >= 1
        assert event_class(name) is cls


def test_an_unknown_event_type_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        event_class("CaseTeleported")


def test_an_unknown_schema_version_is_refused() -> None:
    with pytest.raises(ValueError):
        event_from_json("CaseWithdrawn", 99, {"occurred_at": "2025-01-01T00:00:00Z", "reason": "x"})


def test_stored_json_text_of_an_unknown_type_or_version_is_refused() -> None:
    text = '{"occurred_at": "2025-01-01T00:00:00Z", "reason": "x"}'
    with pytest.raises(KeyError, match="CaseTeleported"):
        event_from_json_text("CaseTeleported", 1, text)
    with pytest.raises(ValueError, match="schema version 99"):
        event_from_json_text("CaseWithdrawn", 99, text)
