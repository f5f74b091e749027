"""Workflow inputs and results."""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.commands import OpenCase

__all__ = ["CaseWorkflowInput", "RequestContext", "case_workflow_id"]


def case_workflow_id(finding_id: str) -> str:
    return f"case-{finding_id}"


class RequestContext(BaseModel):
    """Where a command came from, for the events' metadata."""

    request_id: str | None = None
    correlation_id: str | None = None


class CaseWorkflowInput(BaseModel):
    command: OpenCase
    context: RequestContext = Field(default_factory=RequestContext)
