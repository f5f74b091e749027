"""The directory: units (a tree) and cadres. An admin creates them, one or many at a
time, all or nothing; everyone reads them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from application.access import ensure_role
from application.caller import Caller
from application.errors import Refusal
from application.idempotency import claim_key
from application.models import CadreIn, CadreOut, UnitIn, UnitOut
from application.services import Services
from domain.policy import PolicyBook
from domain.vocabulary import Role
from store.directory import Cadre, CadreMatch, DirectoryError, Unit

__all__ = [
    "CHOICES_SHOWN",
    "CadreChoice",
    "add_cadres",
    "add_units",
    "cadre_choices",
    "cadres_of",
    "search_text",
    "subtree_of",
    "unit_choices",
    "unit_name",
    "unit_names",
]

CHOICES_SHOWN = 20  # the matches a search offers
QUERY_MAX = 100  # characters of a search kept (no name is longer)


_MESSAGES = {
    "unit_exists": ("单位已存在", 409),
    "cadre_exists": ("干部已存在", 409),
    "parent_not_found": ("上级单位不存在", 422),
    "unit_not_found": ("单位不存在", 422),
}


def _refusal(error: DirectoryError) -> Refusal:
    zh, status = _MESSAGES.get(error.code, ("目录数据有误", 422))
    return Refusal(status, error.code, f"{zh}：{error}", str(error))


def _unit_out(unit: Unit) -> UnitOut:
    return UnitOut(
        unit_id=unit.unit_id,
        name=unit.name,
        parent_id=unit.parent_id,
        path=unit.path,
        unit_class=unit.unit_class,
    )


def _check_classes(book: PolicyBook, units: list[UnitIn]) -> None:
    """A unit's class must be one the policy file defines: a typo would silently give
    the unit the base rules."""
    unknown = sorted(
        {u.unit_class for u in units if u.unit_class and not book.knows_class(u.unit_class)}
    )
    if unknown:
        known = ", ".join(sorted(book.classes)) or "-"
        raise Refusal(
            422,
            "unit_class_unknown",
            f"策略文件中没有单位类别 {', '.join(unknown)}（已定义：{known}）",
            f"the policy file defines no unit class {', '.join(unknown)} (defined: {known})",
            errors=[{"field": "body.class", "message": "unknown unit class"}],
        )


def _cadre_out(cadre: Cadre) -> CadreOut:
    return CadreOut(
        cadre_id=cadre.cadre_id, name=cadre.name, unit_id=cadre.unit_id, post=cadre.post
    )


async def add_units(
    services: Services, caller: Caller, units: list[UnitIn], idempotency_key: str | None
) -> list[UnitOut]:
    """Parents before children; all or nothing. A repeated key answers with the units."""
    ensure_role(caller.actor, Role.ADMIN)
    directory = services.directory
    if idempotency_key is not None:
        body = [u.model_dump(mode="json") for u in units]
        claim = await claim_key(services.keys, caller, "units", idempotency_key, body, "units")
        found = [await asyncio.to_thread(directory.unit, u.unit_id) for u in units]
        if claim.replay and all(found):
            return [_unit_out(u) for u in found if u is not None]
    _check_classes(services.policy, units)
    rows = [(u.unit_id, u.name, u.parent_id, u.unit_class) for u in units]
    try:
        created = await asyncio.to_thread(directory.add_units, rows)
    except DirectoryError as exc:
        raise _refusal(exc) from exc
    return [_unit_out(u) for u in created]


async def subtree_of(services: Services, unit_id: str) -> list[UnitOut]:
    units = await asyncio.to_thread(services.directory.subtree, unit_id)
    if not units:
        raise Refusal(404, "unit_not_found", f"单位 {unit_id} 不存在", f"no unit {unit_id}")
    return [_unit_out(u) for u in units]


async def add_cadres(
    services: Services, caller: Caller, cadres: list[CadreIn], idempotency_key: str | None
) -> list[CadreOut]:
    """With their current post and unit; all or nothing."""
    ensure_role(caller.actor, Role.ADMIN)
    directory = services.directory
    if idempotency_key is not None:
        body = [c.model_dump(mode="json") for c in cadres]
        claim = await claim_key(services.keys, caller, "cadres", idempotency_key, body, "cadres")
        found = [await asyncio.to_thread(directory.cadre, c.cadre_id) for c in cadres]
        if claim.replay and all(found):
            return [_cadre_out(c) for c in found if c is not None]
    rows = [(c.cadre_id, c.name, c.unit_id, c.post) for c in cadres]
    try:
        created = await asyncio.to_thread(directory.add_cadres, rows)
    except DirectoryError as exc:
        raise _refusal(exc) from exc
    return [_cadre_out(c) for c in created]


async def cadres_of(services: Services, unit_id: str | None) -> list[CadreOut]:
    return [_cadre_out(c) for c in await asyncio.to_thread(services.directory.cadres, unit_id)]


async def unit_name(services: Services, unit_id: str) -> str:
    """The unit's name (its id when there is no such unit)."""
    unit = await asyncio.to_thread(services.directory.unit, unit_id)
    return unit_id if unit is None else unit.name


