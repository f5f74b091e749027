"""The OpenAPI document as the app really answers: every error is problem+json.

FastAPI documents validation errors as its own JSON shape; ours are RFC 9457
problems, so each 4xx/5xx response is rewritten here, in one place.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ProblemDetail", "install_openapi"]


class ProblemDetail(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "https://zhenggai.invalid/problems/case_not_found",
                    "title": "未找到案件 abc",
                    "status": 404,
                    "code": "case_not_found",
                    "message_zh": "未找到案件 abc",
                    "message_en": "no case abc",
                    "instance": "/api/v1/cases/abc",
                    "request_id": "4f1c…",
                }
            ]
        },
    )

    type: str
    title: str
    status: int
    code: str = Field(description="Stable machine-readable code")
    message_zh: str
    message_en: str
    instance: str
    request_id: str | None = None
    errors: list[dict[str, str]] | None = Field(
        default=None, description="For invalid input: the fields that are wrong"
    )


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ProblemDetail"] = ProblemDetail.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        problem = {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}
        }
        for url, path in schema.get("paths", {}).items():
            for method, operation in path.items():
                responses = operation.setdefault("responses", {})
                if method == "post":  # every POST is limited to some roles
                    responses.setdefault("403", {"description": "Your role may not do this"})
                parameters = operation.get("parameters", [])
                if any(p.get("in") == "path" for p in parameters):
                    responses.setdefault("404", {"description": "Not found, or not in your scope"})
                if parameters or operation.get("requestBody"):
                    responses.setdefault("422", {"description": "Invalid input"})
                if not url.endswith("/health"):
                    responses.setdefault("401", {"description": "No valid bearer token"})
                for status, response in responses.items():
                    if status[0] in "45":
                        response["content"] = problem
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]
