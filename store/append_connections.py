"""Autocommit connections for appends that commit on their own.

An append is one statement, so it needs neither a transaction nor the
general pool's machinery: SQLAlchemy's checkout, pre-ping round trip and
reset-on-return cost about as much client CPU as the append itself. These
connections are plain psycopg in autocommit. No pre-ping: an append that
finds its connection broken is retried once on a new one, which is safe
because appends are idempotent (a repeat is recognised and written once).

Idle connections are closed when the owner goes away (``weakref.finalize``)
or by ``close``.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Engine

__all__ = ["AppendConnections"]

T = TypeVar("T")
Driver = psycopg.Connection[Any]


_inherited: list[Driver] = []


def _close_all(idle: list[Driver]) -> None:
    while idle:
        idle.pop().close()


class AppendConnections:
    def __init__(self, engine: Engine, *, keep: int = 4) -> None:
        self._url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._keep = keep
        self._idle: list[Driver] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        weakref.finalize(self, _close_all, self._idle)

    def run(self, work: Callable[[Driver], T]) -> T:
        """``work`` on an idle connection; once more on a new one if the first
        turned out to be broken (the server restarted, the network dropped)."""
        conn = self._take()
        try:
            result = work(conn)
        except psycopg.OperationalError:
            if not conn.closed:  # an error of the statement, not of the connection
                self._give_back(conn)
                raise
            conn = self._connect()
            try:
                result = work(conn)
            finally:
                self._give_back(conn)
            return result
        except BaseException:
            self._give_back(conn)  # kept only if it is still idle and open
            raise
        self._give_back(conn)
        return result

    def close(self) -> None:
        with self._lock:
            _close_all(self._idle)

    def _take(self) -> Driver:
        with self._lock:
            if self._pid != os.getpid():
                # A forked child must neither use nor close the parent's
                # sockets (closing would end the parent's sessions): leave them be.
                _inherited.extend(self._idle)
                self._idle.clear()
                self._pid = os.getpid()
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _connect(self) -> Driver:
        return psycopg.connect(
            self._url, autocommit=True, connect_timeout=5, application_name="zhenggai"
        )

    def _give_back(self, conn: Driver) -> None:
        idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with self._lock:
            if idle and not conn.closed and len(self._idle) < self._keep:
                self._idle.append(conn)
                return
        conn.close()
