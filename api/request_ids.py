"""Request ids: taken from X-Request-ID or made, echoed back, bound to every log line.

A plain ASGI middleware, not Starlette's ``BaseHTTPMiddleware``: that one runs each
request's app in a task group of its own and passes the response through a memory
stream, CPU every request pays for (bench/api.py).
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HEADER", "RequestIdMiddleware"]

HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower().encode("latin-1")
_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
log = structlog.get_logger("api.access")


def _offered(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == _HEADER_KEY:
            return str(value.decode("latin-1"))
    return ""


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = _offered(scope)
        request_id = offered if _SAFE.match(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id  # request.state.request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
