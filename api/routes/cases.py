"""GET /cases/{id}: one case, its state folded from its events, and the events."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Path

from api.auth import CurrentActor, in_scope
from api.case_view import load_case
from api.deps import Store, Units
from api.models import ID_PATTERN, CaseOut
from api.problems import Problem

__all__ = ["router"]

router = APIRouter(tags=["cases"])


@router.get(
    "/cases/{case_id}",
    response_model=CaseOut,
    name="get_case",
    summary="One case with its state and its events",
    responses={
        401: {"description": "No valid bearer token"},
        404: {"description": "No such case, or not within your scope"},
    },
)
async def get_case(
    store: Store, directory: Units, actor: CurrentActor, case_id: str = Path(pattern=ID_PATTERN)
) -> CaseOut:
    case = await asyncio.to_thread(load_case, store, case_id)
    visible = case is not None and await asyncio.to_thread(
        in_scope, directory, actor, case.state.unit_id
    )
    if case is None or not visible:
        raise Problem(404, "case_not_found", f"未找到案件 {case_id}", f"no case {case_id}")
    return case
