"""Console accounts and their sessions: people who sign in to the web console.

- ``console_accounts``: one row per person, with a user name (unique), a display
  name, a role and unit, an argon2 hash of the password, the count of failed
  sign-ins in a row and the time a lockout ends, and ``disabled_at``.
- ``console_sessions``: a signed-in browser. ``session_hash`` is the SHA-256 of
  the random cookie value (the value itself is never stored); ``csrf_secret`` is
  the token every form of the session carries; ``expires_at`` moves with each
  request (idle expiry).

Grants (0011's roles): the API process serves the console, so ``zhenggai_api``
reads, inserts and updates both; it deletes nothing (logout ends a session by
setting its expiry to now). No other role gets either table.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE console_accounts (
            account_id       text PRIMARY KEY,
            username         text NOT NULL UNIQUE,
            display_name     text NOT NULL,
            role             text NOT NULL
                CHECK (role IN ('supervisor', 'unit', 'inspector', 'admin')),
            unit_id          text REFERENCES units (unit_id),
            password_hash    text NOT NULL,
            failed_attempts  integer NOT NULL DEFAULT 0,
            locked_until     timestamptz,
            created_at       timestamptz NOT NULL DEFAULT now(),
            disabled_at      timestamptz,
            CHECK (role = 'admin' OR unit_id IS NOT NULL)
        );
        CREATE TABLE console_sessions (
            session_hash  bytea PRIMARY KEY,
            account_id    text NOT NULL REFERENCES console_accounts (account_id),
            csrf_secret   text NOT NULL,
            created_at    timestamptz NOT NULL DEFAULT now(),
            expires_at    timestamptz NOT NULL,
            last_seen_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX console_sessions_account ON console_sessions (account_id);
        """
    )
    op.execute(
        """
        GRANT SELECT, INSERT, UPDATE ON TABLE console_accounts TO zhenggai_api;
        GRANT SELECT, INSERT, UPDATE ON TABLE console_sessions TO zhenggai_api;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        REVOKE ALL ON TABLE console_sessions FROM zhenggai_api;
        REVOKE ALL ON TABLE console_accounts FROM zhenggai_api;
        DROP TABLE console_sessions;
        DROP TABLE console_accounts;
        """
    )
