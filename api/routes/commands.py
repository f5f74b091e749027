"""One endpoint per human command on a case; each is a Temporal Update of its workflow.

The body is the domain command without its actor (the token supplies it). The
workflow's validator runs the domain's ``decide``: a refused command leaves
nothing anywhere and comes back as 403/409/422 with the domain's code and
messages. An ``Idempotency-Key`` belongs to the caller: its first answer (the
case, or a refusal) is kept and a repeat gets it back without running again; a
repeat that comes before the first answer was kept is sent with the same update
id and command key, which the workflow applies once across all its runs. The
same key with another body is 422.
"""

# No `from __future__ import annotations`: FastAPI must see the generated body
# models in the handlers' annotations as objects, not as names it cannot resolve.
import asyncio
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model

from api.auth import CurrentActor, in_scope
from api.case_access import visible_case
from api.case_updates import send_command
from api.command_examples import EXAMPLES
from api.deps import Store, Units
from api.idempotency import IdempotencyKey, caller_scope, claim_key, command_key
from api.models import ID_PATTERN
from api.problems import Problem
from api.replayed import REFUSALS, problem_answer, replayed_answer
from domain import commands as c
from domain.state import CaseState
from domain.values import Evidence
from store.directory import Directory
from store.evidence import EvidenceFiles
from store.idempotency import IdempotencyKeys
from workflows.models import RequestContext

__all__ = ["router"]

router = APIRouter(tags=["commands"])

CaseId = Annotated[str, Path(pattern=ID_PATTERN)]


def _body_model(
    command: type[c.Command],
    extra: dict[str, Any] | None = None,
    example: dict[str, Any] | None = None,
) -> type[BaseModel]:
    """The command's fields minus the actor, as a request body with no unknown fields."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in command.model_fields.items()
        if name != "actor"
    }
    fields.update(extra or {})
    config = ConfigDict(extra="forbid")
    if example is not None:
        config["json_schema_extra"] = {"examples": [example]}
    return create_model(f"{command.__name__}Body", __config__=config, **fields)


async def _run_command(
    request: Request,
    case_id: str,
    command: c.Command,
    idempotency_key: str | None,
    body: BaseModel,
) -> CaseState | JSONResponse:
    app = request.app
    keys: IdempotencyKeys = app.state.idempotency_keys
    context = RequestContext(request_id=getattr(request.state, "request_id", None))
    scope = caller_scope(request, "commands")
    update_id = None
    if idempotency_key is not None:
        fingerprint_body = {"path": request.url.path, "body": body.model_dump(mode="json")}
        claim = await claim_key(
            keys, request, "commands", idempotency_key, fingerprint_body, case_id
        )
        if claim.answer is not None:
            return replayed_answer(claim.answer)
        # Not answered yet (the first is in flight, or died before its answer was kept):
        # the same update id and command key make the workflow apply it at most once.
        key = command_key(scope, idempotency_key)
        update_id = f"cmd-{key}"
        context = context.model_copy(update={"command_key": key})
    evidence: tuple[Evidence, ...] = getattr(command, "evidence", ())
    await asyncio.to_thread(_check_evidence, app.state.evidence, case_id, evidence)
    await asyncio.to_thread(_check_directory, app.state.directory, command)
    try:
        state = await send_command(
            app.state.temporal,
            case_id,
            command,
            context,
            update_id=update_id,
            answer_within=app.state.settings.command_timeout_seconds,
        )
    except Problem as problem:
        if idempotency_key is not None and problem.status in REFUSALS:
            await asyncio.to_thread(
                keys.answer, scope, idempotency_key, problem.status, problem_answer(problem)
            )
        raise
    if idempotency_key is not None:
        await asyncio.to_thread(
            keys.answer, scope, idempotency_key, 200, state.model_dump(mode="json")
        )
    return state


def _check_directory(directory: Directory, command: c.Command) -> None:
    """A unit or cadre named by a command must exist, and a unit must be in the actor's scope."""
    unit_id: str | None = getattr(command, "unit_id", None)
    if unit_id is not None and not in_scope(directory, command.actor, unit_id):
        raise Problem(
            422,
            "unit_not_found",
            f"责任单位 {unit_id} 不存在或不在您的管辖范围内",
            f"unit {unit_id} does not exist within your scope",
            errors=[{"field": "body.unit_id", "message": "unknown unit"}],
        )
    cadre_id: str | None = getattr(command, "cadre_id", None)
    if cadre_id is not None and directory.cadre(cadre_id) is None:
        raise Problem(
            422,
            "cadre_not_found",
            f"干部 {cadre_id} 不存在",
            f"cadre {cadre_id} does not exist",
            errors=[{"field": "body.cadre_id", "message": "unknown cadre"}],
        )


