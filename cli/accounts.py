"""`zhenggai account create|list`: people who sign in to the web console (/console/).

`create` prints a generated first password once, or takes one from stdin
(`--password-stdin`); only its argon2 hash is stored.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from application.accounts import new_account
from application.errors import Refusal
from cli.database import database_engine
from cli.preflight import UsageProblem, exit_with
from cli.tokens import TokenRole
from domain.vocabulary import Role
from settings import Settings
from store.accounts import Accounts

__all__ = ["account_app"]

account_app = typer.Typer(
    help="Console accounts: create (first password shown once), list.", no_args_is_help=True
)


def _say(settings: Settings, zh: str, en: str) -> str:
    return en if settings.language == "en" else zh


@account_app.command("create")
def create(
    role: Annotated[TokenRole, typer.Option(help="supervisor | unit | inspector | admin")],
    name: Annotated[str, typer.Option(help="The person's name, as pages show it.")],
    username: Annotated[str, typer.Option(help="The user name to sign in with (unique).")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="The person's unit (all roles but admin).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the first password from stdin.")
    ] = False,
) -> None:
    """Create an account; print its first password once (unless given on stdin)."""
    settings = Settings()
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with database_engine(settings) as engine:
        try:
            made, first = new_account(
                Accounts(engine),
                username=username,
                display_name=name,
                role=Role(role.value),
                unit_id=unit,
                password=password,
            )
        except Refusal as refusal:
            raise exit_with(UsageProblem(refusal.message(settings.language))) from refusal
    if password is None:
        typer.echo(first)
    typer.echo(
        _say(
            settings,
            f"账号 {made.username}（{made.display_name}）已创建；"
            + ("以上首次密码只显示这一次，请登录后修改。" if password is None else "密码已设置。"),
            f"account {made.username} created; "
            + (
                "the first password above is shown only once."
                if password is None
                else "password set."
            ),
        ),
        err=True,
    )


@account_app.command("list")
def list_accounts() -> None:
    """List accounts (never their passwords)."""
    settings = Settings()
    with database_engine(settings) as engine:
        records = Accounts(engine).all_accounts()
    table = Table("id", "username", "name", "role", "unit", "created", "disabled")
    for r in records:
        table.add_row(
            r.account_id,
            r.username,
            r.display_name,
            r.role,
            r.unit_id or "",
            r.created_at.isoformat(timespec="seconds"),
            "yes" if r.disabled_at else "",
        )
    Console(width=140).print(table)
