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

import asyncio
from dataclasses import dataclass
from decimal import Decimal

from application.access import ensure_role, visible_case
from application.caller import Caller
from application.directory import search_text
from application.duplicates import judge_against
from application.errors import Refusal
from application.services import Services
from application.workflow_calls import send_command
from domain.commands import AbsorbCase, MergeIntoCase
from domain.duplicates import Band, FindingText, normalize
from domain.values import MergedFinding
from domain.vocabulary import CaseStatus, Role
from store.projections.case_summary import open_cases_of_unit
from workflows.models import RequestContext

__all__ = ["MergeChoice", "absorb_first", "merge_choices"]


@dataclass(frozen=True, slots=True)
class MergeChoice:
    """An open case of the same unit this case could be merged into."""

    case_id: str
    title: str
    score: Decimal | None = None  # from the duplicate check, when in a band
    band: Band | None = None


async def merge_choices(
    services: Services,
    caller: Caller,
    case_id: str,
    query: str = "",
    *,
    limit: int | None = None,
) -> list[MergeChoice]:
    """The other open cases of the case's unit whose title contains ``query`` (compared
    as the duplicate check compares text: width, case and punctuation ignored), those
    the duplicate check finds similar first (best first, with band and score), then the
    rest by case id; at most ``limit`` (all for None)."""
    ensure_role(caller.actor, Role.SUPERVISOR)
    case = await visible_case(services.store, services.directory, caller.actor, case_id)
    state = case.state
    wanted = normalize(search_text(query))

    def run() -> list[MergeChoice]:
        cases = open_cases_of_unit(services.store.engine, state.unit_id)
        others = [c for c in cases if c.case_id != case_id and wanted in normalize(c.title)]
        unit = services.directory.unit(state.unit_id)
        policy = services.policy.for_class(unit.unit_class if unit else None)
        # The case's own text as the read model has it (description and category too).
        text: FindingText = next(
            (c for c in cases if c.case_id == case_id), FindingText(title=state.title)
        )
        similar = judge_against(text, others, policy, limit=len(others) or 1)
        ranked = [MergeChoice(s.case_id, s.title, s.score, s.band) for s in similar]
        seen = {c.case_id for c in ranked}
        found = ranked + [MergeChoice(c.case_id, c.title) for c in others if c.case_id not in seen]
        return found if limit is None else found[:limit]

    return await asyncio.to_thread(run)


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
