"""Idempotency keys keep the first answer, so a repeat is answered without running again.

Before, a repeat was sent to the case's workflow again with the same update id,
and Temporal's deduplication by update id lasts only within one run: after the
workflow continued as new, the repeat ran a second time. Now the API stores the
answer (status and body) beside the claim; the workflow also remembers the keys
it applied across runs, for a repeat whose first answer was never stored (the
API died between the update and the store).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE idempotency_keys
            ADD COLUMN answer_status smallint,
            ADD COLUMN answer jsonb,
            ADD COLUMN answered_at timestamptz;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE idempotency_keys
            DROP COLUMN answered_at,
            DROP COLUMN answer,
            DROP COLUMN answer_status;
        """
    )
