"""Event store: events, streams, checkpoints, idempotency keys; events are append-only.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE streams (
            stream_id   text PRIMARY KEY,
            type        text NOT NULL,
            version     integer NOT NULL CHECK (version >= 0),
            head_hash   bytea NOT NULL
        );

        CREATE TABLE events (
            position        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
            tx_id           xid8 NOT NULL DEFAULT pg_current_xact_id(),
            stream_id       text NOT NULL REFERENCES streams (stream_id),
            version         integer NOT NULL CHECK (version >= 1),
            event_id        uuid NOT NULL UNIQUE,
            type            text NOT NULL,
            schema_version  integer NOT NULL CHECK (schema_version >= 1),
            data            jsonb NOT NULL,
            metadata        jsonb NOT NULL,
            recorded_at     timestamptz NOT NULL,
            previous_hash   bytea NOT NULL,
            hash            bytea NOT NULL,
            PRIMARY KEY (stream_id, version)
        );
        -- Subscribers read in commit-safe order: (tx_id, position).
        CREATE INDEX events_tx_position ON events (tx_id, position);

        CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$;
        CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
            FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
        CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

        CREATE TABLE checkpoints (
            projection  text PRIMARY KEY,
            tx_id       xid8 NOT NULL,
            position    bigint NOT NULL,
            updated_at  timestamptz NOT NULL DEFAULT now()
        );

        -- Idempotency-Key of POST requests: a repeat returns the first answer.
        CREATE TABLE idempotency_keys (
            scope         text NOT NULL,
            key           text NOT NULL,
            request_hash  text NOT NULL,
            resource_id   text NOT NULL,
            created_at    timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (scope, key)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE idempotency_keys;
        DROP TABLE checkpoints;
        DROP TABLE events;
        DROP FUNCTION events_are_append_only();
        DROP TABLE streams;
        """
    )
