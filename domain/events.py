"""Events: facts in the past tense. Each has a stable type name and a schema version.

The store keeps ``event_type``, ``schema_version`` and ``model_dump(mode="json")``;
``EVENT_TYPES`` maps a stored type name back to its class.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from domain.vocabulary import CaseKind, Source

__all__ = ["EVENT_TYPES", "CaseOpened", "Event", "FindingRecorded", "event_class"]


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    occurred_at: datetime  # business time: the workflow's clock, not the database's


class FindingRecorded(Event):
    """考核发现问题: a concrete problem at a concrete unit, from one source."""

    event_type: ClassVar[str] = "FindingRecorded"

    finding_id: str
    source: Source
    title: str
    description: str = ""
    category: str | None = None
    severity: str | None = None
    unit_id: str
    cadre_id: str


class CaseOpened(Event):
    """整改立项: responsible unit and cadre, kind, deadline and target are set."""

    event_type: ClassVar[str] = "CaseOpened"

    case_id: str
    finding_id: str
    unit_id: str
    cadre_id: str
    kind: CaseKind
    deadline: date
    target: str = Field(default="")


EVENT_TYPES: dict[str, type[Event]] = {cls.event_type: cls for cls in (FindingRecorded, CaseOpened)}


def event_class(event_type: str) -> type[Event]:
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise KeyError(f"unknown event type {event_type!r}") from None
