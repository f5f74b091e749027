"""How far each projection is behind the log, for the API's health view."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine

from store.projections.registry import PROJECTIONS
from store.subscription import read_checkpoint

__all__ = ["ProjectionLag", "projection_lag"]

_CAP = 1_000_000  # counting further than this costs time and tells nothing more


class ProjectionLag(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    checkpoint_tx_id: int
    checkpoint_position: int  # 0: not started
    head_position: int  # the newest event appended (0: empty log)
    events_behind: int  # events after the checkpoint, at most 1,000,000
    behind_capped: bool  # True when there are more than that


def projection_lag(engine: Engine) -> list[ProjectionLag]:
    found = []
    with engine.connect() as conn:
        top = int(
            conn.exec_driver_sql("SELECT COALESCE(max(position), 0) FROM events").scalar_one()
        )
        for name in PROJECTIONS:
            at = read_checkpoint(conn, name)
            behind = int(
                conn.exec_driver_sql(
                    "SELECT count(*) FROM (SELECT 1 FROM events "
                    "WHERE (tx_id, position) > (%s::text::xid8, %s) LIMIT %s) AS later",
                    (str(at.tx_id), at.position, _CAP + 1),
                ).scalar_one()
            )
            found.append(
                ProjectionLag(
                    name=name,
                    checkpoint_tx_id=at.tx_id,
                    checkpoint_position=at.position,
                    head_position=top,
                    events_behind=min(behind, _CAP),
                    behind_capped=behind > _CAP,
                )
            )
    return found
