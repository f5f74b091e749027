"""Least privilege: one group role per process kind, events appended only through the store.

Until now every process connected as the owner of the tables (often a
superuser), so it could ``SET session_replication_role = replica`` and rewrite
the log past the append-only triggers, or move a stream's head. From here on
the owner (the role that runs ``zhenggai migrate``) is the only one who may
change the schema; each process connects as a login that is a member of one of
these NOLOGIN group roles and gets only what its code does:

============================  ===============================================================
``zhenggai_worker``           reads the log and the directory; appends ONLY through
                              ``append_events``; inserts notifications into the outbox
``zhenggai_api``              reads the log, seals, read models, checkpoints, directory,
                              tokens, outbox; writes idempotency keys, evidence, the
                              directory (units, cadres) and the outbox's retry
``zhenggai_projector``        reads the log; writes the read models and their checkpoints
``zhenggai_dispatcher``       reads the log and the contacts; claims and finishes outbox rows,
                              records delivery attempts
``zhenggai_reader``           read-only tools of inspectors (``audit verify``, ``export-seals``):
                              the log, seals, read models, checkpoints, directory; no secrets
``zhenggai_auditor``          ``audit seal``: reads the log, inserts seals (UPDATE on seals only
                              because ``LOCK TABLE seals IN EXCLUSIVE MODE`` requires it; the
                              seals trigger refuses every UPDATE and DELETE)
============================  ===============================================================

Nobody but the owner holds INSERT, UPDATE, DELETE or TRUNCATE on ``events`` or
``streams``: ``append_events`` becomes SECURITY DEFINER (it runs as its owner,
with a fixed ``search_path`` so a caller cannot slip in their own objects), and
only ``zhenggai_worker`` may execute it. Owning nothing, no group role can
ALTER, DISABLE TRIGGER, TRUNCATE or DROP a table, and without superuser none
can set ``session_replication_role``. ``CREATE`` on the schema is revoked from
PUBLIC (PostgreSQL 15 and later already do so for ``public``).

Roles belong to the whole server, grants to one database: several databases
on one server (tests, staging) share the group roles, each with its own
grants. The roles are created only where missing (the owner needs CREATEROLE
then, or a DBA creates them first) and are never dropped by a downgrade.
Logins for the processes: ``store.roles``. A table added by a later migration
gets no grant from here: that migration grants it.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

APPEND = "append_events(text, text, integer, jsonb, boolean)"

LOG = ("events", "streams")
READ_MODELS = (
    "case_summary",
    "unit_board_cases",
    "unit_board",
    "cadre_archive_links",
    "cadre_archive",
)
DIRECTORY = ("units", "cadres")

# role -> (privileges, tables); every grant the role gets in this database.
GRANTS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "zhenggai_worker": [
        ("SELECT", (*LOG, *DIRECTORY, "unit_contacts")),
        # ON CONFLICT (idempotency_key) reads the arbiter column.
        ("INSERT, SELECT (idempotency_key)", ("notification_outbox",)),
    ],
    "zhenggai_api": [
        (
            "SELECT",
            (
                *LOG,
                "seals",
                "checkpoints",
                *READ_MODELS,
                *DIRECTORY,
                "api_tokens",
                "idempotency_keys",
                "evidence_files",
                "evidence_links",
                "notification_outbox",
                "notification_attempts",
            ),
        ),
        ("INSERT", (*DIRECTORY, "idempotency_keys", "evidence_files", "evidence_links")),
        ("UPDATE", ("idempotency_keys", "notification_outbox")),
    ],
    "zhenggai_projector": [
        ("SELECT", LOG),
        ("SELECT, INSERT, UPDATE, DELETE", ("checkpoints", *READ_MODELS)),
    ],
    "zhenggai_dispatcher": [
        ("SELECT", (*LOG, "unit_contacts")),
        ("SELECT, UPDATE", ("notification_outbox",)),
        ("SELECT, INSERT", ("notification_attempts",)),
    ],
    "zhenggai_reader": [
        ("SELECT", (*LOG, "seals", "checkpoints", *READ_MODELS, *DIRECTORY)),
    ],
    "zhenggai_auditor": [
        ("SELECT", (*LOG, "checkpoints")),
        ("SELECT, INSERT, UPDATE", ("seals",)),
    ],
}
ROLES = tuple(GRANTS)
EXECUTES = {"zhenggai_worker": (APPEND,)}

_ALL_TABLES = sorted({t for grants in GRANTS.values() for _, tables in grants for t in tables})


def _roles_array() -> str:
    return "ARRAY[" + ", ".join(f"'{role}'" for role in ROLES) + "]"


def upgrade() -> None:
    # The roles, where missing. A role another database's migration is creating at
    # this moment waits for that transaction, then is found (unique_violation).
    op.execute(
        f"""
        DO $$
        DECLARE
            r text;
        BEGIN
            FOREACH r IN ARRAY {_roles_array()} LOOP
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
                    BEGIN
                        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
                    EXCEPTION WHEN duplicate_object OR unique_violation THEN
                        NULL;
                    END;
                END IF;
                IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r
                           AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb
                                OR rolreplication)) THEN
                    RAISE EXCEPTION 'role % exists with more than a process needs '
                        '(superuser, bypassrls, createrole, createdb or replication)', r
                        USING HINT = 'ALTER ROLE ' || r || ' NOSUPERUSER NOBYPASSRLS '
                            'NOCREATEROLE NOCREATEDB NOREPLICATION, then migrate again';
                END IF;
            END LOOP;
        END
        $$;
        """  # noqa: S608 - constant role names
    )
    # Nobody but the owner creates objects in the schema; the roles may use it. A
    # migrator that does not own the schema cannot change its grants: said, not fatal.
    op.execute(
        f"""
        DO $$
        BEGIN
            EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', current_schema());
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO %s', current_schema(),
                           array_to_string({_roles_array()}, ', '));
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'zhenggai: cannot change the grants of schema %: %',
                current_schema(), SQLERRM;
        END
        $$;
        """
    )
    # Appends only through append_events, which runs as its owner.
    op.execute(
        f"""
        ALTER FUNCTION {APPEND} SECURITY DEFINER;
        DO $$
        BEGIN
            EXECUTE format('ALTER FUNCTION {APPEND} SET search_path = %I, pg_temp',
                           current_schema());
        END
        $$;
        REVOKE ALL ON FUNCTION {APPEND} FROM PUBLIC;
        """
    )
    statements = [f"REVOKE ALL ON TABLE {', '.join(_ALL_TABLES)} FROM PUBLIC, {', '.join(ROLES)}"]
    for role, grants in GRANTS.items():
        for privileges, tables in grants:
            statements.append(f"GRANT {privileges} ON TABLE {', '.join(tables)} TO {role}")
    for role, functions in EXECUTES.items():
        for function in functions:
            statements.append(f"GRANT EXECUTE ON FUNCTION {function} TO {role}")
    op.execute(";\n".join(statements))


def downgrade() -> None:
    # The roles stay: other databases on the server may use them.
    op.execute(
        f"""
        REVOKE ALL ON TABLE {", ".join(_ALL_TABLES)} FROM {", ".join(ROLES)};
        REVOKE ALL ON FUNCTION {APPEND} FROM {", ".join(ROLES)};
        GRANT EXECUTE ON FUNCTION {APPEND} TO PUBLIC;
        ALTER FUNCTION {APPEND} RESET search_path;
        ALTER FUNCTION {APPEND} SECURITY INVOKER;
        DO $$
        BEGIN
            EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM %s', current_schema(),
                           array_to_string({_roles_array()}, ', '));
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;
        END
        $$;
        """
    )
