"""What `zhenggai projections` (alias: `archive`) and `zhenggai projector` share:
settings, engine, names."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError
from sqlalchemy import Engine

from cli.preflight import UsageProblem
from cli.projections_messages import text
from settings import Settings
from store.engine import check_reachable, make_engine
from store.errors import DatabaseUnreachable
from store.projections.base import Projection
from store.projections.registry import PROJECTIONS

__all__ = ["chosen_projections", "database", "load_settings"]


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise UsageProblem(text("settings_invalid", reason=reasons)) from None


@contextmanager
def database(settings: Settings) -> Iterator[Engine]:
    lang = settings.language
    if not settings.database_url:
        raise UsageProblem(text("no_database_url", lang))
    engine = make_engine(settings.database_url, pool_size=len(PROJECTIONS) + 1)
    try:
        try:
            check_reachable(engine)
        except DatabaseUnreachable as exc:
            raise UsageProblem(text("unreachable", lang, reason=exc)) from exc
        yield engine
    finally:
        engine.dispose()


def chosen_projections(name: str | None, language: str) -> list[Projection]:
    if name is None:
        return list(PROJECTIONS.values())
    if name not in PROJECTIONS:
        known = ", ".join(PROJECTIONS)
        raise UsageProblem(text("unknown_projection", language, name=name, known=known))
    return [PROJECTIONS[name]]
