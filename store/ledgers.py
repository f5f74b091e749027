"""What the ledgers (整改台账) read besides the case summary: which cases exist, and the
latest text of each case's plan, progress, target and finding, for a page of cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

__all__ = ["LedgerDetails", "existing_streams", "ledger_details"]

# The events whose latest instance a ledger row shows.
_TYPES = (
    "FindingRecorded",
    "CaseOpened",
    "TargetSet",
    "PlanSubmitted",
    "ProgressReported",
    "ExtensionRequested",
    "ClosureRejected",
    "CaseClosed",
    "CaseEscalated",
)


@dataclass
class LedgerDetails:
    severity: str | None = None
    target: str = ""
    plan: str = ""
    progress: str = ""
    progress_percent: int | None = None
    next_steps: str = ""  # the last extension request's or rejection's reason
    closed_at: datetime | None = None
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)  # type -> data


def existing_streams(engine: Engine, stream_ids: Sequence[str]) -> set[str]:
    if not stream_ids:
        return set()
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT stream_id FROM streams WHERE stream_id = ANY(:ids)"),
            {"ids": list(stream_ids)},
        )
        return {r[0] for r in rows}


def ledger_details(engine: Engine, stream_ids: Sequence[str]) -> dict[str, LedgerDetails]:
    """For each stream, the data of the latest event of each type a ledger shows."""
    found: dict[str, LedgerDetails] = {s: LedgerDetails() for s in stream_ids}
    if not stream_ids:
        return found
    sql = (
        "SELECT DISTINCT ON (stream_id, type) stream_id, type, data, recorded_at FROM events "
        "WHERE stream_id = ANY(:ids) AND type = ANY(:types) "
        "ORDER BY stream_id, type, version DESC"
    )
    with engine.connect() as conn:
        rows = conn.execute(text(sql), {"ids": list(stream_ids), "types": list(_TYPES)})
        for stream_id, kind, data, recorded_at in rows:
            details = found[stream_id]
            details.latest[kind] = {**data, "_recorded_at": recorded_at}
    for details in found.values():
        latest = details.latest
        details.severity = latest.get("FindingRecorded", {}).get("severity")
        details.target = str(
            latest.get("TargetSet", {}).get("target")
            or latest.get("CaseOpened", {}).get("target")
            or ""
        )
        details.plan = str(latest.get("PlanSubmitted", {}).get("plan") or "")
        progress = latest.get("ProgressReported", {})
        details.progress = str(progress.get("text") or "")
        details.progress_percent = progress.get("percent_complete")
        reasons = [
            (latest[k]["_recorded_at"], str(latest[k].get("reason") or ""))
            for k in ("ExtensionRequested", "ClosureRejected")
            if k in latest
        ]
        if reasons:
            details.next_steps = max(reasons)[1]
        closed = latest.get("CaseClosed")
        details.closed_at = None if closed is None else closed["_recorded_at"]
    return found
