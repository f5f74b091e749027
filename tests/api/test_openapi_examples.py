"""The OpenAPI document carries an example for every request body, and the examples are valid."""

from __future__ import annotations

from typing import Any

from api.main import create_app
from settings import Settings


def _spec() -> dict[str, Any]:
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    return app.openapi()


def _body_schemas(spec: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for path, item in spec["paths"].items():
        for operation in item.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                schema = content["schema"]
                refs = [schema.get("$ref"), schema.get("items", {}).get("$ref")]
                refs += [option.get("$ref") for option in schema.get("oneOf", [])]
                found += [(path, ref.rsplit("/", 1)[-1]) for ref in refs if ref]
    return found


def test_every_json_request_body_has_an_example() -> None:
    spec = _spec()
    bodies = _body_schemas(spec)
    assert len(bodies) > 20
    missing = [b for b in bodies if not spec["components"]["schemas"][b[1]].get("examples")]
    assert missing == []


def test_every_error_is_documented_as_problem_json() -> None:
    spec = _spec()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], (
                        path,
                        method,
                        status,
                    )


def test_every_example_validates_against_the_model_that_reads_it() -> None:
    from fastapi.routing import APIRoute
    from pydantic import BaseModel, TypeAdapter

    from api.routes import commands, directory, findings

    checked = 0
    for route in [*commands.router.routes, *directory.router.routes, *findings.router.routes]:
        if not isinstance(route, APIRoute) or route.body_field is None:
            continue
        annotation: Any = route.body_field.field_info.annotation
        adapter: TypeAdapter[Any] = TypeAdapter(annotation)
        models = [m for m in _models_in(annotation) if issubclass(m, BaseModel)]
        for model in models:
            extra = model.model_config.get("json_schema_extra") or {}
            assert isinstance(extra, dict)
            examples: Any = extra.get("examples", [])
            for example in examples:
                wrapped = [example] if _is_list(annotation) else example
                adapter.validate_python(wrapped)  # raises on an invalid example
                checked += 1
    assert checked > 20


def _models_in(annotation: Any) -> list[type]:
    from typing import get_args

    if isinstance(annotation, type):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _is_list(annotation: Any) -> bool:
    from typing import get_origin

    return get_origin(annotation) is list
