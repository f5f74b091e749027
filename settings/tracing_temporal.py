"""Temporal's tracing interceptor, with a case's commands traced where they come from.

Imported only when tracing is on (``settings.tracing.Tracing.temporal_interceptors``).

Temporal's ``TracingInterceptor`` puts the spans of an update's validation and handling
in the trace of the request that *started* the workflow, with only a link to the
caller. A case lives for months and every command is an update, so that would hang
each command's work under the request that opened the case. Here an update that
carries a trace context (the API's request) is validated and handled in that trace,
and the activities it schedules (the append) follow it; the span links back to the
workflow's own trace. Updates without one (and everything else) behave as upstream.
"""

from __future__ import annotations

from typing import Any

import opentelemetry.trace
from opentelemetry.context import Context
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor

# The attach/detach that survives a workflow evicted mid-handler (see its docstring).
from temporalio.contrib.opentelemetry._context import attached_context
from temporalio.worker import HandleUpdateInput, WorkflowInterceptorClassInput

__all__ = ["CaseTracingInterceptor"]


class _CommandTracingWorkflowInbound(TracingWorkflowInboundInterceptor):
    def _caller_context(self, update: HandleUpdateInput) -> Context | None:
        header = update.headers.get(self.header_key)
        if not header:
            return None
        carrier = self.payload_converter.from_payloads([header])[0]
        if not carrier:
            return None
        return self._set_on_context(self.text_map_propagator.extract(carrier))

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        context = self._caller_context(input)
        if context is None:
            super().handle_update_validator(input)
            return
        with attached_context(context):
            self._completed_span(
                f"ValidateUpdate:{input.update}",
                link_context_carrier=self._load_workflow_context_carrier(),
                kind=opentelemetry.trace.SpanKind.SERVER,
            )
            self.next.handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        context = self._caller_context(input)
        if context is None:
            return await super().handle_update_handler(input)
        with attached_context(context):
            self._completed_span(
                f"HandleUpdate:{input.update}",
                link_context_carrier=self._load_workflow_context_carrier(),
                kind=opentelemetry.trace.SpanKind.SERVER,
            )
            return await self.next.handle_update_handler(input)


class CaseTracingInterceptor(TracingInterceptor):
    """``TracingInterceptor`` whose workflows trace a command in its caller's trace."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span-making extern
        return _CommandTracingWorkflowInbound
