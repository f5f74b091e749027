"""Sign in, sign out, the language switch, and changing one's own password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.console.csrf import COOKIE as CSRF_COOKIE
from api.console.csrf import check_csrf, fresh_token
from api.console.i18n import translate
from api.console.render import page
from api.console.sessions import (
    COOKIE,
    PATH,
    Person,
    PersonPosting,
    clear_cookies,
    console_services,
    secure,
    set_cookies,
)
from application.accounts import change_password, end_session, sign_in
from application.errors import Refusal

__all__ = ["router"]

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path inside the console (no open redirect)."""
    if target and target.startswith(PATH + "/") and not target.startswith("//"):
        return target
    return PATH + "/"


def _login_page(
    request: Request, status: int = 200, error: str | None = None, username: str = ""
) -> Response:
    token = request.cookies.get(CSRF_COOKIE) or fresh_token()
    request.state.csrf_token = token
    response = page(
        request,
        "login.html",
        {
            "error": error,
            "username": username,
            "next": _safe_next(request.query_params.get("next")),
            "expired": request.query_params.get("expired") == "1",
            "signed_out": request.query_params.get("out") == "1",
        },
        status,
    )
    response.set_cookie(
        CSRF_COOKIE, token, path=PATH, httponly=True, samesite="lax", secure=secure(request)
    )
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    await check_csrf(request, None)
    services = console_services(request)
    try:
        started = await sign_in(services, username, password)
    except Refusal as refusal:
        message = refusal.message(request.state.console_language)
        return _login_page(request, refusal.status, message, username)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_cookies(request, response, started.cookie_value, started.session.csrf_token)
    return response


@router.post("/logout")
async def logout(request: Request, person: PersonPosting) -> Response:
    cookie = request.cookies.get(COOKIE, "")
    await end_session(console_services(request), cookie)
    response = RedirectResponse(PATH + "/login?out=1", status_code=303)
    clear_cookies(response)
    return response


@router.get("/lang")
async def switch_language(request: Request, to: str = "zh-CN", back: str = "") -> Response:
    response = RedirectResponse(_safe_next(back), status_code=303)
    if to in ("zh-CN", "en"):
        response.set_cookie(
            "zg_lang", to, path=PATH, max_age=365 * 86400, samesite="lax", secure=secure(request)
        )
    return response


@router.get("/password")
async def password_form(request: Request, person: Person) -> Response:
    return page(request, "password.html", {"error": None, "done": False})


@router.post("/password")
async def password_change(
    request: Request,
    person: PersonPosting,
    old_password: Annotated[str, Form(max_length=500)] = "",
    new_password: Annotated[str, Form(max_length=500)] = "",
    repeat_password: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    language = request.state.console_language
    if new_password != repeat_password:
        return page(request, "password.html", {"error": translate("pw.mismatch", language)}, 422)
    try:
        await change_password(
            console_services(request),
            person,
            request.cookies.get(COOKIE, ""),
            old_password,
            new_password,
        )
    except Refusal as refusal:
        return page(request, "password.html", {"error": refusal.message(language)}, refusal.status)
    return page(request, "password.html", {"error": None, "done": True})
