"""Seals name the streams they cover.

A seal (``store.seals``) signs a Merkle root over the whole log, which shows
that something in its range changed but not which case. From this revision on
a seal also records, per stream with events in its range, the versions it
covers and their hashes (``seal_streams``, one row per seal and stream, each
with its own HMAC so that one stream can be checked without reading the
rest), and signs their count and digest (``seals.stream_count``,
``seals.streams_digest``; NULL on the seals laid before, which keep their
first signed form). Append-only like ``seals``.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE seals ADD COLUMN stream_count bigint, ADD COLUMN streams_digest bytea;

        CREATE TABLE seal_streams (
            seal_seq      bigint NOT NULL,
            stream_id     text NOT NULL,
            from_version  integer NOT NULL CHECK (from_version >= 1),
            to_version    integer NOT NULL CHECK (to_version >= from_version),
            hashes        bytea NOT NULL
                CHECK (length(hashes) = 32 * (to_version - from_version + 1)),
            mac           bytea NOT NULL,
            PRIMARY KEY (stream_id, seal_seq)
        );
        CREATE INDEX seal_streams_seal ON seal_streams (seal_seq);
        CREATE TRIGGER seal_streams_no_update_delete BEFORE UPDATE OR DELETE ON seal_streams
            FOR EACH ROW EXECUTE FUNCTION refuse_change();
        CREATE TRIGGER seal_streams_no_truncate BEFORE TRUNCATE ON seal_streams
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

        -- As seals (0011): read by those who verify, written only by the auditor.
        REVOKE ALL ON TABLE seal_streams FROM PUBLIC;
        GRANT SELECT ON TABLE seal_streams TO zhenggai_api, zhenggai_reader, zhenggai_auditor;
        GRANT INSERT ON TABLE seal_streams TO zhenggai_auditor;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE seal_streams;
        ALTER TABLE seals DROP COLUMN streams_digest, DROP COLUMN stream_count;
        """
    )
