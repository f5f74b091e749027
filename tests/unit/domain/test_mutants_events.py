"""domain/events.py: the stored-text readers refuse an unknown type or version, by name."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.events import event_from_json_text, occurred_at_from_text

CST = timezone(timedelta(hours=8))
TEXT = "2025-03-03T09:00:00+08:00"


def test_occurred_at_from_text_of_a_known_event() -> None:
    assert occurred_at_from_text("CaseOpened", 1, TEXT) == datetime(2025, 3, 3, 9, tzinfo=CST)


def test_occurred_at_from_text_refuses_an_unknown_type() -> None:
    with pytest.raises(KeyError) as raised:
        occurred_at_from_text("Nope", 1, TEXT)
    assert raised.value.args == ("unknown event type 'Nope'",)


def test_occurred_at_from_text_refuses_an_unknown_version() -> None:
    with pytest.raises(ValueError) as raised:
        occurred_at_from_text("CaseOpened", 2, TEXT)
    assert str(raised.value) == "CaseOpened schema version 2 is not 1"


def test_event_from_json_text_refuses_an_unknown_type_or_version() -> None:
    text = '{"occurred_at": "' + TEXT + '", "reason": "r"}'
    assert event_from_json_text("CaseWithdrawn", 1, text).occurred_at == datetime(
        2025, 3, 3, 9, tzinfo=CST
    )
    with pytest.raises(ValueError) as raised:
        event_from_json_text("CaseWithdrawn", 3, text)
    assert str(raised.value) == "CaseWithdrawn schema version 3 is not 1"
    with pytest.raises(KeyError):
        event_from_json_text("Nope", 1, text)
