"""合并案件: an open case merged into another open case of the same unit, after the fact.

``MergeIntoCase`` ends the absorbed case (``CaseMergedInto``, a kind of withdrawal:
its timers stop and the archive drops it, so the problem counts once); ``AbsorbCase``
on the surviving case lists the absorbed case and its findings (``CaseAbsorbed``).
The application sends ``AbsorbCase`` first, then ``MergeIntoCase``, with the same
request.
"""

from __future__ import annotations

from domain import guards
from domain.commands import AbsorbCase, MergeIntoCase
from domain.context import Context
from domain.errors import InvalidCommand, InvalidState
from domain.events import CaseAbsorbed, CaseMergedInto, Event
from domain.state import CaseState

_ITSELF = InvalidCommand(
    "merge_into_itself", "案件不能并入自身", "a case cannot be merged into itself"
)


def merge_into(state: CaseState | None, cmd: MergeIntoCase, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_active(case)
    if cmd.into_case_id == case.case_id:
        raise _ITSELF
    return [CaseMergedInto(occurred_at=ctx.now, reason=cmd.reason, into_case_id=cmd.into_case_id)]


def absorb(state: CaseState | None, cmd: AbsorbCase, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_active(case)
    if cmd.absorbed_case_id == case.case_id:
        raise _ITSELF
    if cmd.absorbed_unit_id != case.unit_id:
        raise InvalidCommand(
            "merge_other_unit",
            "只能合并同一责任单位的在办案件",
            "only open cases of the same unit can be merged",
        )
    if cmd.absorbed_case_id in case.absorbed_case_ids:
        raise InvalidState(
            "case_already_absorbed",
            "该案件已并入本案件",
            "that case is already merged into this one",
        )
    return [
        CaseAbsorbed(
            occurred_at=ctx.now,
            absorbed_case_id=cmd.absorbed_case_id,
            reason=cmd.reason,
            findings=cmd.findings,
        )
    ]
