"""Writing a projection's rows: COPY, the cheapest way into PostgreSQL for a build's
many rows, and as good as an INSERT for a batch's few."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection

__all__ = ["copy_rows"]


def copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Append ``rows`` (tuples in ``columns`` order) to ``table`` in the connection's
    transaction."""
    driver = conn.connection.driver_connection
    assert driver is not None
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
