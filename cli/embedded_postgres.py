"""PostgreSQL inside the data dir: pgserver's binaries, else initdb/pg_ctl found on PATH.

The postmaster is stopped by signals to its pid (fast shutdown), not through
pgserver's handle count: that count lives in a file (`.handle_pids.json`)
which keeps the pid of a killed `up`, after which pgserver never stops the
server again. `zhenggai up` holds the data dir's lock, so any postmaster found
running on the folder at start is an orphan of a killed `up`.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url, text

from cli.preflight import POSTMASTER, process_cmdline, process_start, stop_process
from store.engine import make_engine

__all__ = [
    "EmbeddedPostgres",
    "NoEmbeddedPostgres",
    "postmaster_pid",
    "start_embedded_postgres",
    "stop_orphan_postmaster",
]

DATABASE = "zhenggai"


class NoEmbeddedPostgres(Exception):
    pass


@dataclass
class EmbeddedPostgres:
    url: str  # of the zhenggai database
    pid: int  # of the postmaster
    start: str | None

    def stop(self) -> bool:
        """True once the postmaster (and so every backend) is gone."""
        return stop_process(self.pid, self.start, POSTMASTER)


def postmaster_pid(folder: Path) -> int | None:
    try:
        return int((folder / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _is_postmaster_of(pid: int, folder: Path) -> bool:
    args = process_cmdline(pid)
    if not args or Path(args[0]).name != "postgres":
        return False
    try:
        if Path(f"/proc/{pid}/cwd").resolve() == folder.resolve():  # postgres chdirs to its data
            return True
    except OSError:
        pass
    return str(folder.resolve()) in args


def stop_orphan_postmaster(folder: Path) -> tuple[int, bool] | None:
    """Deals with a postmaster.pid left by a killed `up`: (pid, stopped) of a postmaster
    still running on ``folder``; None when there was none.

    A pid file whose pid now belongs to another program is removed, since pgserver
    would take that live pid for a running server, but only when no process
    still works in the folder (the file guards against two servers on one data
    dir). A pid file whose process is gone is left to PostgreSQL, which checks
    it itself at start.
    """
    pid = postmaster_pid(folder)
    if pid is None:
        return None
    start = process_start(pid)
    if start is not None and _is_postmaster_of(pid, folder):
        return pid, stop_process(pid, start, POSTMASTER)
    if start is not None and process_cmdline(pid) and not _anyone_in(folder):
        (folder / "postmaster.pid").unlink(missing_ok=True)
    return None


def _anyone_in(folder: Path) -> bool:
    """Whether a process (a backend that outlived its postmaster) works in ``folder``."""
    target = folder.resolve()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if (entry / "cwd").resolve(strict=True) == target:
                return True
        except OSError:
            continue
    return False


def start_embedded_postgres(folder: Path) -> EmbeddedPostgres:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from pgserver.postgres_server import get_server
    except ImportError:
        server_url = _start_from_path(folder)
    else:
        # Only this `up` holds a handle (it has the data dir's lock): forget those of
        # earlier ones, and stop the server ourselves (cleanup_mode=None).
        (folder / ".handle_pids.json").unlink(missing_ok=True)
        server_url = get_server(folder, cleanup_mode=None).get_uri()
    pid = postmaster_pid(folder)
    assert pid is not None, "a running postmaster writes postmaster.pid"
    postgres = EmbeddedPostgres(server_url, pid, process_start(pid))
    try:
        postgres.url = _ensure_database(server_url)
    except BaseException:
        postgres.stop()
        raise
    return postgres


def _start_from_path(folder: Path) -> str:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        raise NoEmbeddedPostgres
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "PG_VERSION").exists():
        subprocess.run(  # noqa: S603 - binaries found on PATH, arguments are ours
            [initdb, "-D", str(folder), "-U", "postgres", "--auth=trust", "--encoding=UTF8"],
            check=True,
            capture_output=True,
        )
    options = f"-k {folder} -c listen_addresses=''"
    subprocess.run(  # noqa: S603
        [pg_ctl, "-D", str(folder), "-o", options, "-l", str(folder / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    return f"postgresql://postgres@/postgres?host={folder}"


def _ensure_database(server_url: str) -> str:
    admin = make_engine(server_url, pool_size=1)
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": DATABASE}
            ).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    finally:
        admin.dispose()
    return make_url(server_url).set(database=DATABASE).render_as_string(hide_password=False)
