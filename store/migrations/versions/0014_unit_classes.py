"""Unit classes (分类考核): a unit's class chooses the section of the policy file whose
rules its new cases open under. Nullable: a unit without a class gets the base rules
(or the file's ``default_class``).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE units ADD COLUMN unit_class text")


def downgrade() -> None:
    op.execute("ALTER TABLE units DROP COLUMN unit_class")
