"""PostgreSQL for tests: the server from ZHENGGAI_TEST_DATABASE_URL, or pgserver in a temp folder.

Each test module gets a fresh database on that server, migrated with the
production migration code, and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url, text

from store.engine import make_engine
from store.migrate import upgrade


def server_url(tmp_root: Path) -> Iterator[str]:
    configured = os.environ.get("ZHENGGAI_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    from pgserver.postgres_server import get_server

    server = get_server(tmp_root / "pgdata", cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@contextmanager
def fresh_database(url: str, *, migrate: bool = True) -> Iterator[str]:
    name = f"zg_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url, pool_size=1)
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        database_url = make_url(url).set(database=name).render_as_string(hide_password=False)
        if migrate:
            engine = make_engine(database_url, pool_size=1)
            try:
                upgrade(engine)
            finally:
                engine.dispose()
        yield database_url
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
