"""What the case's clock does next: a pure function of the case, the policy and the time.

``domain.schedule.planned_steps`` lists the system commands still to come; this
module gives each an instant and picks the next one. Times of day are China
Standard Time, on the policy's fixed UTC offset (no zoneinfo: the sandbox):

- overdue and a milestone's due mark at 00:00 of their day (the deadline day is over);
- reminders, warnings, escalations and decision reminders at 09:00, in office hours,
  so a notice arrives when people read it; a reminder or warning planned for a day off
  moves to the working day before, which leaves as many working days to the deadline;
- the look-back window ends at 00:00 after its last day; the workflow then completes.

``decide`` judges by the business date only, so the hour never changes what it accepts.
A step that is due but refused (stale after a late start, say) is skipped, never retried
in a loop: the next timer is the first due step ``decide`` accepts, else the first future one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from domain.commands import (
    Command,
    Escalate,
    MarkMilestoneDue,
    MarkOverdue,
    RaiseWarning,
    SendReminder,
)
from domain.decide import decide
from domain.errors import DomainError
from domain.policy import Policy
from domain.schedule import PlannedStep, planned_steps
from domain.state import CaseState
from domain.vocabulary import CaseStatus, WarningReason
from workflows.models import DecisionWatch, NextTimer, TimerAction

__all__ = [
    "OFFICE_HOUR",
    "Timer",
    "decision_pending",
    "look_back_end",
    "next_timer",
    "pending_timers",
]

OFFICE_HOUR = time(9)
_ACTIVE = (CaseStatus.OPEN, CaseStatus.CLOSURE_PENDING)


@dataclass(frozen=True, slots=True)
class Timer:
    at: datetime
    action: TimerAction
    due: date
    command: Command | None = None  # None: no event (decision reminder, end of look-back)

    def view(self) -> NextTimer:
        cmd = self.command
        return NextTimer(
            at=self.at,
            action=self.action,
            due=self.due,
            working_days_before=cmd.working_days_before if isinstance(cmd, SendReminder) else None,
            level=cmd.level if isinstance(cmd, Escalate) else None,
            milestone_id=cmd.milestone_id
            if isinstance(cmd, MarkMilestoneDue | RaiseWarning)
            else None,
        )


def _action(command: Command) -> TimerAction:
    match command:
        case SendReminder():
            return TimerAction.REMINDER
        case RaiseWarning(reason=WarningReason.BEHIND_MILESTONE):
            return TimerAction.MILESTONE_WARNING
        case RaiseWarning():
            return TimerAction.WARNING
        case MarkMilestoneDue():
            return TimerAction.MILESTONE_DUE
        case MarkOverdue():
            return TimerAction.OVERDUE
        case Escalate():
            return TimerAction.ESCALATION
    raise ValueError(f"not a timer command: {type(command).__name__}")


def _at(policy: Policy, day: date, hour: time) -> datetime:
    return policy.start_of(day) + timedelta(hours=hour.hour, minutes=hour.minute)


def _timer(step: PlannedStep, policy: Policy) -> Timer:
    action = _action(step.command)
    if action in (TimerAction.OVERDUE, TimerAction.MILESTONE_DUE):
        return Timer(_at(policy, step.due, time(0)), action, step.due, step.command)
    due = step.due
    if action in (TimerAction.REMINDER, TimerAction.WARNING):
        # planned_steps gives the latest day with N working days left, often a Sunday;
        # the working day before it leaves the same N (days off are not counted).
        calendar = policy.working_calendar()
        while not calendar.is_working_day(due):
            due -= timedelta(days=1)
    return Timer(_at(policy, due, OFFICE_HOUR), action, due, step.command)


def _superseded(step: PlannedStep, state: CaseState, today: date, due: list[int]) -> bool:
    """A notice whose moment passed unsent (a late start, a worker down for days).

    Of several reminders due at once only the closest goes out; after the deadline
    day neither reminders nor the near-deadline warning do: overdue says it all.
    """
    command = step.command
    late = state.deadline is not None and today > state.deadline
    if isinstance(command, RaiseWarning):
        return late and command.reason is WarningReason.NEAR_DEADLINE
    if not isinstance(command, SendReminder):
        return False
    days = command.working_days_before
    closer = any(sent < days for sent in state.reminders_sent) or any(d < days for d in due)
    return late or closer


def decision_pending(state: CaseState | None, watch: DecisionWatch | None) -> bool:
    if state is None or watch is None or state.status not in _ACTIVE:
        return False
    decided = state.accountability_count + state.tolerance_count
    return state.escalation_level >= 4 and decided == watch.decisions_before


def look_back_end(state: CaseState | None, policy: Policy) -> datetime | None:
    """The first moment after the look-back window of a closed case (回头看)."""
    if state is None or state.status is not CaseStatus.CLOSED or state.closed_at is None:
        return None
    last_day = policy.today(state.closed_at) + timedelta(days=policy.look_back_days)
    return policy.start_of(last_day + timedelta(days=1))


def pending_timers(
    state: CaseState | None,
    policy: Policy,
    today: date,
    watch: DecisionWatch | None = None,
    decision_interval: int = 5,
) -> list[Timer]:
    """Every timer still to come for the case as it is, in firing order."""
    if state is None:
        return []
    planned = [(step, _timer(step, policy)) for step in planned_steps(state, policy)]
    due_reminders = [
        step.command.working_days_before
        for step, timer in planned
        if isinstance(step.command, SendReminder) and timer.due <= today
    ]
    timers = [t for s, t in planned if not _superseded(s, state, today, due_reminders)]
    if watch is not None and decision_pending(state, watch):
        calendar = policy.working_calendar()
        counted = decision_interval * (watch.reminders_sent + 1)
        day = calendar.add_working_days(watch.since, counted).date
        timers.append(Timer(_at(policy, day, OFFICE_HOUR), TimerAction.DECISION_REMINDER, day))
    end = look_back_end(state, policy)
    if end is not None:
        timers.append(Timer(end, TimerAction.LOOK_BACK_END, policy.today(end)))
    # sorted() is stable: on the same instant, planned order (level n before n + 1) holds.
    return sorted(timers, key=lambda t: t.at)


def next_timer(
    state: CaseState | None,
    policy: Policy,
    now: datetime,
    watch: DecisionWatch | None = None,
    decision_interval: int = 5,
) -> Timer | None:
    """The timer to fire now (due and accepted by ``decide``), else the next future one."""
    timers = pending_timers(state, policy, policy.today(now), watch, decision_interval)
    for timer in timers:
        if timer.at > now:
            return timer
        if timer.command is None:
            return timer
        try:
            decide(state, timer.command, now, policy)
        except DomainError:
            continue  # stale: skip it rather than spin on a refusal
        return timer
    return None
