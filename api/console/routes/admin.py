"""Administration: units tree, cadres, accounts (create, disable), dead notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.console.render import page
from api.console.sessions import PATH, Person, PersonPosting, console_services
from application.accounts import create_account, set_account_disabled
from application.admin_views import admin_overview
from application.directory import add_cadres, add_units
from application.errors import Refusal
from application.models import CadreIn, UnitIn
from domain.vocabulary import Role

__all__ = ["router"]

router = APIRouter()


async def _admin(
    request: Request,
    person: Person,
    *,
    error: str | None = None,
    created: tuple[str, str] | None = None,
    status: int = 200,
) -> Response:
    overview = await admin_overview(console_services(request), person.caller)
    return page(
        request,
        "admin.html",
        {
            "o": overview,
            "error": error,
            "created": created,
            "roles": [Role.SUPERVISOR, Role.UNIT, Role.INSPECTOR, Role.ADMIN],
        },
        status,
    )


@router.get("/admin")
async def admin_page(request: Request, person: Person) -> Response:
    return await _admin(request, person)


@router.post("/admin/accounts")
async def new_account(
    request: Request,
    person: PersonPosting,
    username: Annotated[str, Form(max_length=100)] = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    unit_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    language = request.state.console_language
    try:
        made, first = await create_account(
            console_services(request),
            person.caller,
            username=username,
            display_name=display_name,
            role=Role(role) if role in Role.__members__.values() else Role.SYSTEM,
            unit_id=unit_id or None,
        )
    except Refusal as refusal:
        if refusal.status == 403:
            raise
        return await _admin(request, person, error=refusal.message(language), status=refusal.status)
    return await _admin(request, person, created=(made.username, first))


@router.post("/admin/accounts/{account_id}/disabled")
async def disable_account(
    request: Request,
    person: PersonPosting,
    account_id: str,
    disabled: Annotated[str, Form(max_length=5)] = "true",
) -> Response:
    await set_account_disabled(
        console_services(request), person.caller, account_id, disabled == "true"
    )
    return RedirectResponse(PATH + "/admin#accounts", status_code=303)


@router.post("/admin/units")
async def new_unit(
    request: Request,
    person: PersonPosting,
    unit_id: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    parent_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    language = request.state.console_language
    try:
        unit = UnitIn.model_validate(
            {"unit_id": unit_id, "name": name, "parent_id": parent_id or None}
        )
        await add_units(console_services(request), person.caller, [unit], None)
    except Refusal as refusal:
        return await _admin(request, person, error=refusal.message(language), status=refusal.status)
    except ValueError as exc:
        return await _admin(request, person, error=str(exc), status=422)
    return RedirectResponse(PATH + "/admin#units", status_code=303)


@router.post("/admin/cadres")
async def new_cadre(
    request: Request,
    person: PersonPosting,
    cadre_id: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    unit_id: Annotated[str, Form(max_length=64)] = "",
    post: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    language = request.state.console_language
    try:
        cadre = CadreIn.model_validate(
            {"cadre_id": cadre_id, "name": name, "unit_id": unit_id, "post": post}
        )
        await add_cadres(console_services(request), person.caller, [cadre], None)
    except Refusal as refusal:
        return await _admin(request, person, error=refusal.message(language), status=refusal.status)
    except ValueError as exc:
        return await _admin(request, person, error=str(exc), status=422)
    return RedirectResponse(PATH + "/admin#cadres", status_code=303)
