"""Checks that turn a predictable failure into a one-line error and exit code 2.

Also the lock of `zhenggai up` on its data dir, and the means to find and stop
the processes a killed `up` left running.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import time
import uuid
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from cli.messages import text

__all__ = [
    "POSTMASTER",
    "TERMINATE",
    "Recorded",
    "UpLock",
    "UsageProblem",
    "exit_with",
    "port_free",
    "process_cmdline",
    "process_start",
    "require_port",
    "same_process",
    "stop_leftovers",
    "stop_process",
    "writable_dir",
]


class UsageProblem(Exception):
    """Something the user can fix; printed as one line, exit code 2."""


def exit_with(problem: UsageProblem) -> typer.Exit:
    typer.echo(f"zhenggai: {problem}", err=True)
    return typer.Exit(code=2)


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def require_port(host: str, port: int, what: str, env: str, language: str) -> None:
    if not port_free(host, port):
        raise UsageProblem(text("port_in_use", language, port=port, what=what, env=env))


def writable_dir(path: Path, language: str) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageProblem(
            text("data_dir_unwritable", language, path=path, reason=exc.strerror or exc)
        ) from exc
    return path.resolve()


# Processes of `zhenggai up`, and what a killed `up` leaves behind.
#
# A process is named by its pid and its start time (from /proc), so a pid the
# kernel has since given to another program is never signalled. Without /proc
# (macOS) the start time is unknown: liveness is still checked, but processes
# recorded by an earlier `up` are not signalled, since they cannot be verified.

_STEP_WAIT_S = 0.1


def process_start(pid: int) -> str | None:
    """The start time of live process ``pid`` ("" where it cannot be read), None if gone.

    A zombie counts as gone: it holds no port or file, and whoever reaps it is
    not necessarily us (an orphan's parent is init).
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return ""
        return ""
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]  # field 22 of proc_pid_stat(5): starttime, in clock ticks since boot


def process_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def same_process(pid: int, start: str | None) -> bool:
    return start is not None and process_start(pid) == start


def stop_process(
    pid: int, start: str | None, steps: Sequence[tuple[signal.Signals, float]]
) -> bool:
    """Sends each signal in turn and waits up to its time for the process to go.

    For a process that is not our child (an orphan, or the postmaster, which
    pg_ctl detaches); our children are waited on through their Popen instead.
    True once the process is gone (also when it already was).
    """
    for sig, wait in steps:
        if not same_process(pid, start):
            return True
        with suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and same_process(pid, start):
            time.sleep(_STEP_WAIT_S)
    return not same_process(pid, start)


TERMINATE = ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0))
POSTMASTER = ((signal.SIGINT, 30.0), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0))
"""Fast shutdown, then immediate, then kill (see "Shutting Down the Server" in the manual)."""


@dataclass(frozen=True)
class Recorded:
    name: str
    pid: int
    start: str


class UpLock:
    """``<data dir>/up.pid``: locked by the running `up`, listing the processes it started.

    The lock is an flock(2) on the open file, which the kernel drops however
    `up` ends, kill -9 included: a lock we can take is stale, and the processes
    its file still lists are orphans of a killed `up`. The file is rewritten in
    place (not replaced) so that the locked inode stays the one others open.
    """

    def __init__(self, path: Path, fd: int, previous: list[Recorded]) -> None:
        self.path = path
        self._fd = fd
        self.previous = previous
        self._processes: dict[str, Recorded] = {}
        self._write()

    @classmethod
    def acquire(cls, data_dir: Path, language: str) -> UpLock:
        path = data_dir / "up.pid"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_record(fd).get("pid", "?")
            os.close(fd)
            raise UsageProblem(text("up_running", language, path=data_dir, pid=holder)) from None
        previous = [
            Recorded(str(name), int(pid), str(start))
            for name, (pid, start) in _read_record(fd).get("processes", {}).items()
        ]
        return cls(path, fd, previous)

    def record(self, name: str, pid: int) -> None:
        self._processes[name] = Recorded(name, pid, process_start(pid) or "")
        self._write()

    def carry(self, process: Recorded) -> None:
        """Keeps listing a leftover that could not be stopped."""
        self._processes[process.name] = process
        self._write()

    def forget(self, name: str) -> None:
        self._processes.pop(name, None)
        self._write()

    def release(self) -> None:
        """Removes the file unless it still lists processes that could not be stopped:
        then the next `up` finds them."""
        if not self._processes:
            self.path.unlink(missing_ok=True)
        os.close(self._fd)

    def _write(self) -> None:
        record = {
            "pid": os.getpid(),
            "start": process_start(os.getpid()) or "",
            "processes": {p.name: [p.pid, p.start] for p in self._processes.values()},
        }
        data = json.dumps(record, ensure_ascii=False).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)


def _read_record(fd: int) -> dict[str, Any]:
    try:
        raw = os.pread(fd, 1 << 16, 0)
        record = json.loads(raw) if raw.strip() else {}
    except (OSError, ValueError):
        return {}  # a record cut short by a kill is no record
    return record if isinstance(record, dict) else {}


def stop_leftovers(previous: list[Recorded]) -> tuple[list[Recorded], list[Recorded]]:
    """Stops what a killed `up` left running: (stopped, still running).

    Children and Temporal first, together (each only needs a SIGTERM); the
    postmaster last, since they are its clients.
    """
    alive = [p for p in previous if p.start and same_process(p.pid, p.start)]
    first = [p for p in alive if p.name != "postgres"]
    for p in first:
        with suppress(ProcessLookupError):
            os.kill(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline and any(same_process(p.pid, p.start) for p in first):
        time.sleep(_STEP_WAIT_S)
    for p in first:
        stop_process(p.pid, p.start, ((signal.SIGKILL, 5.0),))
    for p in alive:
        if p.name == "postgres":
            stop_process(p.pid, p.start, POSTMASTER)
    stuck = [p for p in alive if same_process(p.pid, p.start)]
    return [p for p in alive if p not in stuck], stuck
