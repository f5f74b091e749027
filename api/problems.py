"""RFC 9457 problem+json: every error the API answers, rendered in one place.

A use case's ``Refusal`` carries its status, code and messages; a domain error
becomes one through ``application.errors.from_domain``; request validation,
unknown routes, an unreachable database and anything unforeseen are shaped here
too, so every error has a stable code and Chinese and English messages.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from application.errors import RETRY_AFTER_SECONDS, Refusal, from_domain
from domain.errors import DomainError
from store.errors import DatabaseUnreachable

__all__ = ["install_problem_handlers", "problem_response"]

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"


def _language(request: Request) -> str:
    accept = request.headers.get("accept-language", "")
    return "en" if accept.lower().startswith("en") else "zh-CN"


def problem_response(request: Request, problem: Refusal) -> JSONResponse:
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
    headers: dict[str, str] = {}
    if problem.retry_after is not None:
        headers["Retry-After"] = str(problem.retry_after)
    if problem.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="zhenggai"'
    if problem.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(body, status_code=problem.status, media_type=MEDIA_TYPE, headers=headers)


# The json module's reasons, said in Chinese.
_JSON_REASONS_ZH = {
    "Expecting value": "此处应为一个值",
    "Expecting ',' delimiter": "缺少逗号",
    "Expecting ':' delimiter": "缺少冒号",
    "Expecting property name enclosed in double quotes": "属性名应使用英文双引号",
    "Unterminated string starting at": "字符串没有结束的引号",
    "Extra data": "JSON 之后还有多余内容",
    "Invalid control character at": "字符串中有控制字符",
    "Invalid \\escape": "无效的转义字符",
}


def json_syntax_problem(error: dict[str, Any], document: Any) -> Refusal:
    """Where the body stops being JSON, as line and column (1-based), in both languages."""
    position = int(error["loc"][-1]) if str(error["loc"][-1]).isdigit() else 0
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else str(document)
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    reason = error.get("ctx", {}).get("error", "")
    reason_zh = _JSON_REASONS_ZH.get(reason, reason)
    return Refusal(
        422,
        "invalid_json",
        f"请求体不是有效的 JSON：第 {line} 行第 {column} 列附近有误（{reason_zh}）",
        f"the body is not valid JSON: near line {line}, column {column} ({reason})",
        errors=[{"field": "body", "message": reason, "line": line, "column": column}],
    )


def install_problem_handlers(app: FastAPI) -> None:
    async def on_refusal(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Refusal)
        return problem_response(request, exc)

    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return problem_response(request, from_domain(exc))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        syntax = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
        if syntax is not None:
            return problem_response(request, json_syntax_problem(syntax, exc.body))
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors)
        return problem_response(
            request,
            Refusal(
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
        return problem_response(request, Refusal(exc.status_code, code, zh, en))

    async def on_database_down(request: Request, exc: Exception) -> JSONResponse:
        # Connection refused, lost mid-query, or no pooled connection in time: the API
        # stays up and answers; the pool reconnects once the server is back.
        log.warning("database_unavailable", error=str(exc).splitlines()[0])
        return problem_response(
            request,
            Refusal(
                503,
                "database_unavailable",
                "数据库暂不可用，请稍后重试",
                "the database is unavailable, retry later",
                retry_after=RETRY_AFTER_SECONDS,
            ),
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Outside the other middleware: the request id header is added here.
        log.exception("unhandled_error", exc_info=exc)
        response = problem_response(
            request,
            Refusal(500, "internal_error", "服务器内部错误", "internal server error"),
        )
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            response.headers["X-Request-ID"] = request_id
        return response

    async def on_data_refused(request: Request, exc: Exception) -> JSONResponse:
        # The database refused a value the request carried (a NUL byte in text, a number
        # out of range): bad input, not a failure of the server.
        log.info("database_refused_value", error=str(exc).splitlines()[0])
        return problem_response(
            request,
            Refusal(
                422,
                "invalid_input",
                "输入含有无法保存的字符或数值（例如空字符 \\0）",
                "the input holds a character or value the database refuses (e.g. a NUL byte)",
            ),
        )

    app.add_exception_handler(DataError, on_data_refused)
    for database_error in (OperationalError, InterfaceError, PoolTimeout, DatabaseUnreachable):
        app.add_exception_handler(database_error, on_database_down)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(Refusal, on_refusal)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
