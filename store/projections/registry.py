"""The projections by name, in the order they are run, rebuilt and checked."""

from __future__ import annotations

from store.projections import cadre_archive, case_summary, unit_board
from store.projections.base import Projection

__all__ = ["PROJECTIONS", "UnknownProjection", "projection"]

PROJECTIONS: dict[str, Projection] = {
    p.name: p for p in (case_summary.PROJECTION, unit_board.PROJECTION, cadre_archive.PROJECTION)
}


class UnknownProjection(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def projection(name: str) -> Projection:
    try:
        return PROJECTIONS[name]
    except KeyError:
        raise UnknownProjection(name) from None
