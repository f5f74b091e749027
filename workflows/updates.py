"""One Temporal Update per human command of ``domain.commands``.

Each takes a ``CommandRequest[<Command>]`` and returns the case's new ``CaseState``.
Its validator runs ``decide`` on the current state, so a refused command is
rejected before it enters the history; the caller then gets a
``WorkflowUpdateFailedError`` whose ``cause`` is an ``ApplicationError`` (see
``workflows.errors``). The handler runs ``decide`` again once it holds the
case's write lock, appends the events and returns the new state.

The update names are the API's contract: snake_case of the command.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.commands import (
        AbsorbCase,
        ApplyTolerance,
        AssignResponsibility,
        DenyExtension,
        GrantExtension,
        MergeDuplicateFinding,
        MergeIntoCase,
        RecomputeDeadline,
        RecordAccountability,
        RecordSatisfaction,
        RejectClosure,
        ReopenCase,
        ReportMilestone,
        ReportProgress,
        RequestClosure,
        RequestExtension,
        SetDeadline,
        SetMilestones,
        SetTarget,
        SubmitPlan,
        TransferResponsibility,
        VerifyClosure,
        WithdrawCase,
    )
    from domain.state import CaseState
    from workflows.models import CommandRequest

__all__ = ["CaseCommandUpdates"]


class CaseCommandUpdates:
    """The update handlers; the workflow class supplies ``_validate`` and ``_execute``."""

    def _validate(self, request: CommandRequest[Any]) -> None:
        raise NotImplementedError

    async def _execute(self, request: CommandRequest[Any]) -> CaseState:
        raise NotImplementedError

    @workflow.update
    async def merge_duplicate_finding(
        self, request: CommandRequest[MergeDuplicateFinding]
    ) -> CaseState:
        """合并重复问题 (减负)"""
        return await self._execute(request)

    @merge_duplicate_finding.validator
    def _validate_merge_duplicate_finding(
        self, request: CommandRequest[MergeDuplicateFinding]
    ) -> None:
        self._validate(request)

    @workflow.update
    async def merge_into_case(self, request: CommandRequest[MergeIntoCase]) -> CaseState:
        """合并案件: this case ends merged into another open case of its unit"""
        return await self._execute(request)

    @merge_into_case.validator
    def _validate_merge_into_case(self, request: CommandRequest[MergeIntoCase]) -> None:
        self._validate(request)

    @workflow.update
    async def absorb_case(self, request: CommandRequest[AbsorbCase]) -> CaseState:
        """接收合并案件: another open case of the unit is merged into this one"""
        return await self._execute(request)

    @absorb_case.validator
    def _validate_absorb_case(self, request: CommandRequest[AbsorbCase]) -> None:
        self._validate(request)

    @workflow.update
    async def assign_responsibility(
        self, request: CommandRequest[AssignResponsibility]
    ) -> CaseState:
        """指定责任人"""
        return await self._execute(request)

    @assign_responsibility.validator
    def _validate_assign_responsibility(
        self, request: CommandRequest[AssignResponsibility]
    ) -> None:
        self._validate(request)

    @workflow.update
    async def transfer_responsibility(
        self, request: CommandRequest[TransferResponsibility]
    ) -> CaseState:
        """移交责任单位"""
        return await self._execute(request)

    @transfer_responsibility.validator
    def _validate_transfer_responsibility(
        self, request: CommandRequest[TransferResponsibility]
    ) -> None:
        self._validate(request)

    @workflow.update
    async def set_deadline(self, request: CommandRequest[SetDeadline]) -> CaseState:
        """更正整改期限"""
        return await self._execute(request)

    @set_deadline.validator
    def _validate_set_deadline(self, request: CommandRequest[SetDeadline]) -> None:
        self._validate(request)

    @workflow.update
    async def set_target(self, request: CommandRequest[SetTarget]) -> CaseState:
        """设定整改目标"""
        return await self._execute(request)

    @set_target.validator
    def _validate_set_target(self, request: CommandRequest[SetTarget]) -> None:
        self._validate(request)

    @workflow.update
    async def set_milestones(self, request: CommandRequest[SetMilestones]) -> CaseState:
        """设定阶段节点"""
        return await self._execute(request)

    @set_milestones.validator
    def _validate_set_milestones(self, request: CommandRequest[SetMilestones]) -> None:
        self._validate(request)

    @workflow.update
    async def recompute_deadline(self, request: CommandRequest[RecomputeDeadline]) -> CaseState:
        """新日历公布后重算期限"""
        return await self._execute(request)

    @recompute_deadline.validator
    def _validate_recompute_deadline(self, request: CommandRequest[RecomputeDeadline]) -> None:
        self._validate(request)

    @workflow.update
    async def submit_plan(self, request: CommandRequest[SubmitPlan]) -> CaseState:
        """整改方案"""
        return await self._execute(request)

    @submit_plan.validator
    def _validate_submit_plan(self, request: CommandRequest[SubmitPlan]) -> None:
        self._validate(request)

    @workflow.update
    async def report_progress(self, request: CommandRequest[ReportProgress]) -> CaseState:
        """进展"""
        return await self._execute(request)

    @report_progress.validator
    def _validate_report_progress(self, request: CommandRequest[ReportProgress]) -> None:
        self._validate(request)

    @workflow.update
    async def report_milestone(self, request: CommandRequest[ReportMilestone]) -> CaseState:
        """节点进展"""
        return await self._execute(request)

    @report_milestone.validator
    def _validate_report_milestone(self, request: CommandRequest[ReportMilestone]) -> None:
        self._validate(request)

    @workflow.update
    async def request_extension(self, request: CommandRequest[RequestExtension]) -> CaseState:
        """延期申请"""
        return await self._execute(request)

    @request_extension.validator
    def _validate_request_extension(self, request: CommandRequest[RequestExtension]) -> None:
        self._validate(request)

    @workflow.update
    async def grant_extension(self, request: CommandRequest[GrantExtension]) -> CaseState:
        """批准延期"""
        return await self._execute(request)

    @grant_extension.validator
    def _validate_grant_extension(self, request: CommandRequest[GrantExtension]) -> None:
        self._validate(request)

    @workflow.update
    async def deny_extension(self, request: CommandRequest[DenyExtension]) -> CaseState:
        """驳回延期"""
        return await self._execute(request)

    @deny_extension.validator
    def _validate_deny_extension(self, request: CommandRequest[DenyExtension]) -> None:
        self._validate(request)

    @workflow.update
    async def request_closure(self, request: CommandRequest[RequestClosure]) -> CaseState:
        """申请销号"""
        return await self._execute(request)

    @request_closure.validator
    def _validate_request_closure(self, request: CommandRequest[RequestClosure]) -> None:
        self._validate(request)

    @workflow.update
    async def verify_closure(self, request: CommandRequest[VerifyClosure]) -> CaseState:
        """验收销号"""
        return await self._execute(request)

    @verify_closure.validator
    def _validate_verify_closure(self, request: CommandRequest[VerifyClosure]) -> None:
        self._validate(request)

    @workflow.update
    async def reject_closure(self, request: CommandRequest[RejectClosure]) -> CaseState:
        """退回"""
        return await self._execute(request)

    @reject_closure.validator
    def _validate_reject_closure(self, request: CommandRequest[RejectClosure]) -> None:
        self._validate(request)

    @workflow.update
    async def record_satisfaction(self, request: CommandRequest[RecordSatisfaction]) -> CaseState:
        """满意度回访"""
        return await self._execute(request)

    @record_satisfaction.validator
    def _validate_record_satisfaction(self, request: CommandRequest[RecordSatisfaction]) -> None:
        self._validate(request)

    @workflow.update
    async def reopen_case(self, request: CommandRequest[ReopenCase]) -> CaseState:
        """回头看重新打开"""
        return await self._execute(request)

    @reopen_case.validator
    def _validate_reopen_case(self, request: CommandRequest[ReopenCase]) -> None:
        self._validate(request)

    @workflow.update
    async def withdraw_case(self, request: CommandRequest[WithdrawCase]) -> CaseState:
        """撤销"""
        return await self._execute(request)

    @withdraw_case.validator
    def _validate_withdraw_case(self, request: CommandRequest[WithdrawCase]) -> None:
        self._validate(request)

    @workflow.update
    async def record_accountability(
        self, request: CommandRequest[RecordAccountability]
    ) -> CaseState:
        """问责"""
        return await self._execute(request)

    @record_accountability.validator
    def _validate_record_accountability(
        self, request: CommandRequest[RecordAccountability]
    ) -> None:
        self._validate(request)

    @workflow.update
    async def apply_tolerance(self, request: CommandRequest[ApplyTolerance]) -> CaseState:
        """容错免责"""
        return await self._execute(request)

    @apply_tolerance.validator
    def _validate_apply_tolerance(self, request: CommandRequest[ApplyTolerance]) -> None:
        self._validate(request)
