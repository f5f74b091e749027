"""Bearer tokens to actors, and who may see what.

Scope: a supervisor or an inspector works on their unit's subtree; a unit user
on their own unit; an admin keeps the directory and sees no case. A case
outside the caller's scope is answered as not found (404), so that its
existence does not leak.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from api.problems import Problem
from domain.vocabulary import Actor, Role
from store.directory import Directory
from store.tokens import Tokens

__all__ = ["CurrentActor", "in_scope", "require_roles"]


def _unauthenticated(reason_zh: str, reason_en: str) -> Problem:
    return Problem(
        401,
        "unauthenticated",
        reason_zh,
        reason_en,
        headers={"WWW-Authenticate": 'Bearer realm="zhenggai"'},
    )


async def _current_actor(request: Request) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise _unauthenticated("缺少访问令牌（Authorization: Bearer …）", "missing bearer token")
    tokens: Tokens = request.app.state.tokens
    record = await asyncio.to_thread(tokens.authenticate, secret.strip())
    if record is None:
        raise _unauthenticated("访问令牌无效或已吊销", "the token is invalid or revoked")
    # Who sent the request, for what belongs to a caller (their Idempotency-Keys).
    request.state.principal = f"token:{record.token_id}"
    return Actor(user_id=record.name, role=Role(record.role), unit_id=record.unit_id)


CurrentActor = Annotated[Actor, Depends(_current_actor)]


def require_roles(*roles: Role) -> Callable[[Actor], Actor]:
    names = "、".join(roles)

    def check(actor: CurrentActor) -> Actor:
        if actor.role not in roles:
            raise Problem(
                403,
                "forbidden_role",
                f"此操作仅限：{names}",
                f"only {', '.join(roles)} may do this",
            )
        return actor

    return check


def in_scope(directory: Directory, actor: Actor, unit_id: str) -> bool:
    if actor.unit_id is None:
        return False
    if actor.role is Role.UNIT:
        return unit_id == actor.unit_id
    if actor.role in (Role.SUPERVISOR, Role.INSPECTOR):
        return directory.is_within(unit_id, actor.unit_id)
    return False
