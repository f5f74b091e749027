"""Waking subscribers without a global lock in the append path.

A transaction that runs NOTIFY takes a database-wide lock at commit and
holds it through its WAL flush, so NOTIFY inside every append would
serialise the commits of all writers. Instead, an append that commits on its
own connection pokes ``Notifier``: a small thread that sends one
``NOTIFY events`` on its own connection, at most once per ``interval``, after
the appends it covers have committed. Subscribers poll as well, so a lost
notification only costs latency.

The first append after a quiet spell is announced at once; under a steady
stream of appends one NOTIFY covers each ``interval`` (50 ms). The NOTIFY
commits without waiting for the WAL flush: each one is a transaction of its
own, and at 5 ms intervals from eight writer processes the flushes cost a
quarter of the append throughput (docs/performance.md).

One notifier per database URL and process; its thread and connection go
away after ``idle`` seconds without appends, and come back on the next one.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import psycopg
from sqlalchemy import Engine

__all__ = ["CHANNEL", "Notifier", "notifier_for"]

CHANNEL = "events"
log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, url: str, *, interval: float = 0.05, idle: float = 2.0) -> None:
        self.url = url
        self.interval = interval
        self.idle = idle
        self._pending = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def poke(self) -> None:
        """Some append has committed: notify soon."""
        self._pending.set()
        if self._thread is not None and self._pid == os.getpid():
            return  # running; it re-checks _pending under the lock before it stops
        with self._lock:
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="zhenggai-notify", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        conn: psycopg.Connection[tuple[object, ...]] | None = None
        try:
            while True:
                while self._pending.wait(self.idle):
                    self._pending.clear()
                    conn = self._notify(conn)
                    time.sleep(self.interval)  # pokes meanwhile share the next NOTIFY
                with self._lock:
                    if not self._pending.is_set():
                        self._thread = None
                        return
        finally:
            if conn is not None:
                conn.close()

    def _notify(
        self, conn: psycopg.Connection[tuple[object, ...]] | None
    ) -> psycopg.Connection[tuple[object, ...]] | None:
        try:
            if conn is None or conn.closed:
                # A lost NOTIFY costs only latency (subscribers poll), so its
                # commit need not wait for the WAL flush.
                conn = psycopg.connect(
                    self.url,
                    autocommit=True,
                    connect_timeout=5,
                    options="-c synchronous_commit=off",
                )
            conn.execute(f"NOTIFY {CHANNEL}")
        except psycopg.Error as exc:  # subscribers poll as well: log and go on
            log.warning("NOTIFY %s failed: %s", CHANNEL, exc)
            if conn is not None:
                conn.close()
            return None
        return conn


_notifiers: dict[str, Notifier] = {}
_notifiers_lock = threading.Lock()


def notifier_for(engine: Engine) -> Notifier:
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with _notifiers_lock:
        found = _notifiers.get(url)
        if found is None:
            found = _notifiers[url] = Notifier(url)
        return found
