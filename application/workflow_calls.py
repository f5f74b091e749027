"""Calls to a case's workflow, and Temporal's failures as refusals.

A refused command keeps its domain code and messages (the workflow's validator
raised them); a workflow that has ended (the look-back window is over) is 409; a
Temporal that cannot be reached, or a workflow that does not answer in time, is
503 with a Retry-After.
"""

from __future__ import annotations

import asyncio

from temporalio.client import (
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from application.errors import RETRY_AFTER_SECONDS, Refusal
from application.temporal_gateway import TemporalGateway, TemporalUnavailable
from domain.commands import Command
from domain.state import CaseState
from workflows.models import CommandRequest, RequestContext, case_workflow_id

__all__ = [
    "command_pending",
    "refusal_from_rpc",
    "refusal_from_update_failure",
    "send_command",
    "temporal_unavailable",
    "update_name",
]

_STATUS = {"PermissionDenied": 403, "InvalidCommand": 422, "InvalidState": 409}


def update_name(command: type[Command]) -> str:
    """The workflow's update for a command: the command's name in snake_case."""
    name = command.__name__
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in name).lstrip("_")


async def send_command(
    gateway: TemporalGateway,
    case_id: str,
    command: Command,
    context: RequestContext,
    *,
    update_id: str | None = None,
    answer_within: float | None = None,
) -> CaseState:
    """``update_id`` makes a repeat return the first result (Temporal deduplicates by id).

    After ``answer_within`` seconds without an answer the caller gets 503 ``command_pending``:
    the update stays with Temporal and may still be applied, so a retry must carry the
    same key (the same update id) to learn its outcome rather than run it again.
    """
    try:
        client = await gateway.client()
        handle = client.get_workflow_handle(case_workflow_id(case_id))
        state: CaseState = await asyncio.wait_for(
            handle.execute_update(
                update_name(type(command)),
                CommandRequest(command=command, context=context),
                id=update_id,
                result_type=CaseState,
            ),
            answer_within,
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        # The SDK turns the cancelled wait into its own error.
        raise command_pending(case_id) from exc
    except TemporalUnavailable as exc:
        raise temporal_unavailable(exc) from exc
    except WorkflowUpdateFailedError as exc:
        raise refusal_from_update_failure(exc) from exc
    except RPCError as exc:
        raise refusal_from_rpc(exc, case_id) from exc
    return state


def refusal_from_update_failure(error: WorkflowUpdateFailedError) -> Refusal:
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in _STATUS:
        details = list(cause.details)
        code = str(details[0]) if details else "refused"
        zh = str(details[1]) if len(details) > 1 else cause.message
        return Refusal(_STATUS[cause.type], code, zh, cause.message)
    return Refusal(
        500, "command_failed", "指令执行失败，请稍后重试", f"the command failed: {cause}"
    )


def refusal_from_rpc(error: RPCError, case_id: str) -> Refusal:
    if error.status is RPCStatusCode.NOT_FOUND:
        # The workflow ended: the look-back window is over and the case is archived.
        return Refusal(
            409,
            "case_finished",
            f"案件 {case_id} 已结束回头看期限，不再接受指令",
            f"case {case_id} has finished its look-back window and takes no more commands",
        )
    return temporal_unavailable(error)


def temporal_unavailable(error: Exception) -> Refusal:
    return Refusal(
        503,
        "temporal_unavailable",
        "工作流服务暂不可用，请稍后重试",
        f"Temporal is unavailable, retry later: {error}",
        retry_after=RETRY_AFTER_SECONDS,
    )


def command_pending(case_id: str) -> Refusal:
    """The case's workflow did not answer in time (e.g. its worker is restarting)."""
    return Refusal(
        503,
        "command_pending",
        f"案件 {case_id} 的工作流暂未响应，指令可能稍后生效：请稍后用同一 Idempotency-Key 重试",
        f"the workflow of case {case_id} did not answer in time and the command may still"
        " take effect: retry later with the same Idempotency-Key",
        retry_after=RETRY_AFTER_SECONDS,
        case_id=case_id,
    )
