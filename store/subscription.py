"""Projections fed from the log: batches and checkpoint in one transaction.

A projection named N is a handler ``(conn, events) -> None`` that writes its
own tables through ``conn``. ``Subscription`` reads the events after N's
checkpoint (``store.reading.read_all``: commit-safe order, nothing past a
transaction that is still open), calls the handler, and moves the
checkpoint, all in one transaction: a crash between the two is impossible,
so every event reaches the projection exactly once.

Only one runner per projection at a time: the runner holds a session
advisory lock on its connection (``hashtextextended('projection:' || N, 0)``);
a second one gets ``ProjectionBusy``. While caught up it waits on
``LISTEN events`` (appends NOTIFY, see ``store.notify``) and polls every ``poll_interval``
seconds anyway, which covers missed notifications and events held back by a
transaction that was still open when the notification came.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Engine, text

from store.errors import ProjectionBusy
from store.notify import CHANNEL
from store.reading import Checkpoint, read_all
from store.records import RecordedEvent
from store.upcasting import Upcasters

__all__ = ["Handler", "Subscription", "read_checkpoint"]

Handler = Callable[[Connection, Sequence[RecordedEvent]], None]

_LOCK = "SELECT pg_try_advisory_lock(hashtextextended('projection:' || :name, 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended('projection:' || :name, 0))"
_READ_CHECKPOINT = "SELECT tx_id::text::bigint, position FROM checkpoints WHERE projection = :name"
_WRITE_CHECKPOINT = (
    "INSERT INTO checkpoints (projection, tx_id, position, updated_at) "
    "VALUES (:name, CAST(:tx AS text)::xid8, :position, now()) "
    "ON CONFLICT (projection) DO UPDATE SET tx_id = excluded.tx_id, "
    "position = excluded.position, updated_at = excluded.updated_at"
)


def read_checkpoint(conn: Connection, name: str, *, for_update: bool = False) -> Checkpoint:
    sql = _READ_CHECKPOINT + (" FOR UPDATE" if for_update else "")
    row = conn.execute(text(sql), {"name": name}).first()
    return Checkpoint.START if row is None else Checkpoint(int(row[0]), int(row[1]))


class Subscription:
    def __init__(
        self,
        engine: Engine,
        name: str,
        handler: Handler,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        upcasters: Upcasters | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.engine = engine
        self.name = name
        self.handler = handler
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.upcasters = upcasters

    def checkpoint(self) -> Checkpoint:
        with self.engine.connect() as conn:
            return read_checkpoint(conn, self.name)

    def run_once(self) -> int:
        """Process every event readable now; the number of events processed."""
        with self.engine.connect() as conn:
            self._lock(conn)
            try:
                return self._catch_up(conn)
            finally:
                self._unlock(conn)

    def run(self, stop: threading.Event) -> None:
        """Process, then wait for a notification or the poll interval, until ``stop``."""
        with self.engine.connect() as conn:
            self._lock(conn)
            try:
                conn.execute(text(f"LISTEN {CHANNEL}"))
                conn.commit()
                while not stop.is_set():
                    self._catch_up(conn, stop)
                    if not stop.is_set():
                        self._wait(conn, stop)
            finally:
                if conn.in_transaction():
                    conn.rollback()
                conn.execute(text(f"UNLISTEN {CHANNEL}"))
                conn.commit()
                self._unlock(conn)

    def _lock(self, conn: Connection) -> None:
        got = conn.execute(text(_LOCK), {"name": self.name}).scalar()
        conn.commit()
        if not got:
            raise ProjectionBusy(self.name)

    def _unlock(self, conn: Connection) -> None:
        conn.execute(text(_UNLOCK), {"name": self.name})
        conn.commit()

    def _catch_up(self, conn: Connection, stop: threading.Event | None = None) -> int:
        total = 0
        while stop is None or not stop.is_set():
            with conn.begin():
                after = read_checkpoint(conn, self.name, for_update=True)
                batch = read_all(conn, after, self.batch_size, self.upcasters)
                if not batch:
                    return total
                self.handler(conn, batch)
                last = Checkpoint.after(batch[-1])
                conn.execute(
                    text(_WRITE_CHECKPOINT),
                    {"name": self.name, "tx": str(last.tx_id), "position": last.position},
                )
            total += len(batch)
            if len(batch) < self.batch_size:
                return total
        return total

    def _wait(self, conn: Connection, stop: threading.Event) -> None:
        """Until a notification, the poll interval, or ``stop`` (seen within 0.2 s)."""
        driver = conn.connection.driver_connection
        assert driver is not None
        deadline = time.monotonic() + self.poll_interval
        woken = False
        while not woken and not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            for _ in driver.notifies(timeout=min(remaining, 0.2), stop_after=1):
                woken = True
        for _ in driver.notifies(timeout=0):  # drop the ones that queued meanwhile
            pass
