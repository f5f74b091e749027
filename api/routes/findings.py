"""POST /findings: record a finding and open its case workflow."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Request, Response
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.auth import in_scope, require_roles
from api.case_access import with_clock
from api.case_updates import send_command
from api.case_view import load_case
from api.deps import AppSettings, Idempotency, Store, Temporal, Units
from api.idempotency import IdempotencyKey, caller_scope, claim_key
from api.models import CaseOut, FindingIn, MergedInto
from api.problems import Problem
from api.temporal_errors import command_pending, temporal_unavailable
from api.temporal_gateway import TemporalUnavailable
from domain.case import decide
from domain.commands import MergeDuplicateFinding, OpenCase
from domain.duplicates import DuplicateMatch, FindingText, find_duplicate
from domain.policy import Policy, PolicyBook
from domain.vocabulary import Actor, Role
from store.directory import Unit
from store.projections.case_summary import open_cases_of_unit
from workflows.case_workflow import RectificationCaseWorkflow
from workflows.models import (
    CaseWorkflowInput,
    RequestContext,
    case_workflow_id,
)

__all__ = ["router"]

router = APIRouter(tags=["findings"])
log = structlog.get_logger(__name__)


@router.post(
    "/findings",
    status_code=201,
    response_model=CaseOut,
    summary="Record a finding and open its rectification case",
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
async def record_finding(
    finding: FindingIn,
    request: Request,
    response: Response,
    store: Store,
    keys: Idempotency,
    temporal: Temporal,
    settings: AppSettings,
    directory: Units,
    actor: Annotated[Actor, Depends(require_roles(Role.SUPERVISOR))],
    idempotency_key: IdempotencyKey = None,
) -> CaseOut:
    unit = await asyncio.to_thread(_check_directory, directory, actor, finding)
    # 分类考核: the unit's class chooses its rules; the case keeps them for its life.
    book: PolicyBook = request.app.state.policy
    policy = book.for_class(unit.unit_class)
    finding_id = finding.finding_id or uuid.uuid4().hex
    replay = False
    if idempotency_key is not None:
        body = finding.model_dump(mode="json")
        claim = await claim_key(keys, request, "findings", idempotency_key, body, finding_id)
        finding_id, replay = claim.resource_id, claim.replay

    if replay and finding_id.startswith(MERGED):
        return await _merged_answer(store, temporal, response, finding_id, replayed=True)

    command = OpenCase(
        actor=actor,
        finding_id=finding_id,
        override_duplicate=finding.force_new,
        **finding.model_dump(exclude={"finding_id", "force_new"}),
    )
    # The same rules the workflow runs: refuse bad input before anything starts.
    decide(None, command, datetime.now(UTC), policy)

    if not finding.force_new and not replay:
        match = await asyncio.to_thread(_find_duplicate, store, finding, policy)
        if match is not None:
            marker = await _merge(request, temporal, actor, finding_id, finding, match)
            if idempotency_key is not None:
                scope = caller_scope(request, "findings")
                await asyncio.to_thread(keys.resolve, scope, idempotency_key, marker)
            return await _merged_answer(store, temporal, response, marker, replayed=False)

    workflow_id = case_workflow_id(finding_id)
    structlog.contextvars.bind_contextvars(case_id=finding_id, workflow_id=workflow_id)
    request_id: str | None = getattr(request.state, "request_id", None)
    try:
        client = await temporal.client()
        handle = await client.start_workflow(
            RectificationCaseWorkflow.run,
            CaseWorkflowInput(
                command=command,
                context=RequestContext(request_id=request_id),
                policy=policy,
                history_limit=settings.case_history_limit,
            ),
            id=workflow_id,
            task_queue=settings.task_queue,
            # A replayed key attaches to the workflow its first request started.
            id_conflict_policy=(
                WorkflowIDConflictPolicy.USE_EXISTING if replay else WorkflowIDConflictPolicy.FAIL
            ),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        await asyncio.wait_for(
            handle.execute_update(RectificationCaseWorkflow.wait_opened),
            settings.command_timeout_seconds,
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise command_pending(finding_id) from exc
    except TemporalUnavailable as exc:
        raise temporal_unavailable(exc) from exc
    except WorkflowAlreadyStartedError as exc:
        raise Problem(
            409,
            "finding_exists",
            f"问题 {finding_id} 已立项",
            f"a case for finding {finding_id} already exists",
            case_id=finding_id,
        ) from exc
    except WorkflowUpdateFailedError as exc:
        raise Problem(
            409, "case_not_opened", "整改案件未能立项", f"the case did not open: {exc.cause}"
        ) from exc

    loaded = await asyncio.to_thread(load_case, store, finding_id)
    assert loaded is not None  # the update returned only after the append
    case = await with_clock(loaded, temporal)
    response.headers["Location"] = f"{request.url_for('get_case', case_id=finding_id).path}"
    if replay:
        response.headers["Idempotent-Replayed"] = "true"
    log.info("finding_recorded", replay=replay)
    return case


def _check_directory(directory: Units, actor: Actor, finding: FindingIn) -> Unit:
    """The unit must exist within the supervisor's subtree, the cadre must exist.

    A unit outside the subtree is reported exactly like a missing one.
    """
    unit = directory.unit(finding.unit_id)
    if unit is None or not in_scope(directory, actor, finding.unit_id):
        raise Problem(
            422,
            "unit_not_found",
            f"责任单位 {finding.unit_id} 不存在或不在您的管辖范围内",
            f"unit {finding.unit_id} does not exist within your scope",
            errors=[{"field": "body.unit_id", "message": "unknown unit"}],
        )
    if directory.cadre(finding.cadre_id) is None:
        raise Problem(
            422,
            "cadre_not_found",
            f"责任人 {finding.cadre_id} 不存在",
            f"cadre {finding.cadre_id} does not exist",
            errors=[{"field": "body.cadre_id", "message": "unknown cadre"}],
        )
    return unit


MERGED = "merged:"


def _find_duplicate(store: Store, finding: FindingIn, policy: Policy) -> DuplicateMatch | None:
    """The open case of the same unit this finding repeats (减负), from the case summary.

    The summary follows the log a moment behind, so a duplicate opened within
    that moment is not seen; a supervisor can merge it by hand later.
    """
    open_cases = open_cases_of_unit(store.engine, finding.unit_id)
    text = FindingText(
        title=finding.title, description=finding.description, category=finding.category
    )
    return find_duplicate(text, finding.unit_id, open_cases, policy.duplicate_threshold)


async def _merge(
    request: Request,
    temporal: Temporal,
    actor: Actor,
    finding_id: str,
    finding: FindingIn,
    match: DuplicateMatch,
) -> str:
    """Merge the finding into the matched case; returns the idempotency marker."""
    command = MergeDuplicateFinding(
        actor=actor,
        finding_id=finding_id,
        source=finding.source,
        title=finding.title,
        description=finding.description,
        category=finding.category,
        severity=finding.severity,
        similarity=str(match.score),
    )
    # A retried request merges once: the update id and the command's key are the
    # finding's, so the workflow refuses a second merge in any later run too.
    merge_key = f"merge-{finding_id}"
    context = RequestContext(
        request_id=getattr(request.state, "request_id", None), command_key=merge_key
    )
    await send_command(
        temporal,
        match.case_id,
        command,
        context,
        update_id=merge_key,
        answer_within=request.app.state.settings.command_timeout_seconds,
    )
    log.info("finding_merged", case_id=match.case_id, similarity=str(match.score))
    return f"{MERGED}{match.case_id}:{finding_id}:{match.score}"


async def _merged_answer(
    store: Store, temporal: Temporal, response: Response, marker: str, *, replayed: bool
) -> CaseOut:
    case_id, finding_id, similarity = marker.removeprefix(MERGED).split(":")
    loaded = await asyncio.to_thread(load_case, store, case_id)
    assert loaded is not None
    case = await with_clock(loaded, temporal)
    response.status_code = 200  # no new case: the finding joined an open one
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return case.model_copy(
        update={"merged": MergedInto(case_id=case_id, finding_id=finding_id, similarity=similarity)}
    )
