"""PostgreSQL inside the data dir: pgserver's binaries, else initdb/pg_ctl found on PATH."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, text

from store.engine import make_engine

__all__ = ["EmbeddedPostgres", "NoEmbeddedPostgres", "start_embedded_postgres"]

DATABASE = "zhenggai"


class NoEmbeddedPostgres(Exception):
    pass


@dataclass
class EmbeddedPostgres:
    url: str  # of the zhenggai database
    _stop: Any = field(repr=False)

    def stop(self) -> None:
        self._stop()


def start_embedded_postgres(folder: Path) -> EmbeddedPostgres:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from pgserver.postgres_server import get_server
    except ImportError:
        server_url, stop = _start_from_path(folder)
    else:
        server = get_server(folder, cleanup_mode="stop")
        server_url, stop = server.get_uri(), server.cleanup
    return EmbeddedPostgres(_ensure_database(server_url), stop)


def _start_from_path(folder: Path) -> tuple[str, Any]:
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

    def stop() -> None:
        subprocess.run(  # noqa: S603
            [pg_ctl, "-D", str(folder), "-m", "fast", "-w", "stop"],
            check=False,
            capture_output=True,
        )

    return f"postgresql://postgres@/postgres?host={folder}", stop


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
