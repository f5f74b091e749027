"""合并案件: a supervisor merges an open case into another open case of the same unit.

The use case behind ``POST /cases/{id}/merge-into`` (``application.commands.run_command``
calls ``absorb_first`` for a ``MergeIntoCase``). Both cases must be visible to the
caller, open, and of the same unit. The surviving case takes the absorbed case's
findings first (``AbsorbCase`` → ``CaseAbsorbed``), then the absorbed case ends
merged (``MergeIntoCase`` → ``CaseMergedInto``): its workflow completes like a
withdrawal, so its timers stop, and the archive counts the problem once (on the
surviving case). Both updates carry ids derived from the pair, so a retried request
applies each once.

Undo (拆分) is not offered: a merged case's workflow has completed and its events are
final. A merge made by mistake is corrected by recording the finding again with
``force_new`` (the merged case's history stays readable under its own id).
"""

from __future__ import annotations

from application.access import ensure_role, visible_case
from application.caller import Caller
from application.errors import Refusal
from application.services import Services
from application.workflow_calls import send_command
from domain.commands import AbsorbCase, MergeIntoCase
from domain.values import MergedFinding
from domain.vocabulary import CaseStatus, Role
from workflows.models import RequestContext

__all__ = ["absorb_first"]

_OPEN = (CaseStatus.OPEN, CaseStatus.CLOSURE_PENDING)


async def absorb_first(
    services: Services, caller: Caller, case_id: str, command: MergeIntoCase
) -> None:
    """Checks both cases and lets the surviving case take in the absorbed one."""
    ensure_role(caller.actor, Role.SUPERVISOR)
    absorbed = await visible_case(services.store, services.directory, caller.actor, case_id)
    into = command.into_case_id
    if into == case_id:
        raise Refusal(
            422, "merge_into_itself", "案件不能并入自身", "a case cannot be merged into itself"
        )
    try:
        surviving = await visible_case(services.store, services.directory, caller.actor, into)
    except Refusal as refusal:
        raise Refusal(
            422,
            "merge_target_not_found",
            f"未找到要并入的案件 {into}",
            f"no case {into} to merge into",
            errors=[{"field": "body.into_case_id", "message": "unknown case"}],
        ) from refusal
    if surviving.state.unit_id != absorbed.state.unit_id:
        raise Refusal(
            422,
            "merge_other_unit",
            "只能合并同一责任单位的在办案件",
            "only open cases of the same unit can be merged",
            errors=[{"field": "body.into_case_id", "message": "another unit's case"}],
        )
    if case_id in surviving.state.absorbed_case_ids:
        return  # a retry: the surviving case took it in already
    for case in (absorbed, surviving):
        if case.state.status not in _OPEN:
            raise Refusal(
                409,
                "case_not_active",
                f"案件 {case.case_id} 不在办理中，不能合并",
                f"case {case.case_id} is not open and cannot be merged",
            )
    findings = tuple(
        MergedFinding(finding_id=f.finding_id, source=f.source, title=f.title)
        for f in absorbed.state.findings
    )
    absorb = AbsorbCase(
        actor=caller.actor,
        absorbed_case_id=case_id,
        absorbed_unit_id=absorbed.state.unit_id,
        reason=command.reason,
        findings=findings,
    )
    key = f"absorb-{case_id}"
    await send_command(
        services.temporal,
        into,
        absorb,
        RequestContext(request_id=caller.request_id, command_key=key),
        update_id=key,
        answer_within=services.settings.command_timeout_seconds,
    )
