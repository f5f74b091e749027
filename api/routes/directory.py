"""Units (a tree) and cadres: created by an admin, one at a time or in bulk; read by all
(application.directory)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.deps import AppServices, CurrentCaller, IdempotencyKey, caller_with
from application.caller import Caller
from application.directory import add_cadres, add_units, cadres_of, subtree_of
from application.models import ID_PATTERN, CadreIn, CadreOut, UnitIn, UnitOut
from domain.vocabulary import Role

__all__ = ["router"]

router = APIRouter(tags=["directory"])
Admin = Annotated[Caller, Depends(caller_with(Role.ADMIN))]


@router.post(
    "/units",
    status_code=201,
    response_model=list[UnitOut],
    summary="Create units",
    name="create_units",
)
async def post_units(
    units: list[UnitIn],
    services: AppServices,
    admin: Admin,
    idempotency_key: IdempotencyKey = None,
) -> list[UnitOut]:
    """One or many units, parents before children; all or nothing."""
    return await add_units(services, admin, units, idempotency_key)


@router.get(
    "/units/{unit_id}/subtree",
    response_model=list[UnitOut],
    summary="A unit's subtree",
    name="unit_subtree",
)
async def get_subtree(
    services: AppServices, caller: CurrentCaller, unit_id: str = Path(pattern=ID_PATTERN)
) -> list[UnitOut]:
    return await subtree_of(services, unit_id)


@router.post(
    "/cadres",
    status_code=201,
    response_model=list[CadreOut],
    summary="Create cadres",
    name="create_cadres",
)
async def post_cadres(
    cadres: list[CadreIn],
    services: AppServices,
    admin: Admin,
    idempotency_key: IdempotencyKey = None,
) -> list[CadreOut]:
    """One or many cadres with their current post and unit; all or nothing."""
    return await add_cadres(services, admin, cadres, idempotency_key)


@router.get(
    "/cadres",
    response_model=list[CadreOut],
    summary="Cadres, optionally of one unit",
    name="list_cadres",
)
async def get_cadres(
    services: AppServices,
    caller: CurrentCaller,
    unit_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> list[CadreOut]:
    return await cadres_of(services, unit_id)
