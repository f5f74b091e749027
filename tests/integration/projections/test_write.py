"""Rows a build worker encodes in COPY's binary form read back as written."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from domain.vocabulary import CaseStatus
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


_COLUMNS = ("n", "title", "sources", "level", "overdue", "deadline", "at")
# Any text PostgreSQL stores, and what COPY's text form or an array literal would have
# to escape: tabs, newlines, backslashes, quotes, braces, commas, what reads like a null.
_texts = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=30,
) | st.sampled_from(["\\N", "\\.", "NULL", '{"a",b}', "\t\n\r\\", "", " "])
_moments = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3))]),
)
_rows = st.lists(
    st.tuples(
        _texts,
        st.lists(_texts, max_size=4),
        st.integers(-(2**31), 2**31 - 1) | st.none(),
        st.booleans(),
        st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)) | st.none(),
        _moments | st.none(),
    ),
    max_size=6,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=_rows)
def test_binary_rows_of_every_column_type_read_back_as_written(
    engine: Engine, rows: list[tuple[Any, ...]]
) -> None:
    numbered = [(n, *row) for n, row in enumerate(rows)]
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TEMP TABLE typed_rows_check (n integer, title text, sources text[], "
            "level integer, overdue boolean, deadline date, at timestamptz)"
        )
        try:
            copy_binary(conn, "typed_rows_check", _COLUMNS, binary_rows(numbered))
            back = conn.exec_driver_sql("SELECT * FROM typed_rows_check ORDER BY n").all()
        finally:
            conn.exec_driver_sql("DROP TABLE typed_rows_check")
    assert [(r[0], r[1], tuple(r[2]), *r[3:]) for r in back] == [
        (n, title, tuple(sources), *rest) for n, title, sources, *rest in numbered
    ]


def test_binary_rows_write_an_enum_as_its_value_and_refuse_what_they_cannot_write(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TEMP TABLE enum_rows_check (status text, sources text[])")
        rows = binary_rows([(CaseStatus.CLOSED, [CaseStatus.OPEN])])
        copy_binary(conn, "enum_rows_check", ("status", "sources"), rows)
        back = conn.exec_driver_sql("SELECT status, sources FROM enum_rows_check").one()
        conn.exec_driver_sql("DROP TABLE enum_rows_check")
    assert tuple(back) == ("closed", ["open"])
    with pytest.raises(TypeError, match="arrays of text"):
        binary_rows([(["a", 1],)])
    with pytest.raises(TypeError, match="no binary COPY form for float"):
        binary_rows([(1.5,)])
    with pytest.raises(ValueError, match="does not fit an integer column"):
        binary_rows([(2**31,)])
    assert binary_rows([]) == b""
