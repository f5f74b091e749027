"""Reads behind the console's "my to-dos" that the case summary does not hold.

- the open cases of a subtree whose latest extension event is a request (an
  extension waits for the supervisor's decision);
- the seals: how many, and the latest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text

__all__ = ["SealSummary", "cases_awaiting_extension_decision", "seal_summary"]

# The latest extension event of each stream, from the partial index of extension events
# (migration 0017) read backwards: no other event is read, and no open case is looked
# up one by one. Those that are requests wait for a decision.
_AWAITING = text(
    """
    SELECT s.case_id FROM (
        SELECT DISTINCT ON (e.stream_id) e.stream_id, e.type FROM events e
        WHERE e.type IN ('ExtensionRequested', 'ExtensionGranted', 'ExtensionDenied')
        ORDER BY e.stream_id DESC, e.version DESC
    ) last
    JOIN case_summary s ON s.stream_id = last.stream_id
    WHERE last.type = 'ExtensionRequested'
      AND s.status = 'open'
      AND s.unit_id IN (SELECT unit_id FROM units WHERE path LIKE :path)
    ORDER BY s.deadline NULLS LAST, s.case_id
    LIMIT :limit
    """
)


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def cases_awaiting_extension_decision(engine: Engine, unit_path: str, limit: int = 50) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(_AWAITING, {"path": _like_prefix(unit_path), "limit": limit})
        return [str(r[0]) for r in rows]


@dataclass(frozen=True, slots=True)
class SealSummary:
    count: int
    latest_seq: int | None
    latest_at: datetime | None
    latest_event_count: int | None


def seal_summary(engine: Engine) -> SealSummary:
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM seals")).scalar_one()
        row = conn.execute(
            text("SELECT seq, sealed_at, event_count FROM seals ORDER BY seq DESC LIMIT 1")
        ).first()
    if row is None:
        return SealSummary(int(count), None, None, None)
    return SealSummary(int(count), int(row[0]), row[1], int(row[2]))
