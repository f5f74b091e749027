"""Append in one round trip, and audit seals.

``append_events`` does the whole of an append on the server, so an append is
one statement: lock (or create) the stream's row, chain the hashes, insert the
events, move the stream's head, wake subscribers. The caller sends the
canonical documents (``store.canonical``); the function hashes them as they
are, so the hash covers exactly the bytes the Python side defined, and takes
the column values from the same documents.

Result ``status``:
  ``ok``        appended; ``head_hash`` is the new head.
  ``conflict``  the stream is at ``version``, not the expected one; nothing written.
  ``stale``     the stream was last written by a transaction with a higher
                transaction id than the caller's, so appending would break
                per-stream order in (tx_id, position); nothing written, roll back
                and retry. Only a caller that keeps a transaction open across
                appends can see this.

``seals``: signed Merkle roots over the log, see ``store.seals``. Append-only too.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        r"""
        CREATE FUNCTION append_events(
            p_stream_id text,
            p_stream_type text,
            p_expected integer,
            p_documents bytea[],
            p_notify boolean DEFAULT true,
            OUT status text,
            OUT version integer,
            OUT head_hash bytea
        ) LANGUAGE plpgsql AS $$
        DECLARE
            n integer := cardinality(p_documents);
            previous bytea := decode(repeat('00', 32), 'hex');  -- GENESIS
            hashes bytea[];
            actual integer;
            last_tx xid8;
        BEGIN
            IF n IS NULL OR n = 0 THEN
                RAISE EXCEPTION 'append_events needs at least one document';
            END IF;
            IF p_expected > 0 THEN
                -- Locks the row only when it is at the expected version, so a
                -- conflicting append leaves no lock behind in the caller's transaction.
                SELECT s.version, s.head_hash, e.tx_id INTO actual, previous, last_tx
                    FROM streams s
                    LEFT JOIN events e ON e.stream_id = s.stream_id AND e.version = s.version
                    WHERE s.stream_id = p_stream_id AND s.version = p_expected
                    FOR UPDATE OF s;
                IF NOT FOUND THEN
                    SELECT s.version INTO actual FROM streams s WHERE s.stream_id = p_stream_id;
                    status := 'conflict';
                    version := coalesce(actual, 0);
                    RETURN;
                END IF;
                IF last_tx > pg_current_xact_id() THEN
                    status := 'stale';
                    version := actual;
                    RETURN;
                END IF;
            END IF;
            hashes := array_fill(NULL::bytea, ARRAY[n]);
            head_hash := previous;
            FOR i IN 1..n LOOP
                head_hash := sha256(head_hash || p_documents[i]);
                hashes[i] := head_hash;
            END LOOP;
            IF p_expected = 0 THEN
                WITH created AS (
                    INSERT INTO streams (stream_id, type, version, head_hash)
                    VALUES (p_stream_id, p_stream_type, n, hashes[n])
                    ON CONFLICT (stream_id) DO NOTHING
                    RETURNING 1
                )
                INSERT INTO events (stream_id, version, event_id, type, schema_version,
                                    data, metadata, recorded_at, previous_hash, hash)
                SELECT p_stream_id, d.i, (d.j ->> 'event_id')::uuid, d.j ->> 'type',
                       (d.j ->> 'schema_version')::integer, d.j -> 'data', d.j -> 'metadata',
                       (d.j ->> 'recorded_at')::timestamptz,
                       CASE WHEN d.i = 1 THEN previous ELSE hashes[d.i - 1] END, hashes[d.i]
                FROM created,
                     (SELECT convert_from(u.doc, 'UTF8')::jsonb AS j, u.i
                      FROM unnest(p_documents) WITH ORDINALITY AS u (doc, i)) AS d
                ORDER BY d.i;
                IF NOT FOUND THEN  -- the stream exists already
                    SELECT s.version INTO actual FROM streams s WHERE s.stream_id = p_stream_id;
                    status := 'conflict';
                    version := actual;
                    head_hash := NULL;
                    RETURN;
                END IF;
            ELSE
                WITH moved AS (
                    UPDATE streams s SET version = p_expected + n, head_hash = hashes[n]
                    WHERE s.stream_id = p_stream_id
                    RETURNING 1
                )
                INSERT INTO events (stream_id, version, event_id, type, schema_version,
                                    data, metadata, recorded_at, previous_hash, hash)
                SELECT p_stream_id, p_expected + d.i, (d.j ->> 'event_id')::uuid, d.j ->> 'type',
                       (d.j ->> 'schema_version')::integer, d.j -> 'data', d.j -> 'metadata',
                       (d.j ->> 'recorded_at')::timestamptz,
                       CASE WHEN d.i = 1 THEN previous ELSE hashes[d.i - 1] END, hashes[d.i]
                FROM moved,
                     (SELECT convert_from(u.doc, 'UTF8')::jsonb AS j, u.i
                      FROM unnest(p_documents) WITH ORDINALITY AS u (doc, i)) AS d
                ORDER BY d.i;
            END IF;
            IF p_notify THEN
                PERFORM pg_notify('events', '');
            END IF;
            status := 'ok';
            version := p_expected + n;
        END;
        $$;

        CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$;

        CREATE TABLE seals (
            seq                 bigint PRIMARY KEY CHECK (seq >= 1),
            sealed_at           timestamptz NOT NULL,
            up_to_tx_id         xid8 NOT NULL,
            up_to_position      bigint NOT NULL,
            event_count         bigint NOT NULL CHECK (event_count >= 0),
            merkle_root         bytea NOT NULL,
            previous_signature  bytea NOT NULL,
            key_id              text NOT NULL,
            signature           bytea NOT NULL
        );
        CREATE TRIGGER seals_no_update_delete BEFORE UPDATE OR DELETE ON seals
            FOR EACH ROW EXECUTE FUNCTION refuse_change();
        CREATE TRIGGER seals_no_truncate BEFORE TRUNCATE ON seals
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE seals;
        DROP FUNCTION refuse_change();
        DROP FUNCTION append_events(text, text, integer, bytea[], boolean);
        """
    )
