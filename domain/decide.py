"""``decide``: a command, the case as it is, the time and the policy give new events.

It raises a ``DomainError`` subclass or returns events; it never writes anything.
Each command type has one handler and one set of roles allowed to issue it; the
role is checked first, then the unit, then the state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from domain import guards
from domain.commands import (
    AbsorbCase,
    ApplyTolerance,
    AssignResponsibility,
    Command,
    DenyExtension,
    Escalate,
    GrantExtension,
    MarkMilestoneDue,
    MarkOverdue,
    MergeDuplicateFinding,
    MergeIntoCase,
    OpenCase,
    RaiseWarning,
    RecomputeDeadline,
    RecordAccountability,
    RecordSatisfaction,
    RejectClosure,
    ReopenCase,
    ReportMilestone,
    ReportProgress,
    RequestClosure,
    RequestExtension,
    SendReminder,
    SetDeadline,
    SetMilestones,
    SetTarget,
    SubmitPlan,
    TransferResponsibility,
    VerifyClosure,
    WithdrawCase,
)
from domain.context import Context
from domain.errors import InvalidCommand
from domain.events import Event
from domain.handlers import closure, lifecycle, merging, milestones, system, unit_work
from domain.policy import DEFAULT_POLICY, Policy
from domain.state import CaseState
from domain.vocabulary import Role

__all__ = ["decide"]


Handler = Callable[[CaseState | None, Any, Context], list[Event]]

_S = frozenset({Role.SUPERVISOR})
_U = frozenset({Role.UNIT})
_SYS = frozenset({Role.SYSTEM})

# command type -> (roles allowed, what it does in zh / en, handler)
_RULES: dict[type[Command], tuple[frozenset[Role], str, str, Handler]] = {
    OpenCase: (_S, "立项整改", "open a case", lifecycle.open_case),
    MergeDuplicateFinding: (_S, "合并重复问题", "merge a duplicate finding", lifecycle.merge),
    MergeIntoCase: (_S, "合并案件", "merge into another case", merging.merge_into),
    AbsorbCase: (_S, "接收合并案件", "take in a merged case", merging.absorb),
    AssignResponsibility: (_S, "指定责任人", "assign responsibility", lifecycle.assign),
    TransferResponsibility: (_S, "移交责任单位", "transfer responsibility", lifecycle.transfer),
    SetDeadline: (_S, "设定整改期限", "set the deadline", lifecycle.set_deadline),
    SetTarget: (_S, "设定整改目标", "set the target", lifecycle.set_target),
    SetMilestones: (_S, "设定阶段节点", "set the milestones", milestones.set_milestones),
    WithdrawCase: (_S, "撤销案件", "withdraw a case", lifecycle.withdraw),
    RecordAccountability: (_S, "记录问责", "record accountability", closure.accountability),
    ApplyTolerance: (_S, "容错免责", "apply an error-tolerance exemption", closure.tolerance),
    GrantExtension: (_S, "批准延期", "grant an extension", unit_work.grant_extension),
    DenyExtension: (_S, "驳回延期", "deny an extension", unit_work.deny_extension),
    VerifyClosure: (_S, "验收销号", "verify a closure", closure.verify),
    RejectClosure: (_S, "退回销号申请", "reject a closure", closure.reject),
    RecordSatisfaction: (_S, "记录满意度回访", "record satisfaction", closure.satisfaction),
    ReopenCase: (_S, "回头看重新打开案件", "reopen a case", closure.reopen),
    SubmitPlan: (_U, "提交整改方案", "submit a plan", unit_work.submit_plan),
    ReportProgress: (_U, "报送进展", "report progress", unit_work.report_progress),
    ReportMilestone: (_U, "报送节点进展", "report a milestone", unit_work.report_milestone),
    RequestExtension: (_U, "申请延期", "request an extension", unit_work.request_extension),
    RequestClosure: (_U, "申请销号", "request closure", closure.request),
    SendReminder: (_SYS, "发送提醒", "send a reminder", system.send_reminder),
    RaiseWarning: (_SYS, "亮黄灯预警", "raise a warning", system.raise_warning),
    MarkOverdue: (_SYS, "标记逾期", "mark a case overdue", system.mark_overdue),
    Escalate: (_SYS, "升级督办", "escalate", system.escalate),
    MarkMilestoneDue: (_SYS, "标记节点到期", "mark a milestone due", system.milestone_due),
    RecomputeDeadline: (
        _SYS | _S,
        "重新计算整改期限",
        "recompute the deadline",
        lifecycle.recompute_deadline,
    ),
}


def decide(
    state: CaseState | None,
    command: Command,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> list[Event]:
    rule = _RULES.get(type(command))
    if rule is None:
        raise InvalidCommand(
            "unknown_command",
            f"不支持的指令：{type(command).__name__}",
            f"unsupported command: {type(command).__name__}",
        )
    roles, action_zh, action_en, handler = rule
    guards.ensure_role(command.actor, roles, action_zh, action_en)
    if state is not None:
        guards.ensure_own_unit(command.actor, state)
    return handler(state, command, Context(now=now, today=policy.today(now), policy=policy))
