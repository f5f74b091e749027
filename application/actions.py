"""What the caller may do to a case now: the domain's ``decide`` asked on dry commands.

For each human command a placeholder of it (the caller as actor, harmless
content) goes through ``domain.case.decide`` against the case's state, under the
rules of the unit's class; nothing is written. The action is offered when the
command passes, or fails only on its content (``InvalidCommand``: the real form
fills it in); it is not offered when the role, the unit or the case's state
refuses it (``PermissionDenied``, ``InvalidState``). The workflow decides again
when the real command arrives, so an offer is never a promise.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from application.caller import Caller
from application.services import Services
from domain import commands as c
from domain.case import decide
from domain.errors import InvalidCommand, InvalidState, PermissionDenied
from domain.state import CaseState
from domain.values import Milestone
from domain.vocabulary import AccountabilityAction, Actor, CaseKind, Role

__all__ = ["ACTIONS", "REVISED_PLAN", "Action", "available_actions"]


@dataclass(frozen=True, slots=True)
class Action:
    name: str  # the API's path segment, e.g. "plan", "extension-decision"
    label_zh: str
    label_en: str
    role: Role


# name -> (zh, en, role); in the order a case's forms are shown.
ACTIONS: dict[str, tuple[str, str, Role]] = {
    "plan": ("提交整改方案", "Submit the plan", Role.UNIT),
    "progress": ("报告整改进展", "Report progress", Role.UNIT),
    "milestone-report": ("报告阶段节点", "Report a milestone", Role.UNIT),
    "extension-request": ("申请延期", "Request an extension", Role.UNIT),
    "closure-request": ("申请销号", "Submit for closure", Role.UNIT),
    "extension-decision": ("延期审批", "Decide the extension", Role.SUPERVISOR),
    "verification": ("验收销号", "Verify the closure", Role.SUPERVISOR),
    "accountability": ("记录问责", "Record accountability", Role.SUPERVISOR),
    "tolerance": ("容错免责", "Error-tolerance exemption", Role.SUPERVISOR),
    "deadline": ("调整整改期限", "Set the deadline", Role.SUPERVISOR),
    "target": ("设定整改目标", "Set the target", Role.SUPERVISOR),
    "milestones": ("调整阶段节点", "Change the milestones", Role.SUPERVISOR),
    "assign": ("指定责任人", "Assign a cadre", Role.SUPERVISOR),
    "reassign": ("移交责任单位", "Transfer to another unit", Role.SUPERVISOR),
    "satisfaction": ("满意度回访", "Satisfaction visit", Role.SUPERVISOR),
    "reopen": ("回头看重新打开", "Reopen (look-back)", Role.SUPERVISOR),
    "merge-into": ("并入同单位其他案件", "Merge into another case of the unit", Role.SUPERVISOR),
    "withdraw": ("撤销案件", "Withdraw the case", Role.SUPERVISOR),
}
# The plan again once one was submitted: the same command, a revised plan (修改整改方案).
REVISED_PLAN = ("修改整改方案", "Revise the plan")


def _dry(name: str, actor: Actor, state: CaseState, today: date) -> c.Command:
    """A placeholder of the action's command, with content that is valid where possible."""
    later = (state.deadline or today) + timedelta(days=60)
    open_milestone = next((m for m in state.milestones if not m.reported), None)
    reason = "—"
    match name:
        case "plan":
            return c.SubmitPlan(actor=actor, plan=reason)
        case "progress":
            return c.ReportProgress(actor=actor, text=reason)
        case "milestone-report":
            mid = open_milestone.milestone_id if open_milestone else "-"
            return c.ReportMilestone(actor=actor, milestone_id=mid, text=reason)
        case "extension-request":
            return c.RequestExtension(actor=actor, reason=reason, proposed_deadline=later)
        case "closure-request":
            return c.RequestClosure(actor=actor, summary=reason)
        case "extension-decision":
            return c.DenyExtension(actor=actor, reason=reason)
        case "verification":
            return c.RejectClosure(actor=actor, reason=reason)
        case "accountability":
            return c.RecordAccountability(
                actor=actor, action=AccountabilityAction.ADMONISHMENT_TALK, reason=reason
            )
        case "tolerance":
            return c.ApplyTolerance(actor=actor, reason=reason)
        case "deadline":
            return c.SetDeadline(actor=actor, deadline=later, reason=reason)
        case "target":
            return c.SetTarget(actor=actor, target=reason)
        case "milestones":
            current = tuple(
                Milestone(milestone_id=m.milestone_id, title=m.title, due=m.due)
                for m in state.milestones
            )
            return c.SetMilestones(actor=actor, milestones=current, reason=reason)
        case "assign":
            return c.AssignResponsibility(actor=actor, cadre_id=state.cadre_id, reason=reason)
        case "reassign":
            return c.TransferResponsibility(
                actor=actor, unit_id=state.unit_id, cadre_id=state.cadre_id, reason=reason
            )
        case "satisfaction":
            return c.RecordSatisfaction(actor=actor, score_percent=100)
        case "reopen":
            return c.ReopenCase(actor=actor, reason=reason)
        case "withdraw":
            return c.WithdrawCase(actor=actor, reason=reason)
        case "merge-into":
            return c.MergeIntoCase(actor=actor, into_case_id="-", reason=reason)
    raise ValueError(name)


def _allowed(command: c.Command, state: CaseState, now: datetime, services: Services) -> bool:
    unit = services.directory.unit(state.unit_id)
    policy = services.policy.for_class(unit.unit_class if unit else None)
    try:
        decide(state, command, now, policy)
    except (PermissionDenied, InvalidState):
        return False
    except InvalidCommand:
        return True  # only the placeholder's content was refused
    return True


def _actions(services: Services, actor: Actor, state: CaseState) -> list[Action]:
    if actor.role not in (Role.UNIT, Role.SUPERVISOR):
        return []  # inspectors change nothing; admins see no case
    now = datetime.now(UTC)
    today = services.policy.for_class(None).today(now)
    found = []
    for name, (zh, en, role) in ACTIONS.items():
        if role is not actor.role:
            continue
        if name == "milestone-report" and not any(not m.reported for m in state.milestones):
            continue  # nothing to report: the placeholder would only fail on its content
        if name == "milestones" and state.kind is not CaseKind.LONG_TERM:
            continue  # only a long-term case has milestones, whatever the form says
        if _allowed(_dry(name, actor, state, today), state, now, services):
            if name == "plan" and state.plan_submitted:
                zh, en = REVISED_PLAN
            found.append(Action(name, zh, en, role))
    return found


async def available_actions(services: Services, caller: Caller, state: CaseState) -> list[Action]:
    """The actions the domain would accept from the caller on the case as it is now.

    ``state`` comes from ``read_case`` (which already checked the caller's scope)."""
    return await asyncio.to_thread(_actions, services, caller.actor, state)
