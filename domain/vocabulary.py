"""The words of DOMAIN.md: roles, sources, kinds and statuses, with their codes."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AccountabilityAction",
    "Actor",
    "CaseKind",
    "CaseStatus",
    "EscalationLevel",
    "Role",
    "Source",
    "TrafficLight",
    "WarningReason",
]


class Role(StrEnum):
    SUPERVISOR = "supervisor"  # 督查 / 组织部门
    UNIT = "unit"  # 责任单位
    INSPECTOR = "inspector"  # 审计 / 纪检 / 巡察
    ADMIN = "admin"
    SYSTEM = "system"  # the workflow engine


class Source(StrEnum):
    ANNUAL = "annual"  # 年度考核
    ROUTINE = "routine"  # 平时考核
    SPECIAL = "special"  # 专项考核
    INSPECTION = "inspection"  # 巡视巡察
    AUDIT = "audit"  # 审计
    SUPERVISION = "supervision"  # 政府督查
    PETITION = "petition"  # 信访
    PUBLIC_RATING = "public_rating"  # 群众评价 / 好差评
    SELF_CHECK = "self_check"  # 自查


class CaseKind(StrEnum):
    IMMEDIATE = "immediate"  # 立行立改
    TIME_LIMITED = "time_limited"  # 限期整改
    LONG_TERM = "long_term"  # 长期整改


class CaseStatus(StrEnum):
    RECORDED = "recorded"  # finding recorded, case not yet opened
    OPEN = "open"
    CLOSURE_PENDING = "closure_pending"  # 申请销号, waiting for the supervisor's 验收
    CLOSED = "closed"  # 销号
    WITHDRAWN = "withdrawn"  # 撤销
    MERGED = "merged"  # 合并: merged into another open case of its unit (减负)


class TrafficLight(StrEnum):
    GREEN = "green"  # on track
    YELLOW = "yellow"  # close to the deadline or behind its milestones
    RED = "red"  # overdue
    GREY = "grey"  # closed, withdrawn or merged


class WarningReason(StrEnum):
    NEAR_DEADLINE = "near_deadline"
    BEHIND_MILESTONE = "behind_milestone"


class EscalationLevel(IntEnum):
    URGE = 1  # 催办
    FORMAL_SUPERVISION = 2  # 督办
    LISTED_SUPERVISION = 3  # 挂牌督办
    ACCOUNTABILITY_RECOMMENDED = 4  # 问责建议: waits for a human decision


class AccountabilityAction(StrEnum):
    ADMONISHMENT_TALK = "admonishment_talk"  # 诫勉谈话
    REASSIGNMENT = "reassignment"  # 调整岗位
    DEMOTION_OR_REMOVAL = "demotion_or_removal"  # 降职免职


class Actor(BaseModel):
    """Who issued a command: user id, role and (for unit users) their unit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: str = Field(min_length=1, max_length=128)
    role: Role
    unit_id: str | None = None
