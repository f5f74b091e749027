"""A case as the caller may see it: not found when absent or outside the caller's scope."""

from __future__ import annotations

import asyncio

from api.auth import in_scope
from api.case_view import load_case
from api.models import CaseOut
from api.problems import Problem
from domain.vocabulary import Actor
from store.directory import Directory
from store.event_store import EventStore

__all__ = ["visible_case"]


async def visible_case(
    store: EventStore, directory: Directory, actor: Actor, case_id: str
) -> CaseOut:
    case = await asyncio.to_thread(load_case, store, case_id)
    visible = case is not None and await asyncio.to_thread(
        in_scope, directory, actor, case.state.unit_id
    )
    if case is None or not visible:
        raise Problem(404, "case_not_found", f"未找到案件 {case_id}", f"no case {case_id}")
    return case
