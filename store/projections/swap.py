"""Shared steps of rebuild and check: copy a projection's tables, defer their indexes,
lock and write checkpoints, catch up.

The live runner's batch transaction locks its checkpoint row first
(``SELECT … FOR UPDATE``) and then writes its tables; ``lock_checkpoint``
takes the same row lock first, so a swap or a comparison waits for the batch
in flight and the runner waits for them, with no deadlock.
"""

from __future__ import annotations

from sqlalchemy import Connection

from store.projections.base import Projection
from store.reading import Checkpoint, read_all
from store.subscription import read_checkpoint

__all__ = [
    "catch_up",
    "copy_grants",
    "copy_tables",
    "defer_indexes",
    "lock_checkpoint",
    "write_checkpoint",
]

_ENSURE = (
    "INSERT INTO checkpoints (projection, tx_id, position, updated_at) "
    "VALUES (%s, '0'::xid8, 0, now()) ON CONFLICT (projection) DO NOTHING"
)
_WRITE = (
    "UPDATE checkpoints SET tx_id = %s::text::xid8, position = %s, updated_at = now() "
    "WHERE projection = %s"
)


def copy_tables(conn: Connection, projection: Projection, suffix: str, *, temp: bool) -> None:
    """Empty copies ``<table><suffix>`` of the live tables, with their indexes, their
    columns' storage and their storage options (which ``LIKE`` leaves out)."""
    for table in projection.tables:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}{suffix}")
        kind = "TEMP TABLE" if temp else "TABLE"
        options = conn.exec_driver_sql(
            "SELECT array_to_string(reloptions, ', ') FROM pg_class WHERE oid = %s::regclass",
            (table,),
        ).scalar()
        kept = f" WITH ({options})" if options else ""
        conn.exec_driver_sql(f"CREATE {kind} {table}{suffix} (LIKE {table} INCLUDING ALL){kept}")
        if not temp:  # swapped in for the live table: the processes' roles keep their grants
            copy_grants(conn, table, f"{table}{suffix}")


_GRANTS = (
    "SELECT a.privilege_type, CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
    "ELSE quote_ident(r.rolname) END "
    "FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a "
    "LEFT JOIN pg_roles r ON r.oid = a.grantee "
    "WHERE c.oid = %s::regclass AND a.grantee <> c.relowner ORDER BY 2, 1"
)


def copy_grants(conn: Connection, source: str, target: str) -> None:
    """Grant on ``target`` what others than its owner hold on ``source`` (``LIKE``
    copies no privileges; migration 0011 grants the read models to the projector,
    the API and readers)."""
    for privilege, grantee in conn.exec_driver_sql(_GRANTS, (source,)).all():
        conn.exec_driver_sql(f"GRANT {privilege} ON TABLE {target} TO {grantee}")


def defer_indexes(conn: Connection, table: str) -> list[str]:
    """Drop the (empty) copy's indexes other than its primary key and unique
    constraints, and give back their definitions, for the build to make them once its
    rows are written: building an index once from all the rows costs a fraction of
    keeping it up to date row by row (an index on stream ids takes them in random
    order)."""
    found = conn.exec_driver_sql(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
        "WHERE indrelid = %s::regclass AND NOT indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
        "ORDER BY indexrelid",
        (table,),
    ).all()
    for name, _ in found:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    return [definition for _, definition in found]


def lock_checkpoint(conn: Connection, name: str) -> Checkpoint:
    conn.exec_driver_sql(_ENSURE, (name,))
    return read_checkpoint(conn, name, for_update=True)


def write_checkpoint(conn: Connection, name: str, checkpoint: Checkpoint) -> None:
    conn.exec_driver_sql(_WRITE, (str(checkpoint.tx_id), checkpoint.position, name))


def catch_up(
    conn: Connection,
    projection: Projection,
    suffix: str,
    start: Checkpoint,
    end: Checkpoint,
    *,
    batch_size: int = 2000,
) -> int:
    """Apply the events after ``start`` up to ``end`` to the copy; how many there were."""
    after, total = start, 0
    while after < end:
        batch = [e for e in read_all(conn, after, batch_size) if Checkpoint.after(e) <= end]
        if not batch:
            break
        projection.apply(conn, suffix, batch, Checkpoint.after(batch[-1]))
        after = Checkpoint.after(batch[-1])
        total += len(batch)
    return total
