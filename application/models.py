"""Request and response bodies (separate from the domain's events)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from domain.case import CaseState
from domain.commands import Title
from domain.handlers.milestones import MilestoneProblem, kind_problem, milestone_problems
from domain.values import Milestone
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
    "MilestoneIn",
    "ServiceHealth",
    "UnitIn",
    "UnitOut",
]

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class MilestoneIn(BaseModel):
    """阶段节点 of a long-term case: what is due, and by when."""

    model_config = ConfigDict(extra="forbid")

    milestone_id: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="Unique within the case; when absent, m1, m2 … (the first free one)",
    )
    title: Title = Field(description="What is due (阶段目标)")
    due: date = Field(description="Its due date: after today, by the case's deadline")


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
                },
                {
                    "title": "城区雨污分流管网改造滞后",
                    "source": "inspection",
                    "unit_id": "county-housing",
                    "cadre_id": "cadre-0077",
                    "deadline": "2028-06-30",
                    "kind": "long_term",
                    "target": "城区雨污分流全覆盖，污水收集率达到 90%",
                    "milestones": [
                        {"milestone_id": "m1", "title": "完成管网排查", "due": "2027-03-31"},
                        {"milestone_id": "m2", "title": "一期管网改造完成", "due": "2027-09-30"},
                        {"title": "全部管网改造完成并通过验收", "due": "2028-06-30"},
                    ],
                },
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
    milestones: list[MilestoneIn] = Field(
        default=[],
        max_length=100,
        description="阶段节点, required for a long-term case (long_term) and only for it: "
        "due dates strictly increasing, each after today and by the deadline",
    )
    force_new: bool = Field(
        default=False,
        description="Open a new case even when the duplicate check (减负) matches an open one.",
    )
    # Not dumped (the finding's fields are what OpenCase takes); the use case reads it.
    merge_into: str | None = Field(
        default=None,
        exclude=True,
        pattern=ID_PATTERN,
        description="Merge the finding into this open case of the same unit (the caller's "
        "answer to a possible duplicate, 409 possible_duplicate) instead of opening one.",
    )

    @model_validator(mode="after")
    def _numbered_milestones(self) -> FindingIn:
        """Gives each milestone without an id the first free ``m<n>``, then checks the
        list by the domain's rules that need no clock, naming the field of each problem
        (``milestones.1.due``); whether each is after today the domain checks."""
        taken = {m.milestone_id for m in self.milestones if m.milestone_id is not None}
        number = 0
        for item in self.milestones:
            while item.milestone_id is None:
                number += 1
                if f"m{number}" not in taken:
                    item.milestone_id = f"m{number}"
        problem = kind_problem(self.kind, self.domain_milestones())
        found = [problem] if problem else []
        found += milestone_problems(self.domain_milestones(), deadline=self.deadline, today=None)
        if found:
            raise ValidationError.from_exception_data(
                type(self).__name__, [_line_error(p, self) for p in found]
            )
        return self

    def domain_milestones(self) -> tuple[Milestone, ...]:
        return tuple(
            Milestone(milestone_id=m.milestone_id or "", title=m.title, due=m.due)
            for m in self.milestones
        )


def _line_error(problem: MilestoneProblem, finding: FindingIn) -> InitErrorDetails:
    loc = tuple(int(part) if part.isdigit() else part for part in problem.path.split("."))
    value: Any = finding.model_dump(mode="json")
    for part in loc:
        value = value[part]
    return InitErrorDetails(
        type=PydanticCustomError(
            problem.code,
            "{message_en} ({message_zh})",
            {"message_en": problem.message_en, "message_zh": problem.message_zh},
        ),
        loc=loc,
        input=value,
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
            "examples": [
                {
                    "unit_id": "county-env",
                    "name": "某县生态环境局",
                    "parent_id": "county",
                    "class": "county_department",
                }
            ]
        },
        populate_by_name=True,
    )

    unit_id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    parent_id: str | None = Field(default=None, pattern=ID_PATTERN)
    unit_class: str | None = Field(
        default=None,
        alias="class",
        min_length=1,
        max_length=32,
        description="分类考核: a class of the policy file ([classes.<class>]) whose rules "
        "this unit's new cases open under; absent: the base rules",
    )


class UnitOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    unit_id: str
    name: str
    parent_id: str | None
    path: str
    unit_class: str | None = Field(default=None, alias="class")


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
