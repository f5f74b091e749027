"""Send a person's command to a case (the use case behind every command endpoint).

The case must be visible to the caller (else 404, as if it did not exist); a
unit or cadre the command names must exist and a unit be in the caller's scope;
cited evidence must have been uploaded to this case. The command then goes to
the case's workflow as a Temporal Update, validated there by the domain's
``decide`` before it enters any history.

An Idempotency-Key belongs to the caller: its first answer (the case, or a
refusal) is kept and a repeat gets it back without running again; a repeat that
comes before the first answer was kept is sent with the same update id and
command key, which the workflow applies once across all its runs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from application.access import cadre_in_scope, in_scope, visible_case
from application.caller import Caller
from application.case_merge import absorb_first
from application.errors import Refusal
from application.idempotency import (
    caller_scope,
    claim_key,
    command_key,
    keep_answer,
    keep_refusal,
    kept_refusal,
)
from application.services import Services
from application.workflow_calls import send_command
from domain import commands as c
from domain.state import CaseState
from domain.values import Evidence
from store.directory import Directory
from store.evidence import EvidenceFiles
from workflows.models import RequestContext

__all__ = ["CommandDone", "run_command"]

KIND = "commands"


@dataclass(frozen=True, slots=True)
class CommandDone:
    state: CaseState  # the case after the command
    replayed: bool  # the kept answer of an earlier request with the same key


async def run_command(
    services: Services,
    caller: Caller,
    case_id: str,
    command: c.Command,
    idempotency_key: str | None = None,
    fingerprint: Any = None,
) -> CommandDone:
    """``fingerprint``: what a repeat of the same key must match (the door's request)."""
    await visible_case(services.store, services.directory, caller.actor, case_id)
    context = RequestContext(request_id=caller.request_id)
    update_id = None
    if idempotency_key is not None:
        claim = await claim_key(services.keys, caller, KIND, idempotency_key, fingerprint, case_id)
        if claim.answer is not None:
            if claim.answer.status >= 400:
                raise kept_refusal(claim.answer)
            return CommandDone(CaseState.model_validate(claim.answer.body), replayed=True)
        # Not answered yet (the first is in flight, or died before its answer was kept):
        # the same update id and command key make the workflow apply it at most once.
        key = command_key(caller_scope(caller, KIND), idempotency_key)
        update_id = f"cmd-{key}"
        context = context.model_copy(update={"command_key": key})
    try:
        evidence: tuple[Evidence, ...] = getattr(command, "evidence", ())
        await asyncio.to_thread(_check_evidence, services.evidence, case_id, evidence)
        await asyncio.to_thread(_check_directory, services.directory, command)
        if isinstance(command, c.MergeIntoCase):  # the surviving case first (合并案件)
            await absorb_first(services, caller, case_id, command)
        state = await send_command(
            services.temporal,
            case_id,
            command,
            context,
            update_id=update_id,
            answer_within=services.settings.command_timeout_seconds,
        )
    except Refusal as refusal:
        if idempotency_key is not None:
            await keep_refusal(services.keys, caller, KIND, idempotency_key, refusal)
        raise
    if idempotency_key is not None:
        body = state.model_dump(mode="json")
        await keep_answer(services.keys, caller, KIND, idempotency_key, 200, body)
    return CommandDone(state, replayed=False)


def _check_directory(directory: Directory, command: c.Command) -> None:
    """A unit or cadre named by a command must exist within the actor's scope."""
    unit_id: str | None = getattr(command, "unit_id", None)
    if unit_id is not None and not in_scope(directory, command.actor, unit_id):
        raise Refusal(
            422,
            "unit_not_found",
            f"责任单位 {unit_id} 不存在或不在您的管辖范围内",
            f"unit {unit_id} does not exist within your scope",
            errors=[{"field": "body.unit_id", "message": "unknown unit"}],
        )
    cadre_id: str | None = getattr(command, "cadre_id", None)
    if cadre_id is not None:
        cadre_in_scope(directory, command.actor, cadre_id)


def _check_evidence(files: EvidenceFiles, case_id: str, evidence: tuple[Evidence, ...]) -> None:
    for index, item in enumerate(evidence):
        stored = files.get(case_id, item.content_hash)
        if stored is None or stored.meta.size != item.size:
            raise Refusal(
                422,
                "evidence_not_uploaded",
                f"佐证材料 {item.name} 未上传到本案件",
                f"evidence {item.name} was not uploaded to this case",
                errors=[{"field": f"body.evidence.{index}", "message": "not uploaded"}],
            )
