"""The console's admin page manages notification contacts from the API process.

The console runs in the API process, whose login (``zhenggai_api``) could read the
contacts but not change them; only the owner's CLI could. An admin of the console
now adds, changes and removes contacts, so the API's role may write them, and still
never read a signing key back:

- ``unit_contacts.signed`` (generated: the contact has a key of its own) is what the
  API reads to show "signed"; the ``secret`` column stays unreadable to it;
- INSERT and UPDATE of the columns a person sets (the key included: written, never
  read), DELETE of a contact (its queued rows are cancelled or moved first; the API
  may already update ``notification_outbox``).

``store.outbox.UnitContacts`` never selects ``secret``: it selects ``signed`` and
writes ``secret`` only when a new key is given or the key is removed.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE unit_contacts ADD COLUMN signed boolean
            GENERATED ALWAYS AS (secret IS NOT NULL AND secret <> '') STORED;
        GRANT SELECT (signed) ON TABLE unit_contacts TO zhenggai_api;
        GRANT INSERT (unit_id, role, channel, address, name, secret, digest),
            UPDATE (address, name, secret, digest, updated_at), DELETE
            ON TABLE unit_contacts TO zhenggai_api;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        REVOKE INSERT (unit_id, role, channel, address, name, secret, digest),
            UPDATE (address, name, secret, digest, updated_at), DELETE
            ON TABLE unit_contacts FROM zhenggai_api;
        REVOKE SELECT (signed) ON TABLE unit_contacts FROM zhenggai_api;
        ALTER TABLE unit_contacts DROP COLUMN signed;
        """
    )
