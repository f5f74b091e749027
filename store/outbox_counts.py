"""The notification outbox counted by status and channel, for the dispatcher's metrics."""

from __future__ import annotations

from sqlalchemy import Engine, text

__all__ = ["oldest_due_seconds", "outbox_counts"]


def outbox_counts(engine: Engine) -> list[tuple[str, str, int]]:
    """(status, channel, rows): pending, sent (delivered), dead, cancelled."""
    sql = (
        "SELECT status, COALESCE(channel, 'none'), count(*) FROM notification_outbox "
        "GROUP BY 1, 2 ORDER BY 1, 2"
    )
    with engine.connect() as conn:
        rows = conn.execute(text(sql)).all()
    return [(str(status), str(channel), int(n)) for status, channel, n in rows]


def oldest_due_seconds(engine: Engine) -> float:
    """How long the oldest pending row has been due (0: none is due)."""
    sql = (
        "SELECT COALESCE(EXTRACT(epoch FROM now() - min(next_attempt_at)), 0) "
        "FROM notification_outbox WHERE status = 'pending' AND next_attempt_at <= now()"
    )
    with engine.connect() as conn:
        return max(0.0, float(conn.execute(text(sql)).scalar_one()))
