"""Which events notify whom, and what is true when they do (pure: runs inside the workflow).

System steps: reminders, warnings and overdue reach the responsible unit;
escalation widens the circle level by level (DOMAIN.md): 1 催办 also the unit's
leader; 2 督办 also the supervising department; 3 挂牌督办 also the
listed-supervision recipients (leadership); 4 问责建议 keeps them all while the
supervisor decides (and ``decision_reminder`` repeats it to the supervisor).

People's steps: what one side did is told to the other side. The supervising
side is the ``supervising`` contacts of the case's unit or, when it has none, of
the nearest unit up the tree that has some (``UnitContacts.resolve``): an
extension request and a closure request waiting for verification go there.
Extension decisions, closure rejections and verifications go to the unit; a
transfer to another unit goes to both units.

Each notice carries the facts as of its event, computed on the case's own
policy and calendar: working days left (``(today, deadline]``), the light, the
deadline, the level. A case that enters the reminder window between two
configured days (opened late, or after a deadline change) gets every reminder
it passed at once; only the last of them (the smallest configured day still at
or above what is left) notifies, so the unit hears one reminder saying the true
number, not three.
"""

from __future__ import annotations

from datetime import datetime

from activities.models import Audience, NotificationKind, NotificationRequest, Recipient
from domain.events import (
    CaseEscalated,
    CaseOverdue,
    ClosureRejected,
    ClosureRequested,
    ClosureVerified,
    Event,
    ExtensionDenied,
    ExtensionGranted,
    ExtensionRequested,
    MilestoneDue,
    ReminderSent,
    ResponsibilityTransferred,
    WarningRaised,
)
from domain.policy import DEFAULT_POLICY, Policy
from domain.state import CaseState
from domain.traffic_light import traffic_light
from workflows.models import DecisionWatch

__all__ = ["NOTICES_V2", "decision_reminder", "notice_for", "reminder_is_superseded"]

# The workflow's patch id: a run that began before people's steps notified and late
# reminders were folded keeps the old mapping (``legacy``), so its history replays.
NOTICES_V2 = "notices-v2"


def _responsible(state: CaseState, unit_id: str | None = None) -> Recipient:
    return Recipient(
        audience=Audience.RESPONSIBLE, unit_id=unit_id or state.unit_id, cadre_id=state.cadre_id
    )


def _unit_leader(state: CaseState) -> Recipient:
    return Recipient(audience=Audience.UNIT_LEADERSHIP, unit_id=state.unit_id)


def _supervisor(state: CaseState) -> Recipient:
    """The supervising department of the case's unit (looked up the tree by the sink)."""
    return Recipient(audience=Audience.SUPERVISOR, unit_id=state.unit_id)


def _leadership(state: CaseState) -> Recipient:
    return Recipient(audience=Audience.LEADERSHIP, unit_id=state.unit_id)


def _escalation_circle(state: CaseState, level: int) -> tuple[Recipient, ...]:
    circle = [_responsible(state), _unit_leader(state)]
    if level >= 2:
        circle.append(_supervisor(state))
    if level >= 3:
        circle.append(_leadership(state))
    return tuple(circle)


def reminder_is_superseded(event: ReminderSent, state: CaseState, policy: Policy) -> bool:
    """True when another configured reminder, due today too (its timer's day has come)
    and not sent yet, will say the same thing: 2 days left with reminders at 5, 3, 1
    fires 5 and 3 today, and only 3 notifies."""
    calendar = policy.working_calendar()
    today = policy.today(event.occurred_at)
    return any(
        days < event.working_days_before
        and calendar.subtract_working_days(event.deadline, days) <= today
        for days in policy.reminder_working_days
        if days not in state.reminders_sent
    )


def notice_for(
    event: Event,
    event_id: str,
    state: CaseState,
    workflow_id: str,
    policy: Policy = DEFAULT_POLICY,
    *,
    legacy: bool = False,
) -> NotificationRequest | None:
    """The notice an event hands out, addressed by the case as it is after the event.

    ``legacy``: the mapping before ``NOTICES_V2`` (system steps only, every reminder
    notifies), for runs whose history was written by it."""
    kind: NotificationKind
    recipients: tuple[Recipient, ...]
    level = milestone_id = None
    deadline = state.deadline
    detail: dict[str, str] = {}
    calendar = policy.working_calendar()
    today = policy.today(event.occurred_at)
    left = overdue = None
    if deadline is not None:
        if today <= deadline:
            left = calendar.working_days_between(today, deadline)
        else:
            overdue = calendar.working_days_between(deadline, today)
    match event:
        case ReminderSent():
            if not legacy and reminder_is_superseded(event, state, policy):
                return None
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
            overdue = event.working_days_overdue
        case _ if legacy:
            return None
        case ExtensionRequested():
            kind, recipients = NotificationKind.EXTENSION_REQUESTED, (_supervisor(state),)
            detail = {
                "reason": event.reason,
                "proposed_deadline": event.proposed_deadline.isoformat(),
                "request_number": str(event.request_number),
            }
        case ExtensionGranted():
            kind, recipients = NotificationKind.EXTENSION_GRANTED, (_responsible(state),)
            deadline = event.new_deadline  # the case's deadline moves with the next event
            left = calendar.working_days_between(today, deadline) if today <= deadline else 0
            detail = {"new_deadline": event.new_deadline.isoformat(), "comment": event.comment}
        case ExtensionDenied():
            kind, recipients = NotificationKind.EXTENSION_DENIED, (_responsible(state),)
            detail = {"reason": event.reason}
        case ClosureRequested():
            kind, recipients = NotificationKind.CLOSURE_REQUESTED, (_supervisor(state),)
            detail = {"summary": event.summary}
        case ClosureRejected():
            kind, recipients = NotificationKind.CLOSURE_REJECTED, (_responsible(state),)
            detail = {"reason": event.reason}
        case ClosureVerified():
            kind, recipients = NotificationKind.CLOSURE_VERIFIED, (_responsible(state),)
            detail = {"comment": event.comment}
        case ResponsibilityTransferred():
            kind = NotificationKind.REASSIGNED
            recipients = (_responsible(state), _responsible(state, event.previous_unit_id))
            detail = {"previous_unit_id": event.previous_unit_id, "reason": event.reason}
        case _:
            return None
    return NotificationRequest(
        idempotency_key=event_id,
        case_id=state.case_id,
        workflow_id=workflow_id,
        kind=kind,
        recipients=recipients,
        deadline=deadline,
        deadline_provisional=state.deadline_provisional,
        level=level,
        milestone_id=milestone_id,
        occurred_at=event.occurred_at,
        unit_id=state.unit_id,
        light=traffic_light(state, event.occurred_at, policy).value,
        working_days_left=left,
        working_days_overdue=overdue,
        detail=detail,
    )


def decision_reminder(
    watch: DecisionWatch,
    state: CaseState,
    workflow_id: str,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> NotificationRequest:
    """The n-th reminder that a level-4 recommendation still waits for a decision."""
    number = watch.reminders_sent + 1
    overdue = None
    if state.deadline is not None:
        overdue = policy.working_calendar().working_days_between(state.deadline, policy.today(now))
    return NotificationRequest(
        idempotency_key=f"{watch.escalation_event_id}:decision-reminder:{number}",
        case_id=state.case_id,
        workflow_id=workflow_id,
        kind=NotificationKind.DECISION_REMINDER,
        recipients=(_supervisor(state),),
        deadline=state.deadline,
        level=4,
        occurred_at=now,
        unit_id=state.unit_id,
        light=traffic_light(state, now, policy).value,
        working_days_overdue=overdue,
    )
