"""Notifications v2: no silent loss, contacts that can be fixed, daily digests.

- ``notification_outbox.status`` also takes ``unaddressed`` (a notice whose
  recipient had no contact: a visible row, never delivered, ``channel`` NULL and
  ``recipient`` naming the unit and role that had nobody) and ``digested`` (a
  row gathered into a contact's daily digest, delivered by that digest row:
  ``digest_id``).
- ``digest`` on a row: it waits for its contact's daily digest instead of
  being delivered on its own; the dispatcher skips it when claiming.
- ``unit_contacts.digest``: the contact wants a daily digest on its channel;
  ``updated_at`` for ``contact update``.

Grants (0011's roles): the worker inserts rows as before (``unaddressed`` ones
too); the dispatcher also inserts (a digest is a row of its own); the API reads
the contacts but not their secrets (a retry re-reads the contact's address), and
inserts rows (retrying an ``unaddressed`` row addresses it to the contacts set
since).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE unit_contacts
            ADD COLUMN digest boolean NOT NULL DEFAULT false,
            ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

        ALTER TABLE notification_outbox DROP CONSTRAINT IF EXISTS notification_outbox_status_check;
        ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_status_check
            CHECK (status IN ('pending', 'sent', 'dead', 'cancelled', 'unaddressed', 'digested'));
        ALTER TABLE notification_outbox ALTER COLUMN channel DROP NOT NULL;
        ALTER TABLE notification_outbox
            ADD COLUMN digest boolean NOT NULL DEFAULT false,
            ADD COLUMN digest_id bigint REFERENCES notification_outbox (id);
        ALTER TABLE notification_outbox
            ADD CONSTRAINT notification_outbox_channel_unless_unaddressed
            CHECK (channel IS NOT NULL OR status IN ('unaddressed', 'cancelled'));

        -- The case page's counts, and a contact's waiting digest rows.
        CREATE INDEX notification_outbox_case ON notification_outbox (case_id, status);
        CREATE INDEX notification_outbox_digest ON notification_outbox (contact_id, id)
            WHERE digest AND status = 'pending';
        CREATE INDEX notification_outbox_contact ON notification_outbox (contact_id)
            WHERE status IN ('pending', 'dead');
        """
    )
    op.execute(
        """
        GRANT SELECT
            (contact_id, unit_id, role, channel, address, name, digest, created_at, updated_at)
            ON TABLE unit_contacts TO zhenggai_api;
        GRANT INSERT ON TABLE notification_outbox TO zhenggai_api, zhenggai_dispatcher;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        REVOKE INSERT ON TABLE notification_outbox FROM zhenggai_api, zhenggai_dispatcher;
        REVOKE SELECT
            (contact_id, unit_id, role, channel, address, name, digest, created_at, updated_at)
            ON TABLE unit_contacts FROM zhenggai_api;
        DROP INDEX notification_outbox_contact;
        DROP INDEX notification_outbox_digest;
        DROP INDEX notification_outbox_case;
        ALTER TABLE notification_outbox
            DROP CONSTRAINT notification_outbox_channel_unless_unaddressed;
        DELETE FROM notification_outbox
            WHERE status IN ('unaddressed', 'digested') OR channel IS NULL;
        ALTER TABLE notification_outbox DROP COLUMN digest_id, DROP COLUMN digest;
        ALTER TABLE notification_outbox ALTER COLUMN channel SET NOT NULL;
        ALTER TABLE notification_outbox DROP CONSTRAINT notification_outbox_status_check;
        ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_status_check
            CHECK (status IN ('pending', 'sent', 'dead', 'cancelled'));
        ALTER TABLE unit_contacts DROP COLUMN updated_at, DROP COLUMN digest;
        """
    )
