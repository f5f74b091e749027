"""One endpoint per human command on a case; each is a Temporal Update of its workflow.

The body is the domain command without its actor (the token supplies it); the
use case is ``application.commands.run_command``. The workflow's validator runs
the domain's ``decide``: a refused command leaves nothing anywhere and comes
back as 403/409/422 with the domain's code and messages. An ``Idempotency-Key``
belongs to the caller: its first answer (the case, or a refusal) is kept and a
repeat gets it back; the same key with another body, or on another case, is 422.
"""

# No `from __future__ import annotations`: FastAPI must see the generated body
# models in the handlers' annotations as objects, not as names it cannot resolve.
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model

from api.command_examples import EXAMPLES
from api.deps import AppServices, CurrentCaller, IdempotencyKey
from application.caller import Caller
from application.commands import run_command
from application.models import ID_PATTERN
from application.services import Services as ServicesType
from domain import commands as c
from domain.state import CaseState

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


async def _run(
    services: ServicesType,
    caller: Caller,
    request: Request,
    case_id: str,
    command: c.Command,
    idempotency_key: str | None,
    body: BaseModel,
) -> CaseState | JSONResponse:
    # A key's fingerprint: the same key on another case or another command is another request.
    fingerprint = {"path": request.url.path, "body": body.model_dump(mode="json")}
    done = await run_command(services, caller, case_id, command, idempotency_key, fingerprint)
    if done.replayed:
        content = done.state.model_dump(mode="json")
        return JSONResponse(content, headers={"Idempotent-Replayed": "true"})
    return done.state


Handler = Callable[..., Coroutine[Any, Any, CaseState | JSONResponse]]


def _endpoint(path: str, summary: str, command: type[c.Command]) -> None:
    body_model = _body_model(command, example=EXAMPLES.get(path))

    async def handler(
        request: Request,
        services: AppServices,
        caller: CurrentCaller,
        case_id: CaseId,
        body: Annotated[body_model, Body()],  # type: ignore[valid-type]
        idempotency_key: IdempotencyKey = None,
    ) -> CaseState | JSONResponse:
        payload: BaseModel = body
        cmd = command(actor=caller.actor, **payload.model_dump())
        return await _run(services, caller, request, case_id, cmd, idempotency_key, payload)

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
        services: AppServices,
        caller: CurrentCaller,
        case_id: CaseId,
        body: Annotated[union, Body()],
        idempotency_key: IdempotencyKey = None,
    ) -> CaseState | JSONResponse:
        payload: BaseModel = body
        fields = payload.model_dump()
        command = choices[fields.pop("decision")](actor=caller.actor, **fields)
        return await _run(services, caller, request, case_id, command, idempotency_key, payload)

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
_endpoint("merge-into", "合并案件 Merge into another open case of the unit", c.MergeIntoCase)
_endpoint("reassign", "转交责任 Transfer to another unit and cadre", c.TransferResponsibility)
_endpoint("assign", "指定责任人 Assign another responsible cadre", c.AssignResponsibility)
_endpoint("deadline", "调整整改期限 Set the deadline", c.SetDeadline)
_endpoint("target", "设定整改目标 Set the target", c.SetTarget)
_endpoint("milestones", "设定阶段节点 Set or change the milestones", c.SetMilestones)
_endpoint("accountability", "问责 Record an accountability action", c.RecordAccountability)
_endpoint("tolerance", "容错免责 Apply an error-tolerance exemption", c.ApplyTolerance)
_endpoint("satisfaction", "满意度回访 Record a satisfaction visit", c.RecordSatisfaction)
