"""Apply the Alembic migrations: the same function in production, `zhenggai up` and tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

__all__ = ["upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade(engine: Engine, revision: str = "heads") -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        # Serialise concurrent migrators (several workers starting at once).
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7244001)")
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
