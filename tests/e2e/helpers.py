"""Helpers for tests that drive `zhenggai up` as a subprocess and watch its processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path
from types import TracebackType

import httpx

from tests.e2e.test_up_smoke import _env, _zhenggai

__all__ = ["Up", "alive", "kill_all", "live_processes_of", "recorded_pids", "wait_until"]

READY_LINE = "按 Ctrl-C 停止"


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.2
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(interval)


class Up:
    """`zhenggai up` in a subprocess; its stdout collected line by line as it comes."""

    def __init__(self, data_dir: Path, ports: dict[str, str], **env: str) -> None:
        self.data_dir = data_dir
        self.base = f"http://127.0.0.1:{ports['ZHENGGAI_API_PORT']}"
        self.process = subprocess.Popen(
            _zhenggai("up", "--data-dir", str(data_dir)),
            env=_env(**ports, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self._lines)

    def wait_for(self, fragment: str, timeout: float) -> None:
        def seen() -> bool:
            assert fragment in self.output or self.process.poll() is None, self.output
            return fragment in self.output

        wait_until(seen, timeout, f"{fragment!r} in the output of up:\n{self.output}")

    def wait_ready(self, timeout: float = 120) -> None:
        """Ready means this `up` said so and its API answers (not an orphan's)."""
        self.wait_for(READY_LINE, timeout)
        assert httpx.get(f"{self.base}/health", timeout=10).status_code == 200

    def wait_exit(self, timeout: float) -> int:
        try:
            code = self.process.wait(timeout)
        finally:
            self._reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C, as a terminal sends it: SIGINT to `up`."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.wait_exit(timeout)

    def __enter__(self) -> Up:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            try:
                self.interrupt()
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.wait_exit(10)


def recorded_pids(data_dir: Path) -> dict[str, int]:
    """The processes the running `up` lists in its lock file, by name."""
    record = json.loads((data_dir / "up.pid").read_text())
    return {name: int(pid) for name, (pid, _start) in record["processes"].items()}


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"  # a zombie holds nothing


def live_processes_of(data_dir: Path) -> dict[int, str]:
    """Live processes whose command line or environment names ``data_dir``: PostgreSQL
    and Temporal by their arguments, the children of `up` by ZHENGGAI_DATA_DIR."""
    needle = str(data_dir.resolve()).encode()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if (needle in cmdline or needle in environ) and alive(int(entry.name)):
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace")
    return found


def kill_all(pids: Iterable[int]) -> None:
    """Last resort after a failed test: SIGKILL what a killed `up` may have left."""
    for pid in pids:
        if alive(pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
