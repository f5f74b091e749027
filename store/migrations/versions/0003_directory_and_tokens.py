"""Directory (units as a tree, cadres) and API tokens (only their hashes).

Units carry a materialised ``path`` (``/prov/city/county/``) so "this unit's
subtree" is one prefix comparison, for scope checks and case lists alike.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE units (
            unit_id     text PRIMARY KEY CHECK (unit_id ~ '^[A-Za-z0-9_-]{1,64}$'),
            name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            parent_id   text REFERENCES units (unit_id),
            path        text NOT NULL UNIQUE,
            created_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX units_path ON units (path text_pattern_ops);

        CREATE TABLE cadres (
            cadre_id    text PRIMARY KEY CHECK (cadre_id ~ '^[A-Za-z0-9_-]{1,64}$'),
            name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
            unit_id     text NOT NULL REFERENCES units (unit_id),
            post        text NOT NULL DEFAULT '',
            created_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX cadres_unit ON cadres (unit_id);

        CREATE TABLE api_tokens (
            token_id     text PRIMARY KEY,
            token_hash   bytea NOT NULL UNIQUE,
            name         text NOT NULL,
            role         text NOT NULL
                CHECK (role IN ('supervisor', 'unit', 'inspector', 'admin')),
            unit_id      text REFERENCES units (unit_id),
            created_at   timestamptz NOT NULL DEFAULT now(),
            revoked_at   timestamptz,
            CHECK (role = 'admin' OR unit_id IS NOT NULL)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE api_tokens; DROP TABLE cadres; DROP TABLE units;")
