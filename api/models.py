"""Request and response bodies (separate from the domain's events)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.case import CaseState
from domain.commands import Title
from domain.vocabulary import CaseKind, Source, TrafficLight
from workflows.models import NextTimer

__all__ = [
    "CadreIn",
    "CadreOut",
    "CaseHistoryOut",
    "CaseOut",
    "ChainProblem",
    "ChainVerification",
    "EventOut",
    "EvidenceOut",
    "FindingIn",
    "HealthOut",
    "MergedInto",
    "ServiceHealth",
    "UnitIn",
    "UnitOut",
]

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class FindingIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "乡镇污水处理厂出水氨氮超标",
                    "source": "audit",
                    "unit_id": "county-env-bureau",
                    "cadre_id": "cadre-0042",
                    "deadline": "2027-03-31",
                    "kind": "time_limited",
                    "target": "出水稳定达到一级A标准",
                }
            ]
        },
    )

    finding_id: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="Client-chosen id (e.g. from the source system); generated when absent.",
    )
    title: Title
    description: str = Field(default="", max_length=10_000)
    source: Source
    category: str | None = Field(default=None, max_length=64)
    severity: str | None = Field(default=None, max_length=32)
    unit_id: str = Field(pattern=ID_PATTERN, description="Responsible unit (责任单位)")
    cadre_id: str = Field(pattern=ID_PATTERN, description="Responsible cadre (责任人)")
    kind: CaseKind = CaseKind.TIME_LIMITED
    deadline: date | None = Field(
        default=None,
        description="整改期限; when absent, the kind's default counted in working days on "
        "the Chinese calendar (immediate 10, time-limited 60)",
    )
    target: str = Field(default="", max_length=2_000, description="整改目标")
    force_new: bool = Field(
        default=False,
        description="Open a new case even when the duplicate check (减负) matches an open one.",
    )


class EventOut(BaseModel):
    version: int
    type: str
    schema_version: int
    event_id: str
    data: dict[str, Any]
    actor: str | None
    role: str | None
    request_id: str | None = None
    recorded_at: datetime
    previous_hash: str
    hash: str


class MergedInto(BaseModel):
    """The finding was not opened as a case: it joined this open case as one more source."""

    case_id: str
    finding_id: str
    similarity: str = Field(description="Decimal string, 0–1")


class CaseOut(BaseModel):
    case_id: str
    workflow_id: str
    state: CaseState
    events: list[EventOut]
    merged: MergedInto | None = None
    light: TrafficLight | None = Field(default=None, description="亮灯, now")
    next_timer: NextTimer | None = Field(
        default=None, description="What the case's clock does next, and when"
    )


class ServiceHealth(BaseModel):
    ok: bool
    error: str | None = None


class HealthOut(BaseModel):
    """``status`` is "ok", or "degraded" naming the part that is down. The answer is 503
    when the API itself cannot serve (database or Temporal down); a missing worker is
    "degraded" with 200: reads work, commands wait for a worker (503 command_pending)."""

    status: str
    database: ServiceHealth
    temporal: ServiceHealth
    worker: ServiceHealth | None = None  # None: not checked, Temporal is down


class UnitIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"unit_id": "county-env", "name": "某县生态环境局", "parent_id": "county"}]
        },
    )

    unit_id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    parent_id: str | None = Field(default=None, pattern=ID_PATTERN)


class UnitOut(BaseModel):
    unit_id: str
    name: str
    parent_id: str | None
    path: str


class CadreIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"cadre_id": "cadre-0042", "name": "王某", "unit_id": "county-env", "post": "局长"}
            ]
        },
    )

    cadre_id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    unit_id: str = Field(pattern=ID_PATTERN)
    post: str = Field(default="", max_length=100)


class CadreOut(BaseModel):
    cadre_id: str
    name: str
    unit_id: str
    post: str


class EvidenceOut(BaseModel):
    """A reference to an evidence file, as progress reports and closure requests cite it."""

    content_hash: str = Field(description="SHA-256 of the content, hex")
    name: str
    media_type: str
    size: int


class ChainProblem(BaseModel):
    code: str = Field(description="hash | link | version | head | stream_row | seal_*")
    version: int | None
    expected: str
    found: str


class ChainVerification(BaseModel):
    ok: bool
    events_checked: int
    seals_checked: int
    problems: list[ChainProblem]


class CaseHistoryOut(BaseModel):
    case_id: str
    stream_id: str
    events: list[EventOut]
    verification: ChainVerification
