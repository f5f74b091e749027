"""Indexes of the events that name a cadre, in (cadre, stream) byte order.

A rebuild of the cadre archive first lists every (cadre, stream) link of the
log, grouped by cadre, to cut the cadres into chunks
(``store.projections.cadre_archive``). Without an index that list is a scan
of the whole log and a sort of its links, and no chunk can start until the
sort ends (at 100k events a tenth of a second, with the workers idle). These
partial indexes hold only the events that name a cadre (about a fifth of a
realistic log), so the list streams from them in order, and merging the two
is all the rebuild does. The type lists must cover every event type with a
``cadre_id`` or ``previous_cadre_id`` field (a test checks them against the
domain's events); a query for a type not listed would still be right, only
by a scan.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE INDEX events_cadre_links
            ON events (((data->>'cadre_id')) COLLATE "C", stream_id COLLATE "C")
            WHERE type IN ('AccountabilityRecorded', 'CaseOpened', 'FindingRecorded',
                           'ResponsibilityAssigned', 'ResponsibilityTransferred',
                           'ToleranceApplied');
        CREATE INDEX events_previous_cadre_links
            ON events (((data->>'previous_cadre_id')) COLLATE "C", stream_id COLLATE "C")
            WHERE type IN ('ResponsibilityAssigned', 'ResponsibilityTransferred');
        """
    )


def downgrade() -> None:
    op.execute("DROP INDEX events_previous_cadre_links; DROP INDEX events_cadre_links")
