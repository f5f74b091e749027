"""我的待办: the landing page, what waits on the signed-in person (application.todos)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.console.render import page
from api.console.sessions import PATH, Person, console_services
from application.todos import my_todos
from domain.vocabulary import Role

__all__ = ["router"]

router = APIRouter()


@router.get("/")
async def todos(request: Request, person: Person) -> Response:
    if person.caller.actor.role is Role.ADMIN:
        return RedirectResponse(PATH + "/admin", status_code=303)
    found = await my_todos(console_services(request), person.caller)
    # The units' names come with the board the page shows: no second look-up.
    names = {u.unit_id: u.name for u in found.board.units} if found.board else {}
    return page(request, "home.html", {"todos": found, "unit_names": names})
