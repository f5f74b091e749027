"""The web console (工作台): server-rendered pages at /console/, a door like the API.

Pages call ``application/`` and nothing below it, so the console and the API cannot
disagree. Plain HTML forms work without JavaScript; htmx (vendored, served from
``static/vendor``) swaps pages in place. People sign in with an account
(``application.accounts``); every form carries the session's CSRF token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.console.csrf import CsrfFailed
from api.console.i18n import choose_language
from api.console.render import page
from api.console.routes import admin, auth, board, cases, choices, findings, home
from api.console.sessions import LoginRequired
from application.errors import Refusal
from application.services import Services

__all__ = ["PREFIX", "console_app"]

PREFIX = "/console"
STATIC = Path(__file__).parent / "static"


def console_app(services: Services) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, home, cases, choices, findings, board, admin):
        app.include_router(module.router)

    @app.middleware("http")
    async def language(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.console_language = choose_language(
            request.cookies.get("zg_lang"),
            services.settings.language,
            request.headers.get("accept-language", ""),
        )
        response = await call_next(request)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = PREFIX + "/"
        where = f"{PREFIX}/login?next={quote(target)}" + ("&expired=1" if exc.expired else "")
        response = RedirectResponse(where, status_code=303)
        if request.headers.get("hx-request"):
            response.headers["HX-Redirect"] = where
        return response

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return page(request, "error.html", {"status": 403, "message_key": "error.csrf"}, 403)

    @app.exception_handler(Refusal)
    async def refused(request: Request, exc: Refusal) -> Response:
        language = request.state.console_language
        return page(
            request,
            "error.html",
            {"status": exc.status, "message": exc.message(language), "code": exc.code},
            exc.status,
        )

    return app
