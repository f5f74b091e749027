"""The API's dependencies, in one place: the use cases' services, who calls, the key.

Routes take ``Services`` and a ``CurrentCaller`` (or ``caller_with(role, …)``) and
hand them to the application layer; nothing else of the app's state is reached
from a route.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from application.access import ensure_role
from application.caller import Caller
from application.errors import Refusal
from application.services import Services as ServicesType
from domain.vocabulary import Actor, Role
from settings import Settings

__all__ = [
    "AppServices",
    "AppSettings",
    "CurrentCaller",
    "IdempotencyKey",
    "caller_with",
]


def _services(request: Request) -> ServicesType:
    services: ServicesType = request.app.state.services
    return services


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _unauthenticated(reason_zh: str, reason_en: str) -> Refusal:
    # api.problems adds WWW-Authenticate to every 401.
    return Refusal(401, "unauthenticated", reason_zh, reason_en)


async def _current_caller(request: Request) -> Caller:
    """The bearer token's holder: their role and unit act, their token owns their keys."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise _unauthenticated("缺少访问令牌（Authorization: Bearer …）", "missing bearer token")
    services = _services(request)
    record = await asyncio.to_thread(services.tokens.authenticate, secret.strip())
    if record is None:
        raise _unauthenticated("访问令牌无效或已吊销", "the token is invalid or revoked")
    actor = Actor(user_id=record.name, role=Role(record.role), unit_id=record.unit_id)
    return Caller(
        actor=actor,
        principal=f"token:{record.token_id}",
        request_id=getattr(request.state, "request_id", None),
    )


AppServices = Annotated[ServicesType, Depends(_services)]
AppSettings = Annotated[Settings, Depends(_settings)]
CurrentCaller = Annotated[Caller, Depends(_current_caller)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="A repeat with the same key and body returns the first answer.",
    ),
]


def caller_with(*roles: Role) -> Callable[[Caller], Caller]:
    """A caller whose role is one of ``roles`` (else 403 before the body is read)."""

    def check(caller: CurrentCaller) -> Caller:
        ensure_role(caller.actor, *roles)
        return caller

    return check
