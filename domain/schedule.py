"""What the workflow's timers should do next, and when.

``planned_steps`` lists the system commands still to come for a case's current
deadline, each with the business date from which ``decide`` accepts it. The
workflow sleeps until ``policy.start_of(step.due)`` of the earliest, sends the
command through ``decide`` and plans again after every event (an extension or
a reopen moves everything). Steps already done are not listed, and ``decide``
refuses a repeat, so a timer that fires twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.commands import (
    Command,
    Escalate,
    MarkMilestoneDue,
    MarkOverdue,
    RaiseWarning,
    SendReminder,
)
from domain.policy import DEFAULT_POLICY, Policy
from domain.state import CaseState
from domain.vocabulary import Actor, CaseStatus, Role, WarningReason

__all__ = ["SYSTEM_ACTOR", "PlannedStep", "planned_steps"]

SYSTEM_ACTOR = Actor(user_id="system", role=Role.SYSTEM)


@dataclass(frozen=True, slots=True)
class PlannedStep:
    due: date  # the first business date on which decide accepts the command
    command: Command


def planned_steps(
    state: CaseState | None, policy: Policy = DEFAULT_POLICY, actor: Actor = SYSTEM_ACTOR
) -> tuple[PlannedStep, ...]:
    """Pending timer steps in the order to run them (by date, then by kind)."""
    if state is None or state.status is not CaseStatus.OPEN or state.deadline is None:
        return ()
    calendar = policy.working_calendar()
    deadline = state.deadline
    steps: list[PlannedStep] = []
    if not state.overdue:
        for days in policy.reminder_working_days:
            if days not in state.reminders_sent:
                due = calendar.subtract_working_days(deadline, days)
                steps.append(PlannedStep(due, SendReminder(actor=actor, working_days_before=days)))
        if not state.warned:
            due = calendar.subtract_working_days(deadline, policy.yellow_working_days)
            steps.append(PlannedStep(due, RaiseWarning(actor=actor)))
        steps.append(PlannedStep(deadline + timedelta(days=1), MarkOverdue(actor=actor)))
    for step in policy.escalation:
        if step.level > state.escalation_level:
            due = calendar.add_working_days(deadline, step.working_days_after_deadline).date
            steps.append(PlannedStep(due, Escalate(actor=actor, level=int(step.level))))
    for m in state.milestones:
        if not m.due_marked:
            steps.append(
                PlannedStep(m.due, MarkMilestoneDue(actor=actor, milestone_id=m.milestone_id))
            )
        if not m.warned and not m.reported:
            warning = RaiseWarning(
                actor=actor, reason=WarningReason.BEHIND_MILESTONE, milestone_id=m.milestone_id
            )
            steps.append(PlannedStep(m.due + timedelta(days=1), warning))
    # Stable order: by date, then in the order appended (reminders before overdue before
    # escalation), so level n always runs before level n + 1.
    return tuple(sorted(steps, key=lambda s: s.due))
