"""Engines and reachability checks."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from store.errors import DatabaseUnreachable

__all__ = ["check_reachable", "make_engine", "sqlalchemy_url"]


def sqlalchemy_url(url: str) -> str:
    """Map a libpq-style URL to SQLAlchemy's psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url!r} (expected postgresql://…)")


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    return create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5, "application_name": "zhenggai"},
    )


def check_reachable(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnreachable(reason) from exc
