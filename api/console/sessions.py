"""The signed-in person of a console request: the ``zg_session`` cookie, its session.

The cookie is HttpOnly, SameSite=Lax, Path=/console, and Secure when the console
is served over https (the request's scheme or ``ZHENGGAI_PUBLIC_BASE_URL``). A
page without a live session redirects to the login page (``LoginRequired``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from api.console.csrf import COOKIE as CSRF_COOKIE
from api.console.csrf import check_csrf
from application.accounts import ConsoleSession, open_session
from application.services import Services

__all__ = [
    "COOKIE",
    "PATH",
    "LoginRequired",
    "Person",
    "PersonPosting",
    "clear_cookies",
    "console_services",
    "secure",
    "set_cookies",
]

COOKIE = "zg_session"
PATH = "/console"


class LoginRequired(Exception):
    def __init__(self, expired: bool) -> None:
        self.expired = expired


def console_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def secure(request: Request) -> bool:
    services = console_services(request)
    return request.url.scheme == "https" or services.settings.public_base_url.startswith("https")


def set_cookies(request: Request, response: Response, cookie: str, csrf: str) -> None:
    minutes = console_services(request).settings.console_session_idle_minutes
    for name, value in ((COOKIE, cookie), (CSRF_COOKIE, csrf)):
        response.set_cookie(
            name,
            value,
            max_age=minutes * 60 * 3,  # the server's expiry decides; the cookie outlives it
            path=PATH,
            httponly=True,
            samesite="lax",
            secure=secure(request),
        )


def clear_cookies(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH)


async def _person(request: Request) -> ConsoleSession:
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        raise LoginRequired(expired=False)
    services = console_services(request)
    session = await open_session(services, cookie, getattr(request.state, "request_id", None))
    if session is None:
        raise LoginRequired(expired=True)
    request.state.console_session = session
    request.state.csrf_token = session.csrf_token
    return session


async def _person_posting(request: Request) -> AsyncIterator[ConsoleSession]:
    """The person of a POST whose CSRF token is right; the form's files are closed after."""
    session = await _person(request)
    try:
        await check_csrf(request, session.csrf_token)
        yield session
    finally:
        form = await request.form()
        await form.close()


Person = Annotated[ConsoleSession, Depends(_person)]
PersonPosting = Annotated[ConsoleSession, Depends(_person_posting)]
