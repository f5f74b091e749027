"""`zhenggai token create|list|revoke`: bearer tokens for the API."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.database import database_engine
from cli.preflight import UsageProblem, exit_with
from settings import Settings
from store.tokens import Tokens, TokenUnitNotFound

__all__ = ["token_app"]

token_app = typer.Typer(help="API tokens: create (shown once), list, revoke.", no_args_is_help=True)


class TokenRole(StrEnum):
    SUPERVISOR = "supervisor"
    UNIT = "unit"
    INSPECTOR = "inspector"
    ADMIN = "admin"


def _say(settings: Settings, zh: str, en: str) -> str:
    return en if settings.language == "en" else zh


@token_app.command("create")
def create(
    role: Annotated[TokenRole, typer.Option(help="supervisor | unit | inspector | admin")],
    name: Annotated[str, typer.Option(help="Who holds the token (recorded as the actor).")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="The holder's unit (all roles but admin).")
    ] = None,
) -> None:
    """Create a token and print it once; only its hash is stored."""
    settings = Settings()
    if role is not TokenRole.ADMIN and unit is None:
        raise exit_with(
            UsageProblem(_say(settings, f"角色 {role} 需要 --unit", f"role {role} needs --unit"))
        )
    if not name.strip():
        raise exit_with(UsageProblem(_say(settings, "--name 不能为空", "--name is empty")))
    with database_engine(settings) as engine:
        try:
            issued = Tokens(engine).create(role=role.value, unit_id=unit, name=name.strip())
        except TokenUnitNotFound as exc:
            raise exit_with(
                UsageProblem(_say(settings, f"单位 {unit} 不存在", f"unit {unit} does not exist"))
            ) from exc
    typer.echo(issued.secret)
    typer.echo(
        _say(
            settings,
            f"令牌 {issued.record.token_id} 已创建；以上令牌只显示这一次，请妥善保存。",
            f"token {issued.record.token_id} created; it is shown only this once.",
        ),
        err=True,
    )


@token_app.command("list")
def list_tokens() -> None:
    """List tokens (never their secrets)."""
    settings = Settings()
    with database_engine(settings) as engine:
        records = Tokens(engine).list()
    table = Table("id", "name", "role", "unit", "created", "revoked")
    for r in records:
        table.add_row(
            r.token_id,
            r.name,
            r.role,
            r.unit_id or "",
            r.created_at.isoformat(timespec="seconds"),
            r.revoked_at.isoformat(timespec="seconds") if r.revoked_at else "",
        )
    Console(width=140).print(table)


@token_app.command("revoke")
def revoke(token_id: Annotated[str, typer.Argument(help="The token's id (see `list`).")]) -> None:
    """Revoke a token: it stops working at once."""
    settings = Settings()
    with database_engine(settings) as engine:
        revoked = Tokens(engine).revoke(token_id)
    if not revoked:
        raise exit_with(
            UsageProblem(
                _say(
                    settings,
                    f"没有可吊销的令牌 {token_id}（不存在或已吊销）",
                    f"no live token {token_id} (unknown or already revoked)",
                )
            )
        )
    typer.echo(_say(settings, f"令牌 {token_id} 已吊销", f"token {token_id} revoked"))
