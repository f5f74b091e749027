"""Counts of the open cases in the case summary, for the API's metrics."""

from __future__ import annotations

from sqlalchemy import Engine, text

__all__ = ["open_case_counts"]


def open_case_counts(engine: Engine) -> list[tuple[str, int, int]]:
    """(light, escalation level, cases) of the cases still being worked on (open, or
    closure pending)."""
    sql = (
        "SELECT light, escalation_level, count(*) FROM case_summary "
        "WHERE status IN ('open', 'closure_pending') GROUP BY 1, 2 ORDER BY 1, 2"
    )
    with engine.connect() as conn:
        rows = conn.execute(text(sql)).all()
    return [(str(light), int(level), int(n)) for light, level, n in rows]
