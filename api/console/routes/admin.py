"""Administration: units tree, cadres, accounts (create, disable), dead notifications, and
the notification contacts of each unit (list, add, change, remove), through the same
use cases as ``zhenggai notifications contact``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.console.render import page
from api.console.sessions import PATH, Person, PersonPosting, console_services
from application.accounts import create_account, set_account_disabled
from application.admin_views import admin_overview, contacts_view
from application.directory import add_cadres, add_units
from application.errors import Refusal
from application.models import ID_PATTERN, CadreIn, UnitIn
from application.notifications import change_contact, create_contact, delete_contact
from domain.vocabulary import Role
from store.outbox import Channel, ContactRole

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


# --- notification contacts ---------------------------------------------------------

CONTACTS = PATH + "/admin/contacts"
ContactId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DONE = ("added", "updated", "removed")


async def _contacts(
    request: Request,
    person: Person,
    unit: str | None,
    *,
    edit: int | None = None,
    error: str | None = None,
    error_at: str | None = None,  # the refused form: "add", "edit-<id>" or "remove-<id>"
    typed: dict[str, str] | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    view = await contacts_view(console_services(request), person.caller, unit)
    return page(
        request,
        "admin_contacts.html",
        {
            "v": view,
            "edit": edit,
            "error": error,
            "error_at": error_at,
            "typed": typed or {},
            "done": done if done in DONE else None,
            "roles": list(ContactRole),
            "channels": list(Channel),
        },
        status,
    )


def _on(checkbox: str) -> bool:
    return checkbox in ("on", "true", "1")


def _back(unit: str, done: str) -> Response:
    query = urlencode({"unit": unit, "done": done} if unit else {"done": done})
    return RedirectResponse(f"{CONTACTS}?{query}", status_code=303)


@router.get("/admin/contacts")
async def contacts_page(
    request: Request,
    person: Person,
    unit: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    edit: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    done: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    return await _contacts(request, person, unit, edit=edit, done=done)


@router.post("/admin/contacts")
async def new_contact(
    request: Request,
    person: PersonPosting,
    unit_id: Annotated[str, Form(max_length=64)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    channel: Annotated[str, Form(max_length=20)] = "",
    address: Annotated[str, Form(max_length=2000)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    secret: Annotated[str, Form(max_length=500)] = "",
    digest: Annotated[str, Form(max_length=5)] = "",
    shown: Annotated[str, Form(max_length=64)] = "",  # the unit the page showed
) -> Response:
    try:
        await create_contact(
            console_services(request),
            person.caller,
            unit_id=unit_id,
            role=role,
            channel=channel,
            address=address,
            name=name,
            secret=secret or None,
            digest=_on(digest),
        )
    except Refusal as refusal:
        if refusal.status == 403:
            raise
        typed = {
            "unit_id": unit_id,
            "role": role,
            "channel": channel,
            "address": address,
            "name": name,
            "secret": secret,
            "digest": digest,
        }
        message = refusal.message(request.state.console_language)
        return await _contacts(
            request,
            person,
            shown or None,
            error=message,
            error_at="add",
            typed=typed,
            status=refusal.status,
        )
    return _back(shown or unit_id, "added")


@router.post("/admin/contacts/{contact_id}")
async def edit_contact(
    request: Request,
    person: PersonPosting,
    contact_id: ContactId,
    address: Annotated[str, Form(max_length=2000)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    secret: Annotated[str, Form(max_length=500)] = "",
    clear_secret: Annotated[str, Form(max_length=5)] = "",
    digest: Annotated[str, Form(max_length=5)] = "",
    shown: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """An empty address or secret keeps the one there (a robot's URL is never shown whole)."""
    try:
        await change_contact(
            console_services(request),
            person.caller,
            contact_id,
            address=address.strip() or None,
            name=name,
            secret=secret or None,
            clear_secret=_on(clear_secret),
            digest=_on(digest),
        )
    except Refusal as refusal:
        if refusal.status == 403:
            raise
        typed = {"address": address, "name": name, "secret": secret, "digest": digest}
        typed["clear_secret"] = clear_secret
        return await _contacts(
            request,
            person,
            shown or None,
            edit=contact_id,
            error=refusal.message(request.state.console_language),
            error_at=f"edit-{contact_id}",
            typed=typed,
            status=refusal.status,
        )
    return _back(shown, "updated")


@router.post("/admin/contacts/{contact_id}/remove")
async def remove_contact(
    request: Request,
    person: PersonPosting,
    contact_id: ContactId,
    queued: Annotated[str, Form(max_length=10)] = "",  # "" | cancel | redirect
    redirect_to: Annotated[str, Form(max_length=20)] = "",
    shown: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    target = int(redirect_to) if queued == "redirect" and redirect_to.isdigit() else None
    try:
        await delete_contact(
            console_services(request),
            person.caller,
            contact_id,
            cancel_queued=queued == "cancel",
            redirect_to=target,
        )
    except Refusal as refusal:
        if refusal.status == 403:
            raise
        return await _contacts(
            request,
            person,
            shown or None,
            edit=contact_id,
            error=refusal.message(request.state.console_language),
            error_at=f"remove-{contact_id}",
            typed={"queued": queued, "redirect_to": redirect_to},
            status=refusal.status,
        )
    return _back(shown, "removed")
