"""POST /findings: record a finding (application.findings.record_finding)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api.deps import AppServices, IdempotencyKey, caller_with
from application.caller import Caller
from application.findings import record_finding
from application.models import CaseOut, FindingIn
from domain.vocabulary import Role

__all__ = ["router"]

router = APIRouter(tags=["findings"])
Supervisor = Annotated[Caller, Depends(caller_with(Role.SUPERVISOR))]


@router.post(
    "/findings",
    status_code=201,
    response_model=CaseOut,
    summary="Record a finding and open its rectification case",
    name="record_finding",
    responses={
        200: {
            "description": "A duplicate of an open case (减负): merged into it, see `merged`",
            "model": CaseOut,
        },
        401: {"description": "No valid bearer token"},
        403: {"description": "Only a supervisor records findings"},
        409: {"description": "A case for this finding id already exists"},
        422: {"description": "Invalid input, or Idempotency-Key reused with another body"},
        503: {"description": "Temporal is unreachable"},
    },
)
async def post_finding(
    finding: FindingIn,
    request: Request,
    response: Response,
    services: AppServices,
    caller: Supervisor,
    idempotency_key: IdempotencyKey = None,
) -> CaseOut:
    recorded = await record_finding(services, caller, finding, idempotency_key)
    if recorded.opened:
        path = request.url_for("get_case", case_id=recorded.case.case_id).path
        response.headers["Location"] = path
    else:
        response.status_code = 200  # no new case: the finding joined an open one
    if recorded.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return recorded.case
