"""Indexes of the read paths at 100,000 cases: the case list's filters in list order,
and the extension requests waiting for a decision.

- ``case_summary_status_deadline``, ``case_summary_light_deadline``: a list filtered
  by one status or one light (``?status=open``, ``?light=red``, a supervisor's
  closures to verify) walks the cases of that status or light in the list's default
  order (deadline, case id) and stops after a page. Without them it walked the
  deadline index over every case until a page of matches turned up: the open cases'
  deadlines come after most closed cases', so the first open case was tens of
  thousands of rows in (20-50 ms a page at 100k cases).
- ``events_extension_decisions``: the extension events only (request, grant,
  denial), with their type, by stream and version. 我的待办 finds the cases whose
  latest extension event is a request (``store.todo_reads``) by reading these
  backwards, one stream after another, without touching the other events; before
  it, every open case of the subtree was looked up in the whole log (about 1 s at
  100k cases).

A rebuild of the read models keeps the first two: its copies are made ``LIKE`` the
live tables, indexes included (``store.projections.swap.copy_tables``). The
tables' grants are unchanged (indexes need none).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE INDEX case_summary_status_deadline
            ON case_summary (status, (COALESCE(deadline, DATE '9999-12-31')), case_id);
        CREATE INDEX case_summary_light_deadline
            ON case_summary (light, (COALESCE(deadline, DATE '9999-12-31')), case_id);
        CREATE INDEX events_extension_decisions
            ON events (stream_id, version) INCLUDE (type)
            WHERE type IN ('ExtensionRequested', 'ExtensionGranted', 'ExtensionDenied');
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP INDEX events_extension_decisions; DROP INDEX case_summary_light_deadline; "
        "DROP INDEX case_summary_status_deadline"
    )
