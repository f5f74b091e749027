"""Send a domain command to its case's workflow as an Update; Temporal failures become problems."""

from __future__ import annotations

import asyncio

from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from api.temporal_errors import (
    command_pending,
    problem_from_rpc,
    problem_from_update_failure,
    temporal_unavailable,
)
from api.temporal_gateway import TemporalGateway, TemporalUnavailable
from domain.commands import Command
from domain.state import CaseState
from workflows.models import CommandRequest, RequestContext, case_workflow_id

__all__ = ["send_command", "update_name"]


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
        raise problem_from_update_failure(exc) from exc
    except RPCError as exc:
        raise problem_from_rpc(exc, case_id) from exc
    return state
