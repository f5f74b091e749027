"""我的待办: what waits on the signed-in person, by role.

- unit: its active cases by light, each with what is due next (plan, milestones,
  closures sent back, deadlines within the next working days);
- supervisor: what waits on them in their subtree (extension requests, closures
  to verify, level-4 decisions) and its red cases;
- inspector: the latest changes in their subtree and the audit state (seals,
  read models).

The lists come from the case-summary projection (``case_lists.case_page``); the
unit's "due next" from each active case's state.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from application.access import ensure_sees_cases, scope_root
from application.caller import Caller
from application.case_lists import BoardOut, CaseQuery, board, case_page
from application.case_words import DueItem, due_items, working_days_left
from application.services import Services
from domain.case import fold
from domain.events import event_class
from domain.policy import Policy
from domain.vocabulary import CaseStatus, Role, TrafficLight
from store.projections.case_summary import CaseRow, CaseSort
from store.projections.lag import ProjectionLag, projection_lag
from store.todo_reads import SealSummary, cases_awaiting_extension_decision, seal_summary

__all__ = ["TodoCase", "Todos", "my_todos"]

ACTIVE = frozenset({CaseStatus.OPEN, CaseStatus.CLOSURE_PENDING})
UNIT_CASES = 60  # a unit's active cases looked at for "due next"


@dataclass(frozen=True, slots=True)
class TodoCase:
    row: CaseRow
    days_left: int | None
    due: list[DueItem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Todos:
    role: Role
    board: BoardOut | None = None
    by_light: dict[TrafficLight, list[TodoCase]] = field(default_factory=dict)
    extension_requests: list[TodoCase] = field(default_factory=list)
    closures_to_verify: list[TodoCase] = field(default_factory=list)
    level4: list[TodoCase] = field(default_factory=list)
    red: list[TodoCase] = field(default_factory=list)
    recent: list[TodoCase] = field(default_factory=list)
    seals: SealSummary | None = None
    projections: list[ProjectionLag] = field(default_factory=list)


def _plain(services: Services, rows: tuple[CaseRow, ...] | list[CaseRow]) -> list[TodoCase]:
    policy = services.policy.for_class(None)
    today = policy.today(datetime.now(UTC))
    return [TodoCase(r, working_days_left(r.deadline, today, policy)) for r in rows]


def _with_due(services: Services, rows: tuple[CaseRow, ...]) -> list[TodoCase]:
    """Each case with what is due next, from its state: the cases' events read in one
    statement, each unit's policy looked up once."""
    now = datetime.now(UTC)
    streams = services.store.read_streams([row.stream_id for row in rows])
    policies: dict[str, Policy] = {}
    found = []
    for row in rows:
        if row.unit_id not in policies:
            unit = services.directory.unit(row.unit_id)
            policies[row.unit_id] = services.policy.for_class(unit.unit_class if unit else None)
        policy = policies[row.unit_id]
        recorded = streams.get(row.stream_id)
        state = fold(event_class(e.type).model_validate(e.data) for e in recorded or [])
        due = due_items(state, now, policy) if state is not None else []
        left = working_days_left(row.deadline, policy.today(now), policy)
        found.append(TodoCase(row, left, due))
    return found


async def _page(
    services: Services, caller: Caller, limit: int, sort: CaseSort = "deadline", **filters: object
) -> list[CaseRow]:
    query = CaseQuery(filters=filters, sort=sort, limit=limit)
    return list((await case_page(services, caller, query)).items)


async def my_todos(services: Services, caller: Caller) -> Todos:
    actor = caller.actor
    ensure_sees_cases(actor)
    overview = await board(services, caller, None)
    if actor.role is Role.UNIT:
        rows = await _page(services, caller, UNIT_CASES, statuses=ACTIVE)
        cases = await asyncio.to_thread(_with_due, services, tuple(rows))
        by_light: dict[TrafficLight, list[TodoCase]] = {
            light: [] for light in (TrafficLight.RED, TrafficLight.YELLOW, TrafficLight.GREEN)
        }
        for case in cases:
            by_light.setdefault(case.row.light, []).append(case)
        return Todos(role=actor.role, board=overview, by_light=by_light)
    if actor.role is Role.SUPERVISOR:
        root = await asyncio.to_thread(scope_root, services.directory, actor, None)
        waiting_ids = await asyncio.to_thread(
            cases_awaiting_extension_decision, services.store.engine, root.path
        )
        closures = await _page(
            services, caller, 50, statuses=frozenset({CaseStatus.CLOSURE_PENDING})
        )
        level4 = await _page(services, caller, 50, statuses=ACTIVE, escalation_level=4)
        red = await _page(
            services, caller, 50, statuses=ACTIVE, lights=frozenset({TrafficLight.RED})
        )
        extensions = (
            await _page(services, caller, 50, statuses=ACTIVE, case_ids=frozenset(waiting_ids))
            if waiting_ids
            else []
        )
        return Todos(
            role=actor.role,
            board=overview,
            extension_requests=_plain(services, extensions),
            closures_to_verify=_plain(services, closures),
            level4=_plain(services, level4),
            red=_plain(services, red),
        )
    recent = await _page(services, caller, 20, sort="-last_activity")
    seals = await asyncio.to_thread(seal_summary, services.store.engine)
    lag = await asyncio.to_thread(projection_lag, services.store.engine)
    return Todos(
        role=actor.role,
        board=overview,
        recent=_plain(services, recent),
        seals=seals,
        projections=lag,
    )
