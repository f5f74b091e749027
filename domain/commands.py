"""Commands: what a person asks for, in the imperative, with the actor attached."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from domain.vocabulary import Actor, CaseKind, Source

__all__ = ["Command", "OpenCase"]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: Actor


class OpenCase(Command):
    """Record a finding and open its rectification case."""

    finding_id: str = Field(min_length=1, max_length=64)
    source: Source
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    category: str | None = Field(default=None, max_length=64)
    severity: str | None = Field(default=None, max_length=32)
    unit_id: str = Field(min_length=1, max_length=64)
    cadre_id: str = Field(min_length=1, max_length=64)
    kind: CaseKind = CaseKind.TIME_LIMITED
    deadline: date
    target: str = Field(default="", max_length=2_000)
