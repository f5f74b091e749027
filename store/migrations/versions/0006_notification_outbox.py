"""Notification outbox, delivery attempts, and who of each unit receives what.

The send_notification activity writes one ``notification_outbox`` row per
channel and recipient, keyed by the causing event (``idempotency_key`` is
UNIQUE), so a retried activity adds nothing. A dispatcher claims due rows with
``FOR UPDATE SKIP LOCKED``, delivers them and writes one ``notification_attempts``
row per try. ``unit_contacts`` says, per unit, who is the contact, the leader,
the supervising department and the listed-supervision recipients, on which
channel.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE unit_contacts (
            contact_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            unit_id     text NOT NULL REFERENCES units (unit_id),
            role        text NOT NULL
                CHECK (role IN ('contact', 'leader', 'supervising', 'listed')),
            channel     text NOT NULL CHECK (channel IN ('email', 'webhook', 'dingtalk', 'wecom')),
            address     text NOT NULL CHECK (length(address) BETWEEN 3 AND 2000),
            name        text NOT NULL DEFAULT '',
            secret      text,  -- HMAC key of a webhook or DingTalk robot
            created_at  timestamptz NOT NULL DEFAULT now(),
            UNIQUE (unit_id, role, channel, address)
        );

        CREATE TABLE notification_outbox (
            id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            idempotency_key  text NOT NULL UNIQUE,  -- causing event id | channel | recipient
            notice_key       text NOT NULL,         -- the causing event id (the notice's key)
            case_id          text NOT NULL,
            stream_id        text NOT NULL,
            kind             text NOT NULL,
            level            int,
            channel          text NOT NULL
                CHECK (channel IN ('email', 'webhook', 'dingtalk', 'wecom')),
            recipient        text NOT NULL,
            contact_id       bigint REFERENCES unit_contacts (contact_id) ON DELETE SET NULL,
            payload          jsonb NOT NULL,
            status           text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'dead', 'cancelled')),
            attempts         int NOT NULL DEFAULT 0,
            next_attempt_at  timestamptz NOT NULL DEFAULT now(),
            claim_token      uuid,  -- who holds the lease; a late finisher cannot overwrite
            last_error       text,
            created_at       timestamptz NOT NULL DEFAULT now(),
            sent_at          timestamptz,
            updated_at       timestamptz NOT NULL DEFAULT now()
        );
        -- The dispatcher's scan: due pending rows, oldest first.
        CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at, id)
            WHERE status = 'pending';
        -- Per-case order: is an earlier row of the same case and recipient still pending?
        CREATE INDEX notification_outbox_case_order
            ON notification_outbox (case_id, channel, recipient, id) WHERE status = 'pending';
        CREATE INDEX notification_outbox_status ON notification_outbox (status, id);

        CREATE TABLE notification_attempts (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            outbox_id    bigint NOT NULL REFERENCES notification_outbox (id) ON DELETE CASCADE,
            attempt      int NOT NULL,
            outcome      text NOT NULL CHECK (outcome IN ('sent', 'failed', 'dead')),
            error        text,
            attempted_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX notification_attempts_outbox ON notification_attempts (outbox_id, id);
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE notification_attempts; DROP TABLE notification_outbox; "
        "DROP TABLE unit_contacts;"
    )
