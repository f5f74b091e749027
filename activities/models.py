"""Inputs and results of activities: one pydantic model in, one out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AppendEventsInput", "AppendEventsResult", "EventToAppend"]


class EventToAppend(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str  # from workflow.uuid4(): a retried activity carries the same ids
    type: str
    schema_version: int = 1
    data: dict[str, Any]
    metadata: dict[str, Any] = Field(default_factory=dict)


class AppendEventsInput(BaseModel):
    stream_id: str
    expected_version: int = Field(ge=0)
    events: list[EventToAppend] = Field(min_length=1)
    stream_type: str = "case"


class AppendEventsResult(BaseModel):
    stream_id: str
    last_version: int
    head_hash: str  # hex
    already_stored: bool
