"""Archive documents kept in the table's own pages where the server has no lz4.

Migration 0008 keeps documents out of line uncompressed on a server built
without lz4 (the embedded pgserver): every document past 2 KB (most of them;
about 2.4 KB at 1M events) was written to the TOAST table and its index in
chunks, and read back from there. Letting rows of up to a page stay in line
(``toast_tuple_target``) writes and reads each document once, in its row: a
rebuild's COPY of the 100k-event log's 33 MB of documents took 0.27 → 0.20 s
of the server; a longer document is still moved out of line, uncompressed.
Servers with lz4 keep compressing (0008), which costs little and halves the
disk. The tables a rebuild or check makes copy the table's options
(``store.projections.swap.copy_tables``). The documents' bytes do not change.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        DO $$
        BEGIN
            IF NOT 'lz4' = ANY ((SELECT enumvals FROM pg_settings
                                 WHERE name = 'default_toast_compression')::text[]) THEN
                ALTER TABLE cadre_archive SET (toast_tuple_target = 8160);
            END IF;
        END
        $$;
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE cadre_archive RESET (toast_tuple_target)")
