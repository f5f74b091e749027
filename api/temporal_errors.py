"""Temporal failures as problems: a refused command keeps its domain code and messages."""

from __future__ import annotations

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem

__all__ = ["problem_from_rpc", "problem_from_update_failure", "temporal_unavailable"]

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
        503, "temporal_unavailable", "工作流服务暂不可用，请稍后重试", f"Temporal: {error}"
    )
