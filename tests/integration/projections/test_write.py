"""Rows a build worker encodes in COPY's binary form read back as written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine

from store.projections.write import binary_rows, copy_binary

pytestmark = pytest.mark.integration


def test_binary_rows_read_back_as_the_values_written(engine: Engine) -> None:
    cst = timezone(timedelta(hours=8))
    moment = datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=cst)
    rows = [
        ("C-1", "2025", moment, '{"a":"中文 \\" \\\\ \\n"}'),
        ("C-1", "2025-Q1", moment, "tab\tnew\nline"),  # the same datetime object again
        ("C-2", "1999", datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), ""),
        ("C-3", None, datetime(2000, 1, 1, tzinfo=UTC) - timedelta(microseconds=1), "x"),
    ]
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TEMP TABLE binary_rows_check "
            "(cadre_id text, period text, as_of timestamptz, document text)"
        )
        copy_binary(conn, "binary_rows_check", ("cadre_id", "period", "as_of", "document"), b"")
        copy_binary(
            conn,
            "binary_rows_check",
            ("cadre_id", "period", "as_of", "document"),
            binary_rows(rows),
        )
        back = conn.exec_driver_sql(
            "SELECT cadre_id, period, as_of, document FROM binary_rows_check "
            "ORDER BY cadre_id, period"
        ).all()
        conn.exec_driver_sql("DROP TABLE binary_rows_check")
    assert [tuple(r) for r in back] == rows


def test_binary_rows_refuse_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        binary_rows([("x", datetime(2025, 1, 1))])
