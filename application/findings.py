"""Record a finding (登记问题): open its case, or merge it into the open case it repeats.

The use case of ``POST /findings``, the console's form and the importers. The
unit must be within the supervisor's subtree and the cadre must exist; the
domain's rules run before anything starts; a finding that repeats an open case
of the same unit (减负) joins that case when it scores in the automatic band, is
answered 409 ``possible_duplicate`` with the candidates in the possible band (the
caller posts again with ``merge_into`` or ``force_new``); otherwise the
case's workflow starts with the unit's class's rules and the call returns once
the opening events are in the store.

With an Idempotency-Key the first answer is kept and given back to a repeat. A
repeat that comes before the first answer was kept attaches to the workflow the
first request started (or to the merge it made), so nothing is opened twice.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from application.access import cadre_in_scope, ensure_role, in_scope, with_clock
from application.caller import Caller
from application.case_view import load_case
from application.duplicate_text import analysed, lexicon_of
from application.duplicates import similar_to
from application.errors import Refusal, from_domain
from application.idempotency import (
    caller_scope,
    claim_key,
    keep_answer,
    keep_refusal,
    kept_refusal,
)
from application.models import CaseOut, FindingIn, MergedInto
from application.services import Services
from application.temporal_gateway import TemporalUnavailable
from application.workflow_calls import command_pending, send_command, temporal_unavailable
from domain.case import decide
from domain.commands import MergeDuplicateFinding, OpenCase
from domain.duplicates import Band, DuplicateMatch, FindingText, judge
from domain.errors import DomainError
from domain.policy import Policy
from domain.vocabulary import Role
from store.directory import Directory, Unit
from store.projections.case_summary import open_cases_of_unit
from workflows.case_workflow import RectificationCaseWorkflow
from workflows.models import CaseWorkflowInput, RequestContext, case_workflow_id

__all__ = ["FindingRecorded", "record_finding"]

log = structlog.get_logger(__name__)
KIND = "findings"
MERGED = "merged:"  # a key's resource once its finding joined an open case


@dataclass(frozen=True, slots=True)
class FindingRecorded:
    case: CaseOut  # the opened case, or the open case it joined (``case.merged``)
    opened: bool  # False: merged into an open case (减负)
    replayed: bool  # the kept answer of an earlier request with the same key


async def record_finding(
    services: Services, caller: Caller, finding: FindingIn, idempotency_key: str | None
) -> FindingRecorded:
    ensure_role(caller.actor, Role.SUPERVISOR)
    unit = await asyncio.to_thread(_check_directory, services.directory, caller, finding)
    # 分类考核: the unit's class chooses its rules; the case keeps them for its life.
    policy = services.policy.for_class(unit.unit_class)
    finding_id = finding.finding_id or uuid.uuid4().hex
    replay = False
    if idempotency_key is not None:
        body = {**finding.model_dump(mode="json"), "merge_into": finding.merge_into}
        claim = await claim_key(services.keys, caller, KIND, idempotency_key, body, finding_id)
        if claim.answer is not None:
            if claim.answer.status >= 400:
                raise kept_refusal(claim.answer)
            kept = CaseOut.model_validate(claim.answer.body)
            return FindingRecorded(kept, opened=claim.answer.status == 201, replayed=True)
        finding_id, replay = claim.resource_id, claim.replay
    try:
        recorded = await _record(
            services, caller, finding, finding_id, policy, replay, idempotency_key
        )
    except Refusal as refusal:
        if idempotency_key is not None:
            await keep_refusal(services.keys, caller, KIND, idempotency_key, refusal)
        raise
    if idempotency_key is not None:
        status = 201 if recorded.opened else 200
        body = recorded.case.model_dump(mode="json")
        await keep_answer(services.keys, caller, KIND, idempotency_key, status, body)
    return recorded


async def _record(
    services: Services,
    caller: Caller,
    finding: FindingIn,
    finding_id: str,
    policy: Policy,
    replay: bool,
    idempotency_key: str | None,
) -> FindingRecorded:
    if replay and finding_id.startswith(MERGED):
        merged = MergedInto.model_validate_json(finding_id.removeprefix(MERGED))
        return FindingRecorded(await _merged_case(services, merged), opened=False, replayed=True)
    command = OpenCase(
        actor=caller.actor,
        finding_id=finding_id,
        override_duplicate=finding.force_new,
        **finding.model_dump(exclude={"finding_id", "force_new"}),
    )
    # The same rules the workflow runs: refuse bad input before anything starts.
    try:
        decide(None, command, datetime.now(UTC), policy)
    except DomainError as exc:
        raise from_domain(exc) from exc

    match: DuplicateMatch | None
    if finding.merge_into is not None and not replay:
        match = await asyncio.to_thread(_chosen_case, services, finding, policy)
    elif not finding.force_new and not replay:
        match = await asyncio.to_thread(_find_duplicate, services, finding, policy)
    else:
        match = None
    if match is not None:  # merge into the matched (or chosen) open case
        merged = await _merge(services, caller, finding_id, finding, match)
        if idempotency_key is not None:
            scope = caller_scope(caller, KIND)
            marker = MERGED + merged.model_dump_json()
            await asyncio.to_thread(services.keys.resolve, scope, idempotency_key, marker)
        return FindingRecorded(await _merged_case(services, merged), opened=False, replayed=False)

    await _open(services, caller, command, policy, replay)
    loaded = await asyncio.to_thread(load_case, services.store, finding_id)
    assert loaded is not None  # the update returned only after the append
    log.info("finding_recorded", replay=replay)
    return FindingRecorded(
        await with_clock(loaded, services.temporal), opened=True, replayed=replay
    )


async def _open(
    services: Services, caller: Caller, command: OpenCase, policy: Policy, replay: bool
) -> None:
    settings = services.settings
    finding_id = command.finding_id
    workflow_id = case_workflow_id(finding_id)
    structlog.contextvars.bind_contextvars(case_id=finding_id, workflow_id=workflow_id)
    try:
        client = await services.temporal.client()
        handle = await client.start_workflow(
            RectificationCaseWorkflow.run,
            CaseWorkflowInput(
                command=command,
                context=RequestContext(request_id=caller.request_id),
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
        raise Refusal(
            409,
            "finding_exists",
            f"问题 {finding_id} 已立项",
            f"a case for finding {finding_id} already exists",
            case_id=finding_id,
        ) from exc
    except WorkflowUpdateFailedError as exc:
        raise Refusal(
            409, "case_not_opened", "整改案件未能立项", f"the case did not open: {exc.cause}"
        ) from exc


def _check_directory(directory: Directory, caller: Caller, finding: FindingIn) -> Unit:
    """The unit and the cadre must exist within the supervisor's subtree.

    One outside the subtree is reported exactly like a missing one.
    """
    unit = directory.unit(finding.unit_id)
    if unit is None or not in_scope(directory, caller.actor, finding.unit_id):
        raise Refusal(
            422,
            "unit_not_found",
            f"责任单位 {finding.unit_id} 不存在或不在您的管辖范围内",
            f"unit {finding.unit_id} does not exist within your scope",
            errors=[{"field": "body.unit_id", "message": "unknown unit"}],
        )
    cadre_in_scope(directory, caller.actor, finding.cadre_id)
    return unit


def _text(finding: FindingIn) -> FindingText:
    return FindingText(
        title=finding.title, description=finding.description, category=finding.category
    )


def _find_duplicate(
    services: Services, finding: FindingIn, policy: Policy
) -> DuplicateMatch | None:
    """The open case of the same unit this finding repeats (减负), from the case summary.

    In the automatic band: that case. In the possible band only: a 409
    ``possible_duplicate`` listing the candidates; nothing opens until the caller
    posts again with ``merge_into`` or ``force_new``. The summary follows the log a
    moment behind, so a duplicate opened within that moment is not seen; a
    supervisor can merge the two cases later (``POST /cases/{id}/merge-into``).
    """
    found = similar_to(services, finding.unit_id, _text(finding), policy)
    if not found:
        return None
    best = found[0]
    if best.band is Band.AUTOMATIC:
        return DuplicateMatch(case_id=best.case_id, score=best.score)
    raise Refusal(
        409,
        "possible_duplicate",
        f"该问题可能与在办案件 {best.case_id} 重复（相似度 {best.score}），请确认："
        "以 merge_into 并入所选案件，或以 force_new 另行立项",
        f"the finding may repeat open case {best.case_id} (similarity {best.score}); "
        "post it again with merge_into (a case id) or force_new",
        candidates=[c.model_dump(mode="json") for c in found],
    )


def _chosen_case(services: Services, finding: FindingIn, policy: Policy) -> DuplicateMatch:
    """The open case of the same unit the caller chose to merge the finding into."""
    open_cases = open_cases_of_unit(services.store.engine, finding.unit_id)
    chosen = next((c for c in open_cases if c.case_id == finding.merge_into), None)
    if chosen is None:
        raise Refusal(
            422,
            "merge_target_not_open",
            f"案件 {finding.merge_into} 不是本单位的在办案件",
            f"case {finding.merge_into} is not an open case of unit {finding.unit_id}",
            errors=[{"field": "body.merge_into", "message": "not an open case of the unit"}],
        )
    lexicon = lexicon_of(policy)
    new = analysed(finding.title, finding.description, finding.category, lexicon)
    score = judge(new, analysed(chosen.title, chosen.description, chosen.category, lexicon))
    return DuplicateMatch(case_id=chosen.case_id, score=score)


async def _merge(
    services: Services,
    caller: Caller,
    finding_id: str,
    finding: FindingIn,
    match: DuplicateMatch,
) -> MergedInto:
    """Merge the finding into the matched case."""
    command = MergeDuplicateFinding(
        actor=caller.actor,
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
    context = RequestContext(request_id=caller.request_id, command_key=merge_key)
    await send_command(
        services.temporal,
        match.case_id,
        command,
        context,
        update_id=merge_key,
        answer_within=services.settings.command_timeout_seconds,
    )
    log.info("finding_merged", case_id=match.case_id, similarity=str(match.score))
    return MergedInto(case_id=match.case_id, finding_id=finding_id, similarity=str(match.score))


async def _merged_case(services: Services, merged: MergedInto) -> CaseOut:
    loaded = await asyncio.to_thread(load_case, services.store, merged.case_id)
    assert loaded is not None
    case = await with_clock(loaded, services.temporal)
    return case.model_copy(update={"merged": merged})
