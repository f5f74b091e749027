"""The baseline of bench/workflows.py: a workflow that runs one no-op activity and ends.

Its own module, importing nothing but temporalio, so the workflow sandbox loads it as
cheaply as Temporal allows.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

__all__ = ["BareWorkflow", "noop"]


@activity.defn
def noop(n: int) -> int:
    return n


@workflow.defn
class BareWorkflow:
    @workflow.run
    async def run(self, n: int) -> int:
        return await workflow.execute_activity(
            noop, n, start_to_close_timeout=timedelta(seconds=30)
        )
