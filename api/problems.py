"""RFC 9457 problem+json: every error has a stable code and Chinese and English messages.

Domain errors map to HTTP status here, and only here.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import DomainError, InvalidCommand, InvalidState, PermissionDenied
from store.errors import DatabaseUnreachable

__all__ = ["Problem", "install_problem_handlers"]

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"
# Seconds a client should wait before retrying after a 503 (as temporal_errors says).
DATABASE_RETRY_AFTER = 5


class Problem(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message_zh: str,
        message_en: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message_en)
        self.headers = headers or {}
        self.status = status
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.extra = extra


def _language(request: Request) -> str:
    accept = request.headers.get("accept-language", "")
    return "en" if accept.lower().startswith("en") else "zh-CN"


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://zhenggai.invalid/problems/{problem.code}",
        "title": problem.message_en if _language(request) == "en" else problem.message_zh,
        "status": problem.status,
        "code": problem.code,
        "message_zh": problem.message_zh,
        "message_en": problem.message_en,
        "instance": request.url.path,
        **problem.extra,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(
        body, status_code=problem.status, media_type=MEDIA_TYPE, headers=problem.headers
    )


def domain_problem(error: DomainError) -> Problem:
    status = 422
    if isinstance(error, PermissionDenied):
        status = 403
    elif isinstance(error, InvalidState):
        status = 409
    elif isinstance(error, InvalidCommand):
        status = 422
    return Problem(status, error.code, error.message_zh, error.message_en)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(request, exc)

    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return problem_response(request, domain_problem(exc))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors)
        return problem_response(
            request,
            Problem(
                422,
                "invalid_input",
                f"输入有误：{fields}",
                f"invalid input: {fields}",
                errors=errors,
            ),
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        zh, en, code = {
            404: ("未找到", "not found", "not_found"),
            405: ("不支持的请求方法", "method not allowed", "method_not_allowed"),
        }.get(exc.status_code, ("请求错误", str(exc.detail), "http_error"))
        return problem_response(request, Problem(exc.status_code, code, zh, en))

    async def on_database_down(request: Request, exc: Exception) -> JSONResponse:
        # Connection refused, lost mid-query, or no pooled connection in time: the API
        # stays up and answers; pool_pre_ping reconnects once the server is back.
        log.warning("database_unavailable", error=str(exc).splitlines()[0])
        return problem_response(
            request,
            Problem(
                503,
                "database_unavailable",
                "数据库暂不可用，请稍后重试",
                "the database is unavailable, retry later",
                headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
            ),
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Outside the other middleware: the request id header is added here.
        log.exception("unhandled_error", exc_info=exc)
        response = problem_response(
            request,
            Problem(500, "internal_error", "服务器内部错误", "internal server error"),
        )
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            response.headers["X-Request-ID"] = request_id
        return response

    for database_error in (OperationalError, InterfaceError, PoolTimeout, DatabaseUnreachable):
        app.add_exception_handler(database_error, on_database_down)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
