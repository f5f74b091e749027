"""Which system events notify whom (pure: runs inside the workflow).

Reminders, warnings and overdue reach the responsible unit; escalation widens the
circle level by level (DOMAIN.md): 1 催办 also the unit's leader; 2 督办 also the
supervising department; 3 挂牌督办 also the listed-supervision recipients
(leadership); 4 问责建议 keeps them all while the supervisor decides.
"""

from __future__ import annotations

from datetime import datetime

from activities.models import Audience, NotificationKind, NotificationRequest, Recipient
from domain.events import (
    CaseEscalated,
    CaseOverdue,
    Event,
    MilestoneDue,
    ReminderSent,
    WarningRaised,
)
from domain.state import CaseState
from workflows.models import DecisionWatch

__all__ = ["decision_reminder", "notice_for"]

_SUPERVISOR = Recipient(audience=Audience.SUPERVISOR)
_LEADERSHIP = Recipient(audience=Audience.LEADERSHIP)


def _responsible(state: CaseState) -> Recipient:
    return Recipient(audience=Audience.RESPONSIBLE, unit_id=state.unit_id, cadre_id=state.cadre_id)


def _unit_leader(state: CaseState) -> Recipient:
    return Recipient(audience=Audience.UNIT_LEADERSHIP, unit_id=state.unit_id)


def _escalation_circle(state: CaseState, level: int) -> tuple[Recipient, ...]:
    circle = [_responsible(state), _unit_leader(state)]
    if level >= 2:
        circle.append(_SUPERVISOR)
    if level >= 3:
        circle.append(_LEADERSHIP)
    return tuple(circle)


def notice_for(
    event: Event, event_id: str, state: CaseState, workflow_id: str
) -> NotificationRequest | None:
    """The notice a system event hands out, addressed by the case as it is after the event."""
    kind: NotificationKind
    recipients: tuple[Recipient, ...]
    level = milestone_id = deadline = None
    match event:
        case ReminderSent():
            kind, recipients, deadline = (
                NotificationKind.REMINDER,
                (_responsible(state),),
                event.deadline,
            )
        case WarningRaised(milestone_id=str() as milestone):
            kind, milestone_id = NotificationKind.MILESTONE_BEHIND, milestone
            recipients, deadline = (_responsible(state),), event.deadline
        case WarningRaised():
            kind, recipients = NotificationKind.WARNING, (_responsible(state),)
            deadline = event.deadline
        case MilestoneDue():
            kind, recipients = NotificationKind.MILESTONE_DUE, (_responsible(state),)
            milestone_id = event.milestone_id
        case CaseOverdue():
            kind, recipients = NotificationKind.OVERDUE, (_responsible(state),)
            deadline = event.deadline
        case CaseEscalated():
            kind, level, deadline = NotificationKind.ESCALATION, int(event.level), event.deadline
            recipients = _escalation_circle(state, level)
        case _:
            return None
    return NotificationRequest(
        idempotency_key=event_id,
        case_id=state.case_id,
        workflow_id=workflow_id,
        kind=kind,
        recipients=recipients,
        deadline=deadline,
        level=level,
        milestone_id=milestone_id,
        occurred_at=event.occurred_at,
    )


def decision_reminder(
    watch: DecisionWatch, state: CaseState, workflow_id: str, now: datetime
) -> NotificationRequest:
    """The n-th reminder that a level-4 recommendation still waits for a decision."""
    number = watch.reminders_sent + 1
    return NotificationRequest(
        idempotency_key=f"{watch.escalation_event_id}:decision-reminder:{number}",
        case_id=state.case_id,
        workflow_id=workflow_id,
        kind=NotificationKind.DECISION_REMINDER,
        recipients=(_SUPERVISOR,),
        deadline=state.deadline,
        level=4,
        occurred_at=now,
    )
