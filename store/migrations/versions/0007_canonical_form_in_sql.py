"""The canonical form computed by the database; a leaner append.

``event_canonical`` (documented in ``store.canonical``) builds an event's
canonical bytes from its stored columns, so the server hashes exactly what it
stores and ``audit verify`` recomputes every hash in SQL, in parallel, without
moving the events to Python. ``append_events`` now takes the events as one
JSON array (event_id, type, schema_version, data, metadata) and stamps
``recorded_at`` itself.

The foreign key events → streams is dropped: ``append_events`` always writes
both rows in one statement, and ``audit verify`` reports events without a
stream row (``stream_row``). The key cost a lookup and a row lock per inserted
event.

``events_tx_position`` now carries ``hash``, so sealing and the Merkle part of
verify read the log in order from the index alone.

Logs written before this revision were hashed with the earlier client-side
form and no longer verify; there were none outside development.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        r"""
        CREATE FUNCTION event_canonical(
            p_stream_id text, p_version integer, p_event_id uuid, p_type text,
            p_schema_version integer, p_recorded_at timestamptz, p_data jsonb, p_metadata jsonb
        ) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
            -- || rather than concat(): concat looks up each argument's output
            -- function on every call, a third of the cost of the whole form.
            SELECT convert_to(
                '{"stream_id": ' || to_json(p_stream_id)::text
                || ', "version": ' || p_version::text
                || ', "event_id": "' || p_event_id::text
                || '", "type": ' || to_json(p_type)::text
                || ', "schema_version": ' || p_schema_version::text
                || ', "recorded_at": "'
                || to_char(p_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                || '", "data": ' || p_data::text
                || ', "metadata": ' || p_metadata::text
                || '}', 'UTF8')
        $$;

        DROP FUNCTION append_events(text, text, integer, bytea[], boolean);

        CREATE FUNCTION append_events(
            p_stream_id text,
            p_stream_type text,
            p_expected integer,
            p_events jsonb,
            p_notify boolean DEFAULT true,
            OUT status text,
            OUT version integer,
            OUT head_hash bytea
        ) LANGUAGE plpgsql AS $$
        DECLARE
            n integer := jsonb_array_length(p_events);
            moment timestamptz := statement_timestamp();
            previous bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
            hashes bytea[];
            last_tx xid8;
            e jsonb;
        BEGIN
            IF n = 0 THEN
                RAISE EXCEPTION 'append_events needs at least one event';
            END IF;
            IF p_expected > 0 THEN
                -- The event at the expected version never changes, so it can be
                -- read without a lock; the stream row is locked only by the
                -- UPDATE below, which moves it only if it is still at p_expected.
                SELECT ev.hash, ev.tx_id INTO previous, last_tx
                    FROM events ev WHERE ev.stream_id = p_stream_id AND ev.version = p_expected;
                IF NOT FOUND THEN
                    status := 'conflict';
                    SELECT coalesce(max(s.version), 0) INTO version
                        FROM streams s WHERE s.stream_id = p_stream_id;
                    RETURN;
                END IF;
                -- Per-stream order in (tx_id, position): a later transaction id
                -- must not write before an earlier one. pg_current_xact_id()
                -- assigns ours now, before the row lock.
                IF last_tx > pg_current_xact_id() THEN
                    status := 'stale';
                    version := p_expected;
                    RETURN;
                END IF;
            END IF;
            hashes := ARRAY[previous];
            head_hash := previous;
            FOR i IN 1..n LOOP
                e := p_events -> (i - 1);
                head_hash := sha256(head_hash || event_canonical(
                    p_stream_id, p_expected + i, (e ->> 'event_id')::uuid, e ->> 'type',
                    (e ->> 'schema_version')::integer, moment, e -> 'data', e -> 'metadata'));
                hashes := hashes || head_hash;
            END LOOP;
            IF p_expected = 0 THEN
                WITH moved AS (
                    INSERT INTO streams (stream_id, type, version, head_hash)
                    VALUES (p_stream_id, p_stream_type, n, hashes[n + 1])
                    ON CONFLICT (stream_id) DO NOTHING
                    RETURNING 1
                )
                INSERT INTO events (stream_id, version, event_id, type, schema_version,
                                    data, metadata, recorded_at, previous_hash, hash)
                SELECT p_stream_id, d.i, (d.j ->> 'event_id')::uuid, d.j ->> 'type',
                       (d.j ->> 'schema_version')::integer, d.j -> 'data', d.j -> 'metadata',
                       moment, hashes[d.i], hashes[d.i + 1]
                FROM moved, jsonb_array_elements(p_events) WITH ORDINALITY AS d (j, i)
                ORDER BY d.i;
            ELSE
                WITH moved AS (
                    UPDATE streams s SET version = p_expected + n, head_hash = hashes[n + 1]
                    WHERE s.stream_id = p_stream_id AND s.version = p_expected
                    RETURNING 1
                )
                INSERT INTO events (stream_id, version, event_id, type, schema_version,
                                    data, metadata, recorded_at, previous_hash, hash)
                SELECT p_stream_id, p_expected + d.i, (d.j ->> 'event_id')::uuid, d.j ->> 'type',
                       (d.j ->> 'schema_version')::integer, d.j -> 'data', d.j -> 'metadata',
                       moment, hashes[d.i], hashes[d.i + 1]
                FROM moved, jsonb_array_elements(p_events) WITH ORDINALITY AS d (j, i)
                ORDER BY d.i;
            END IF;
            IF NOT FOUND THEN  -- another append moved (or created) the stream first
                status := 'conflict';
                SELECT coalesce(max(s.version), 0) INTO version
                    FROM streams s WHERE s.stream_id = p_stream_id;
                head_hash := NULL;
                RETURN;
            END IF;
            IF p_notify THEN
                PERFORM pg_notify('events', '');
            END IF;
            status := 'ok';
            version := p_expected + n;
        END;
        $$;

        ALTER TABLE events DROP CONSTRAINT events_stream_id_fkey;
        DROP INDEX events_tx_position;
        CREATE INDEX events_tx_position ON events (tx_id, position) INCLUDE (hash);
        """
    )


def downgrade() -> None:
    # Hashes written by this revision's form cannot be re-expressed in the
    # earlier one, so going back would leave a log that does not verify.
    raise NotImplementedError("revision 0007 changes the hash form and cannot be undone")
