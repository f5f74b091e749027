"""The database a command works on: DATABASE_URL, else the running embedded one of `up`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, make_url

from cli.messages import text
from cli.preflight import UsageProblem, exit_with
from settings import Settings
from store.engine import check_reachable, make_engine
from store.errors import DatabaseUnreachable

__all__ = ["database_engine", "embedded_url", "resolve_database_url"]


def embedded_url(settings: Settings) -> str | None:
    """The URL of the PostgreSQL that `zhenggai up` runs in the data dir, if it runs."""
    from cli.embedded_postgres import DATABASE

    pid_file = settings.data_dir / "pg" / "postmaster.pid"
    if not pid_file.is_file():
        return None
    lines = pid_file.read_text().splitlines()
    if len(lines) < 5 or not lines[4].strip():
        return None
    socket_dir = lines[4].strip()
    return f"postgresql://postgres@/{DATABASE}?host={socket_dir}"


def resolve_database_url(settings: Settings) -> str:
    url = settings.database_url or embedded_url(settings)
    if url is None:
        raise exit_with(UsageProblem(text("database_url_missing", settings.language)))
    return url


@contextmanager
def database_engine(settings: Settings) -> Iterator[Engine]:
    url = resolve_database_url(settings)
    engine = make_engine(url, pool_size=1)
    try:
        try:
            check_reachable(engine)
        except DatabaseUnreachable as exc:
            shown = make_url(url).render_as_string(hide_password=True)
            raise exit_with(
                UsageProblem(text("database_unreachable", settings.language, url=shown, reason=exc))
            ) from exc
        yield engine
    finally:
        engine.dispose()
