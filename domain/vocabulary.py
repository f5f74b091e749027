"""The words of DOMAIN.md: roles, sources, kinds and statuses, with their codes."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Actor", "CaseKind", "CaseStatus", "Role", "Source"]


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
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class Actor(BaseModel):
    """Who issued a command: user id, role and (for unit users) their unit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: str = Field(min_length=1, max_length=128)
    role: Role
    unit_id: str | None = None