async def unit_names(services: Services) -> dict[str, str]:
    """Every unit's name by its id."""
    return {u.unit_id: u.name for u in await asyncio.to_thread(services.directory.all_units)}


async def unit_names_in_scope(services: Services, caller: Caller) -> dict[str, str]:
    """The units a person may choose (their subtree; every unit for a person of no
    unit), by id, with their names, in the tree's order."""
    root = caller.actor.unit_id
    if root:
        return {u.unit_id: u.name for u in await subtree_of(services, root)}
    return await unit_names(services)


@dataclass(frozen=True, slots=True)
class CadreChoice:
    """A cadre a form offers, with their unit's name."""

    cadre_id: str
    name: str
    unit_id: str
    unit_name: str
    post: str


def _choice(found: CadreMatch) -> CadreChoice:
    c = found.cadre
    return CadreChoice(c.cadre_id, c.name, c.unit_id, found.unit_name, c.post)


def search_text(query: str) -> str:
    """What a search box sent, as it is searched for: trimmed, without control
    characters (PostgreSQL refuses NUL), at most ``QUERY_MAX`` characters."""
    kept = "".join(ch for ch in query if ch.isprintable() or ch == " ")
    return kept.strip()[:QUERY_MAX]


async def unit_choices(
    services: Services, caller: Caller, query: str = "", *, limit: int = CHOICES_SHOWN
) -> list[UnitOut]:
    """The units a supervisor may hand a case to (their subtree; every unit for a
    person of no unit) whose name contains ``query`` (case, width and blanks ignored),
    those beginning with it first, then in the tree's order; at most ``limit`` (ask
    for one more than a list may hold to learn whether it is longer)."""
    ensure_role(caller.actor, Role.SUPERVISOR)
    root = caller.actor.unit_id or None
    found = await asyncio.to_thread(services.directory.find_units, root, search_text(query), limit)
    return [_unit_out(u) for u in found]


async def cadre_choices(
    services: Services,
    caller: Caller,
    query: str = "",
    *,
    first_unit: str | None = None,
    limit: int = CHOICES_SHOWN,
) -> list[CadreChoice]:
    """The cadres a supervisor may make responsible (those of their subtree's units;
    every cadre for a person of no unit) whose name contains ``query``: ``first_unit``'s
    (the case's unit) first, then those whose name begins with it, then by unit and
    name; at most ``limit``. Filtered in the database, never all cadres read."""
    ensure_role(caller.actor, Role.SUPERVISOR)
    root = caller.actor.unit_id or None
    found = await asyncio.to_thread(
        services.directory.find_cadres, root, search_text(query), first_unit, limit
    )
    return [_choice(c) for c in found]
