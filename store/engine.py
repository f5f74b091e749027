"""Engines and reachability checks."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError, OperationalError

from store.errors import DatabaseUnreachable

__all__ = ["PING_AFTER_IDLE_SECONDS", "check_reachable", "make_engine", "sqlalchemy_url"]

# A pooled connection idle longer than this is pinged before use (and replaced when
# the server has gone); one used more recently is handed out as it is. Pinging every
# checkout (SQLAlchemy's pool_pre_ping) cost a round trip per query under load, a
# third of a short read's time. A connection the server dropped within the window
# fails its query once (the API answers 503, and the pool replaces its connections).
PING_AFTER_IDLE_SECONDS = 2.0
_IDLE_SINCE = "zhenggai_idle_since"


def sqlalchemy_url(url: str) -> str:
    """Map a libpq-style URL to SQLAlchemy's psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url!r} (expected postgresql://…)")


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    engine = create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        connect_args={"connect_timeout": 5, "application_name": "zhenggai"},
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)  # None: a new connection
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception:  # any failure of the ping: a dead connection
            alive = False
        if not alive:
            raise DisconnectionError("the pooled connection is gone")  # the pool reconnects


def check_reachable(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnreachable(reason) from exc
