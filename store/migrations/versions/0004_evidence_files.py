"""Evidence files (佐证材料), stored once by content hash and linked to the cases that cite them.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE evidence_files (
            content_hash  text PRIMARY KEY CHECK (content_hash ~ '^[0-9a-f]{64}$'),
            media_type    text NOT NULL,
            size          bigint NOT NULL CHECK (size >= 0),
            content       bytea NOT NULL,
            stored_at     timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE evidence_links (
            case_id       text NOT NULL,
            content_hash  text NOT NULL REFERENCES evidence_files (content_hash),
            name          text NOT NULL,
            uploaded_by   text NOT NULL,
            uploaded_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (case_id, content_hash)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE evidence_links; DROP TABLE evidence_files;")
