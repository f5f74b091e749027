"""One case as a person's page shows it: the case, its light in words, the working
days left, the names behind the ids, its evidence files, what the caller may do
now, and for inspectors the chain checked against the seals.

Everything comes from the other use cases (``read_case``, ``case_history``,
``available_actions``) so a page and the API say the same.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from application.actions import Action, available_actions
from application.caller import Caller
from application.case_reads import (
    CaseHistoryWithSealsOut,
    CaseWithNoticesOut,
    case_history,
    read_case,
)
from application.case_words import DueItem, Words, due_items, light_reason, working_days_left
from application.models import EvidenceOut
from application.services import Services
from domain.vocabulary import Role, TrafficLight

__all__ = ["CaseSheet", "case_sheet"]


@dataclass(frozen=True, slots=True)
class CaseSheet:
    case: CaseWithNoticesOut
    light: TrafficLight
    reason: Words
    days_left: int | None
    due: list[DueItem]
    unit_name: str
    cadre_name: str
    evidence: list[EvidenceOut]
    actions: list[Action]
    names: dict[str, str] = field(default_factory=dict)  # actor user id -> display name
    history: CaseHistoryWithSealsOut | None = None  # inspectors: chain and seals

    @property
    def action_names(self) -> set[str]:
        return {a.name for a in self.actions}


def _details(
    services: Services, case: CaseWithNoticesOut
) -> tuple[str, str, list[EvidenceOut], dict[str, str]]:
    state = case.state
    unit = services.directory.unit(state.unit_id)
    cadre = services.directory.cadre(state.cadre_id)
    files = services.evidence.list_for(case.case_id)
    actors = sorted({e.actor for e in case.events if e.actor})
    names = services.accounts.display_names(actors)
    evidence = [
        EvidenceOut(content_hash=f.content_hash, name=f.name, media_type=f.media_type, size=f.size)
        for f in files
    ]
    return (
        unit.name if unit else state.unit_id,
        cadre.name if cadre else state.cadre_id,
        evidence,
        names,
    )


async def case_sheet(services: Services, caller: Caller, case_id: str) -> CaseSheet:
    """404 for a case outside the caller's scope, as ``read_case``."""
    case = await read_case(services, caller, case_id)
    state = case.state
    unit = await asyncio.to_thread(services.directory.unit, state.unit_id)
    policy = services.policy.for_class(unit.unit_class if unit else None)
    now = datetime.now(UTC)
    light = case.light or TrafficLight.GREEN
    unit_name, cadre_name, evidence, names = await asyncio.to_thread(_details, services, case)
    history = None
    if caller.actor.role is Role.INSPECTOR:
        history = await case_history(services, caller, case_id)
    return CaseSheet(
        case=case,
        light=light,
        reason=light_reason(state, light, now, policy),
        days_left=working_days_left(state.deadline, policy.today(now), policy),
        due=due_items(state, now, policy),
        unit_name=unit_name,
        cadre_name=cadre_name,
        evidence=evidence,
        actions=await available_actions(services, caller, state),
        names=names,
        history=history,
    )
