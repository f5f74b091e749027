"""Small value objects shared by events and commands."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from domain.vocabulary import Source

__all__ = ["Evidence", "MergedFinding", "Milestone"]


class Evidence(BaseModel):
    """佐证材料: a reference to a stored file, never the file itself.

    The content hash lets an inspector check that the file behind a report is
    the one that was submitted.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$")  # SHA-256, lower-case hex
    name: str = Field(min_length=1, max_length=255)
    media_type: str = Field(min_length=3, max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+$")
    size: int = Field(ge=0)


class Milestone(BaseModel):
    """One step of a long-term case (长期整改), with its own due date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    milestone_id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    due: date


class MergedFinding(BaseModel):
    """A finding of a case merged into another (合并案件), as the surviving case lists it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    finding_id: str = Field(min_length=1, max_length=64)
    source: Source
    title: str = Field(min_length=1, max_length=200)
