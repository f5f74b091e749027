"""Temporal failures as problems: a refused command keeps its domain code and messages."""

from __future__ import annotations

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem

__all__ = [
    "RETRY_AFTER_SECONDS",
    "command_pending",
    "problem_from_rpc",
    "problem_from_update_failure",
    "temporal_unavailable",
]

# What a 503 tells clients to wait: about the time `zhenggai up` takes to restart a
# dead child, or a database to come back from a failover.
RETRY_AFTER_SECONDS = 5

_STATUS = {"PermissionDenied": 403, "InvalidCommand": 422, "InvalidState": 409}


def problem_from_update_failure(error: WorkflowUpdateFailedError) -> Problem:
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in _STATUS:
        details = list(cause.details)
        code = str(details[0]) if details else "refused"
        zh = str(details[1]) if len(details) > 1 else cause.message
        return Problem(_STATUS[cause.type], code, zh, cause.message)
    return Problem(
        500, "command_failed", "指令执行失败，请稍后重试", f"the command failed: {cause}"
    )


def problem_from_rpc(error: RPCError, case_id: str) -> Problem:
    if error.status is RPCStatusCode.NOT_FOUND:
        # The workflow ended: the look-back window is over and the case is archived.
        return Problem(
            409,
            "case_finished",
            f"案件 {case_id} 已结束回头看期限，不再接受指令",
            f"case {case_id} has finished its look-back window and takes no more commands",
        )
    return temporal_unavailable(error)


def temporal_unavailable(error: Exception) -> Problem:
    return Problem(
        503,
        "temporal_unavailable",
        "工作流服务暂不可用，请稍后重试",
        f"Temporal is unavailable, retry later: {error}",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def command_pending(case_id: str) -> Problem:
    """The case's workflow did not answer in time (e.g. its worker is restarting)."""
    return Problem(
        503,
        "command_pending",
        f"案件 {case_id} 的工作流暂未响应，指令可能稍后生效：请稍后用同一 Idempotency-Key 重试",
        f"the workflow of case {case_id} did not answer in time and the command may still"
        " take effect: retry later with the same Idempotency-Key",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        case_id=case_id,
    )
