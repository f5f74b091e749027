"""Units (a tree) and cadres: created by an admin, one at a time or in bulk; read by all."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from api.auth import CurrentActor, require_roles
from api.deps import Idempotency, Units
from api.idempotency import IdempotencyKey, claim_key
from api.models import ID_PATTERN, CadreIn, CadreOut, UnitIn, UnitOut
from api.problems import Problem
from domain.policy import PolicyBook
from domain.vocabulary import Actor, Role
from store.directory import Cadre, DirectoryError, Unit

__all__ = ["router"]

router = APIRouter(tags=["directory"])
Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]

_MESSAGES = {
    "unit_exists": ("单位已存在", 409),
    "cadre_exists": ("干部已存在", 409),
    "parent_not_found": ("上级单位不存在", 422),
    "unit_not_found": ("单位不存在", 422),
}


def _problem(error: DirectoryError) -> Problem:
    zh, status = _MESSAGES.get(error.code, ("目录数据有误", 422))
    return Problem(status, error.code, f"{zh}：{error}", str(error))


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
        raise Problem(
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


@router.post("/units", status_code=201, response_model=list[UnitOut], summary="Create units")
async def create_units(
    units: list[UnitIn],
    request: Request,
    directory: Units,
    keys: Idempotency,
    admin: Admin,
    idempotency_key: IdempotencyKey = None,
) -> list[UnitOut]:
    """One or many units, parents before children; all or nothing."""
    if idempotency_key is not None:
        body = [u.model_dump(mode="json") for u in units]
        claim = await claim_key(keys, request, "units", idempotency_key, body, "units")
        found = [await asyncio.to_thread(directory.unit, u.unit_id) for u in units]
        if claim.replay and all(found):
            return [_unit_out(u) for u in found if u is not None]
    _check_classes(request.app.state.policy, units)
    rows = [(u.unit_id, u.name, u.parent_id, u.unit_class) for u in units]
    try:
        created = await asyncio.to_thread(directory.add_units, rows)
    except DirectoryError as exc:
        raise _problem(exc) from exc
    return [_unit_out(u) for u in created]


@router.get("/units/{unit_id}/subtree", response_model=list[UnitOut], summary="A unit's subtree")
async def unit_subtree(
    directory: Units, actor: CurrentActor, unit_id: str = Path(pattern=ID_PATTERN)
) -> list[UnitOut]:
    units = await asyncio.to_thread(directory.subtree, unit_id)
    if not units:
        raise Problem(404, "unit_not_found", f"单位 {unit_id} 不存在", f"no unit {unit_id}")
    return [_unit_out(u) for u in units]


@router.post("/cadres", status_code=201, response_model=list[CadreOut], summary="Create cadres")
async def create_cadres(
    cadres: list[CadreIn],
    request: Request,
    directory: Units,
    keys: Idempotency,
    admin: Admin,
    idempotency_key: IdempotencyKey = None,
) -> list[CadreOut]:
    """One or many cadres with their current post and unit; all or nothing."""
    if idempotency_key is not None:
        body = [c.model_dump(mode="json") for c in cadres]
        claim = await claim_key(keys, request, "cadres", idempotency_key, body, "cadres")
        found = [await asyncio.to_thread(directory.cadre, c.cadre_id) for c in cadres]
        if claim.replay and all(found):
            return [_cadre_out(c) for c in found if c is not None]
    rows = [(c.cadre_id, c.name, c.unit_id, c.post) for c in cadres]
    try:
        created = await asyncio.to_thread(directory.add_cadres, rows)
    except DirectoryError as exc:
        raise _problem(exc) from exc
    return [_cadre_out(c) for c in created]


@router.get("/cadres", response_model=list[CadreOut], summary="Cadres, optionally of one unit")
async def list_cadres(
    directory: Units,
    actor: CurrentActor,
    unit_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> list[CadreOut]:
    return [_cadre_out(c) for c in await asyncio.to_thread(directory.cadres, unit_id)]
