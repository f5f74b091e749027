"""One running copy of a process kind across all machines: a session advisory lock.

``ExclusiveLock(engine, "dispatcher")`` holds ``hashtextextended('process:dispatcher', 0)``
on a connection of its own while the process works; a second copy's ``try_acquire``
is False and it waits, ready to take over when the first stops or dies (PostgreSQL
drops a session's advisory locks with the session). The projections have their own
lock per projection (``store.subscription``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, text

__all__ = ["ExclusiveLock"]

_TRY = "SELECT pg_try_advisory_lock(hashtextextended('process:' || :name, 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended('process:' || :name, 0))"


class ExclusiveLock:
    def __init__(self, engine: Engine, name: str) -> None:
        self._engine = engine
        self.name = name
        self._conn: Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def try_acquire(self) -> bool:
        """True when this copy now holds the lock (or already did)."""
        if self._conn is not None:
            return True
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(conn.execute(text(_TRY), {"name": self.name}).scalar_one())
        except BaseException:
            conn.invalidate()
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text(_UNLOCK), {"name": self.name})
        except Exception:
            conn.invalidate()  # the session is gone, and its lock with it
        finally:
            conn.close()

    def __enter__(self) -> ExclusiveLock:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
