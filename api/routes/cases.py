"""GET /cases/{id}: one case, its state folded from its events, and the events."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Path

from api.auth import CurrentActor
from api.case_access import visible_case, with_clock
from api.deps import AppSettings, Store, Temporal, Units
from api.models import (
    ID_PATTERN,
    CaseHistoryOut,
    CaseOut,
    ChainProblem,
    ChainVerification,
)
from store.verify import verify_log

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
    store: Store,
    directory: Units,
    actor: CurrentActor,
    temporal: Temporal,
    case_id: str = Path(pattern=ID_PATTERN),
) -> CaseOut:
    case = await visible_case(store, directory, actor, case_id)
    return await with_clock(case, temporal)


@router.get(
    "/cases/{case_id}/history",
    response_model=CaseHistoryOut,
    summary="A case's events with their hash chain, verified now",
    responses={
        401: {"description": "No valid bearer token"},
        404: {"description": "No such case, or not within your scope"},
    },
)
async def case_history(
    store: Store,
    directory: Units,
    actor: CurrentActor,
    settings: AppSettings,
    case_id: str = Path(pattern=ID_PATTERN),
) -> CaseHistoryOut:
    """Every event with actor, role, time, hash and previous hash; the stream's chain
    is recomputed from the stored fields on each request (and the seals' signatures
    checked when the server holds the audit keys)."""
    case = await visible_case(store, directory, actor, case_id)
    keys = settings.audit_keys()
    report = await asyncio.to_thread(verify_log, store.engine, keys, stream_id=case.workflow_id)
    return CaseHistoryOut(
        case_id=case_id,
        stream_id=case.workflow_id,
        events=case.events,
        verification=ChainVerification(
            ok=report.ok,
            events_checked=report.events,
            seals_checked=report.seals,
            problems=[
                ChainProblem(code=p.code, version=p.version, expected=p.expected, found=p.found)
                for p in report.problems
            ],
        ),
    )
