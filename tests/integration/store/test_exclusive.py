"""store.exclusive: one copy of a process kind works; the next waits and takes over."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine

from store.exclusive import ExclusiveLock

pytestmark = pytest.mark.integration


def test_a_second_copy_waits_until_the_first_lets_go(engine: Engine) -> None:
    first, second = ExclusiveLock(engine, "dispatcher"), ExclusiveLock(engine, "dispatcher")
    other = ExclusiveLock(engine, "another-kind")
    assert first.try_acquire()
    assert first.try_acquire()  # held already
    assert not second.try_acquire()
    assert other.try_acquire()  # locks of other kinds are separate
    first.release()
    assert second.try_acquire()
    assert not first.try_acquire()
    with second, other:
        pass
    assert not second.held
    assert first.try_acquire()
    first.release()


def test_a_lost_session_frees_the_lock(engine: Engine) -> None:
    first, second = ExclusiveLock(engine, "projector-x"), ExclusiveLock(engine, "projector-x")
    assert first.try_acquire()
    assert first._conn is not None
    first._conn.invalidate()  # as if its connection died: the server ends the session
    first._conn = None
    # The server notices the closed socket on its own time (slower on a busy machine):
    # the standby takes over within seconds, not at once.
    deadline = time.monotonic() + 10
    while not second.try_acquire():
        assert time.monotonic() < deadline, "the lost session's lock was never freed"
        time.sleep(0.05)
    second.release()
