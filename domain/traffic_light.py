"""亮灯: the traffic light of a case at a given moment.

- grey: closed or withdrawn;
- red: the deadline day has passed (unless closure awaits verification);
- yellow: within the policy's working days of the deadline, behind a
  milestone, or past the deadline with closure awaiting verification;
- green: on track (also a finding not yet opened).

Without new events the light only gets worse as time passes.
"""

from __future__ import annotations

from datetime import datetime

from domain.policy import DEFAULT_POLICY, Policy
from domain.state import CaseState
from domain.vocabulary import CaseStatus, TrafficLight

__all__ = ["traffic_light"]


def traffic_light(
    state: CaseState | None, at: datetime, policy: Policy = DEFAULT_POLICY
) -> TrafficLight:
    if state is None or state.status is CaseStatus.RECORDED or state.deadline is None:
        return TrafficLight.GREEN
    if state.status in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN, CaseStatus.MERGED):
        return TrafficLight.GREY
    today = policy.today(at)
    if today > state.deadline:
        if state.status is CaseStatus.CLOSURE_PENDING:
            return TrafficLight.YELLOW
        return TrafficLight.RED
    calendar = policy.working_calendar()
    if calendar.at_most_working_days(today, state.deadline, policy.yellow_working_days):
        return TrafficLight.YELLOW
    if any(not m.reported and today > m.due for m in state.milestones):
        return TrafficLight.YELLOW
    return TrafficLight.GREEN
