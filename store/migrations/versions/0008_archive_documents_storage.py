"""Archive documents stored without pglz compression.

A cadre's archive document is about 2.4 KB of JSON, past the 2 KB at which
PostgreSQL compresses a value, and a rebuild writes all of them: at 1M
events, 320 MB that pglz compressed at about 180 MB/s, about a seventh of
the server's share of the rebuild. lz4 compresses them to the same size in
a third of the time; a server built without lz4 (the embedded pgserver)
keeps them out of line uncompressed instead (about twice the disk, no
compression or decompression at all). The rebuild and scratch tables copy
the column's setting (``LIKE … INCLUDING ALL``). The documents' bytes do
not change.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        DO $$
        BEGIN
            IF 'lz4' = ANY ((SELECT enumvals FROM pg_settings
                             WHERE name = 'default_toast_compression')::text[]) THEN
                ALTER TABLE cadre_archive ALTER COLUMN document SET COMPRESSION lz4;
            ELSE
                ALTER TABLE cadre_archive ALTER COLUMN document SET STORAGE EXTERNAL;
            END IF;
        END
        $$;
        """
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE cadre_archive ALTER COLUMN document SET STORAGE EXTENDED, "
        "ALTER COLUMN document SET COMPRESSION default"
    )