def _check_evidence(files: EvidenceFiles, case_id: str, evidence: tuple[Evidence, ...]) -> None:
    for index, item in enumerate(evidence):
        stored = files.get(case_id, item.content_hash)
        if stored is None or stored.meta.size != item.size:
            raise Problem(
                422,
                "evidence_not_uploaded",
                f"佐证材料 {item.name} 未上传到本案件",
                f"evidence {item.name} was not uploaded to this case",
                errors=[{"field": f"body.evidence.{index}", "message": "not uploaded"}],
            )


Handler = Callable[..., Coroutine[Any, Any, CaseState | JSONResponse]]


def _endpoint(path: str, summary: str, command: type[c.Command]) -> None:
    body_model = _body_model(command, example=EXAMPLES.get(path))

    async def handler(
        request: Request,
        store: Store,
        directory: Units,
        actor: CurrentActor,
        case_id: CaseId,
        body: Annotated[body_model, Body()],  # type: ignore[valid-type]
        idempotency_key: IdempotencyKey = None,
    ) -> CaseState | JSONResponse:
        await visible_case(store, directory, actor, case_id)
        payload: BaseModel = body
        cmd = command(actor=actor, **payload.model_dump())
        return await _run_command(request, case_id, cmd, idempotency_key, payload)

    _register(path, summary, handler, command.__name__)


def _decision_endpoint(
    path: str,
    summary: str,
    choices: dict[str, type[c.Command]],
) -> None:
    """One endpoint whose body picks the command with ``decision``."""
    models = [
        _body_model(
            command,
            {"decision": (Literal[choice], Field(description=summary))},
            EXAMPLES.get(f"{path}:{choice}"),
        )
        for choice, command in choices.items()
    ]
    union: Any = Annotated[models[0] | models[1], Field(discriminator="decision")]

    async def handler(
        request: Request,
        store: Store,
        directory: Units,
        actor: CurrentActor,
        case_id: CaseId,
        body: Annotated[union, Body()],
        idempotency_key: IdempotencyKey = None,
    ) -> CaseState | JSONResponse:
        await visible_case(store, directory, actor, case_id)
        payload: BaseModel = body
        fields = payload.model_dump()
        command = choices[fields.pop("decision")]
        return await _run_command(
            request, case_id, command(actor=actor, **fields), idempotency_key, payload
        )

    _register(path, summary, handler, path.replace("-", "_"))


def _register(path: str, summary: str, handler: Handler, name: str) -> None:
    router.add_api_route(
        f"/cases/{{case_id}}/{path}",
        handler,
        methods=["POST"],
        response_model=CaseState,
        summary=summary,
        name=name,
        responses={
            401: {"description": "No valid bearer token"},
            403: {"description": "Your role may not do this"},
            404: {"description": "No such case, or not within your scope"},
            409: {"description": "The case is not in a state that allows this"},
            422: {"description": "Invalid input, or refused by a rule"},
        },
    )


_endpoint("plan", "提交整改方案 Submit the rectification plan", c.SubmitPlan)
_endpoint("progress", "报告整改进展 Report progress (with evidence)", c.ReportProgress)
_endpoint("milestone-report", "报告阶段目标 Report a milestone", c.ReportMilestone)
_endpoint("extension-request", "申请延期 Request an extension", c.RequestExtension)
_decision_endpoint(
    "extension-decision",
    "延期审批 Grant or deny the pending extension",
    {"grant": c.GrantExtension, "deny": c.DenyExtension},
)
_endpoint("closure-request", "申请销号 Submit for closure", c.RequestClosure)
_decision_endpoint(
    "verification",
    "验收 Pass (close) or reject the pending closure",
    {"pass": c.VerifyClosure, "reject": c.RejectClosure},
)
_endpoint("reopen", "回头看重新打开 Reopen within the look-back window", c.ReopenCase)
_endpoint("withdraw", "撤销 Withdraw the case", c.WithdrawCase)
_endpoint("reassign", "转交责任 Transfer to another unit and cadre", c.TransferResponsibility)
_endpoint("assign", "指定责任人 Assign another responsible cadre", c.AssignResponsibility)
_endpoint("deadline", "调整整改期限 Set the deadline", c.SetDeadline)
_endpoint("target", "设定整改目标 Set the target", c.SetTarget)
_endpoint("milestones", "设定阶段节点 Set or change the milestones", c.SetMilestones)
_endpoint("accountability", "问责 Record an accountability action", c.RecordAccountability)
_endpoint("tolerance", "容错免责 Apply an error-tolerance exemption", c.ApplyTolerance)
_endpoint("satisfaction", "满意度回访 Record a satisfaction visit", c.RecordSatisfaction)
