"""GET /cases/{id} and its history (application.case_reads)."""

from __future__ import annotations

from fastapi import APIRouter, Path

from api.deps import AppServices, CurrentCaller
from application.case_reads import (
    CaseHistoryWithSealsOut,
    CaseWithNoticesOut,
    case_history,
    read_case,
)
from application.models import ID_PATTERN

__all__ = ["router"]

router = APIRouter(tags=["cases"])


@router.get(
    "/cases/{case_id}",
    response_model=CaseWithNoticesOut,
    name="get_case",
    summary="One case with its state and its events",
    responses={
        401: {"description": "No valid bearer token"},
        404: {"description": "No such case, or not within your scope"},
    },
)
async def get_case(
    services: AppServices, caller: CurrentCaller, case_id: str = Path(pattern=ID_PATTERN)
) -> CaseWithNoticesOut:
    return await read_case(services, caller, case_id)


@router.get(
    "/cases/{case_id}/history",
    response_model=CaseHistoryWithSealsOut,
    summary="A case's events with their hash chain, verified now, also against the seals",
    name="case_history",
    responses={
        401: {"description": "No valid bearer token"},
        404: {"description": "No such case, or not within your scope"},
    },
)
async def case_history_route(
    services: AppServices, caller: CurrentCaller, case_id: str = Path(pattern=ID_PATTERN)
) -> CaseHistoryWithSealsOut:
    """Every event with actor, role, time, hash and previous hash; the stream's chain
    is recomputed from the stored fields on each request, and its events are checked
    against every seal that named the stream (a sealed version rewritten, even with the
    chain recomputed, or deleted is named in ``first_bad_version``). The seals'
    signatures are checked when the server holds the audit keys, and the seals against
    the witness file when ``ZHENGGAI_AUDIT_WITNESS_FILE`` is set."""
    return await case_history(services, caller, case_id)
