"""`zhenggai notifications list|retry|contact …` and `zhenggai dispatcher`.

Register in cli/main.py::

    from cli.notifications import dispatcher, notifications_app
    app.add_typer(notifications_app, name="notifications")
    app.command()(dispatcher)
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Annotated

import structlog
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from activities.outbox_dispatcher.dispatcher import Dispatcher
from application import notifications as contacts
from application.errors import Refusal
from cli.database import database_engine
from cli.logs import configure_logging
from cli.preflight import UsageProblem, exit_with
from settings import Settings
from store.outbox import (
    Channel,
    ContactRole,
    Outbox,
    OutboxError,
    OutboxStatus,
    UnitContacts,
)

__all__ = ["contact_app", "dispatcher", "notifications_app"]

notifications_app = typer.Typer(
    help="Notification outbox: list (--dead), retry by hand, unit contacts.", no_args_is_help=True
)
contact_app = typer.Typer(help="Who of each unit receives notices, on which channel.")
notifications_app.add_typer(contact_app, name="contact", no_args_is_help=True)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise exit_with(UsageProblem(f"配置有误 invalid settings: {reasons}")) from None


def _say(settings: Settings, zh: str, en: str) -> str:
    return en if settings.language == "en" else zh


@notifications_app.command("list")
def list_notifications(
    dead: Annotated[
        bool, typer.Option("--dead", help="Only dead rows (same as --status dead).")
    ] = False,
    status: Annotated[
        OutboxStatus | None,
        typer.Option(help="pending|sent|dead|cancelled|unaddressed|digested"),
    ] = None,
    case: Annotated[str | None, typer.Option("--case", help="Only this case's rows.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Rows per page.")] = 100,
    before: Annotated[
        int | None,
        typer.Option(
            min=1, help="Only rows older than this id (the next page: the last id shown)."
        ),
    ] = None,
) -> None:
    """List notifications, newest first, with status, attempts and last error."""
    settings = _settings()
    with database_engine(settings) as engine:
        rows = Outbox(engine).page(
            status=OutboxStatus.DEAD if dead else status,
            case_id=case,
            limit=limit,
            before=before,
        )
    en = settings.language == "en"
    headers = (
        ("id", "case", "kind", "level", "channel", "recipient", "status", "attempts", "last error")
        if en
        else ("编号", "案件", "类型", "等级", "渠道", "接收方", "状态", "尝试次数", "最近错误")
    )
    table = Table(*headers)
    for r in rows:
        table.add_row(
            str(r.id),
            r.case_id,
            r.kind,
            "" if r.level is None else str(r.level),
            "-" if r.channel is None else r.channel.value,
            r.shown_recipient,
            r.status.value,
            str(r.attempts),
            r.last_error or "",
        )
    Console(width=200).print(table)
    if not rows:
        typer.echo(_say(settings, "没有符合条件的通知", "no notifications match"))
    elif len(rows) == limit:
        more = f"--before {rows[-1].id}"
        typer.echo(_say(settings, f"更早的通知：{more}", f"older rows: {more}"))


@notifications_app.command("retry")
def retry(notification_id: Annotated[int, typer.Argument(help="The row's id (see list).")]) -> None:
    """Send a dead notification again now, with a fresh count of attempts."""
    settings = _settings()
    with database_engine(settings) as engine:
        try:
            Outbox(engine).retry(notification_id)
        except OutboxError as exc:
            zh, en = (
                (f"通知 {notification_id} 不存在", f"no notification {notification_id}")
                if exc.code == "not_found"
                else (
                    f"通知 {notification_id} 的单位仍没有接收方，请先添加接收方",
                    f"notification {notification_id}: its unit still has no contact; add one",
                )
                if exc.code == "still_unaddressed"
                else (
                    f"通知 {notification_id} 已发送或已取消，不能重试",
                    f"notification {notification_id} is sent or cancelled; it cannot be retried",
                )
            )
            raise exit_with(UsageProblem(_say(settings, zh, en))) from exc
    typer.echo(
        _say(
            settings,
            f"通知 {notification_id} 已重新排队，将尽快投递",
            f"notification {notification_id} queued again",
        )
    )


# What the CLI adds to a refusal: the option that answers it.
_CLI_HINTS = {
    "queued_rows": "--cancel-queued | --redirect-to ID",
    "secret_needed": "--secret",
    "invalid_choice": "--cancel-queued | --redirect-to ID",
}


def _contact_problem(settings: Settings, refusal: Refusal) -> UsageProblem:
    message = refusal.message(settings.language)
    hint = _CLI_HINTS.get(refusal.code)
    return UsageProblem(f"{message}（{hint}）" if hint else message)


@contact_app.command("add")
def add_contact(
    unit: Annotated[str, typer.Option(help="The unit's id.")],
    role: Annotated[ContactRole, typer.Option(help="contact|leader|supervising|listed")],
    channel: Annotated[Channel, typer.Option(help="email|webhook|dingtalk|wecom")],
    address: Annotated[str, typer.Option(help="Email address or webhook URL.")],
    name: Annotated[str, typer.Option(help="Who this is.")] = "",
    secret: Annotated[str | None, typer.Option(help="Signing key (webhook, DingTalk).")] = None,
    digest: Annotated[
        bool, typer.Option("--digest/--immediate", help="One daily digest, or each at once.")
    ] = False,
) -> None:
    """Add a recipient of a unit's notices (supervising and listed also cover its subtree).

    Checked first: an email address must look like one; a webhook needs a secret
    (or ZHENGGAI_WEBHOOK_SECRET); a DingTalk URL its access_token, a WeCom URL its key."""
    settings = _settings()
    with database_engine(settings) as engine:
        try:
            contact = contacts.add_contact(
                UnitContacts(engine),
                unit_id=unit,
                role=role,
                channel=channel,
                address=address,
                name=name,
                secret=secret,
                digest=digest,
                default_secret=settings.webhook_secret is not None,
            )
        except Refusal as refusal:
            raise exit_with(_contact_problem(settings, refusal)) from refusal
    typer.echo(
        _say(settings, f"已添加接收方 {contact.contact_id}", f"contact {contact.contact_id} added")
    )


@contact_app.command("update")
def update_contact(
    contact_id: Annotated[int, typer.Argument(help="The contact's id.")],
    address: Annotated[str | None, typer.Option(help="New email address or URL.")] = None,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    secret: Annotated[str | None, typer.Option(help="New signing key.")] = None,
    clear_secret: Annotated[bool, typer.Option("--clear-secret", help="Remove the key.")] = False,
    digest: Annotated[
        bool | None, typer.Option("--digest/--immediate", help="Daily digest or at once.")
    ] = None,
) -> None:
    """Change a contact; its queued notifications follow (a dead one: `notifications retry`)."""
    settings = _settings()
    with database_engine(settings) as engine:
        try:
            contacts.update_contact(
                UnitContacts(engine),
                contact_id,
                address=address,
                name=name,
                secret=secret,
                clear_secret=clear_secret,
                digest=digest,
                default_secret=settings.webhook_secret is not None,
            )
        except Refusal as refusal:
            raise exit_with(_contact_problem(settings, refusal)) from refusal
    typer.echo(_say(settings, f"已更新接收方 {contact_id}", f"contact {contact_id} updated"))


@contact_app.command("list")
def list_contacts(unit: Annotated[str | None, typer.Option(help="Only this unit.")] = None) -> None:
    """List the recipients of notices per unit (never their secrets)."""
    settings = _settings()
    with database_engine(settings) as engine:
        found = contacts.contact_list(UnitContacts(engine), unit)
    table = Table("id", "unit", "role", "channel", "address", "name", "signed", "digest")
    for c in found:
        table.add_row(
            str(c.contact_id),
            c.unit_id,
            c.role.value,
            c.channel.value,
            c.address,
            c.name,
            "yes" if c.signed else "",
            "daily" if c.digest else "",
        )
    Console(width=200).print(table)


@contact_app.command("remove")
def remove_contact(
    contact_id: Annotated[int, typer.Argument(help="The contact's id.")],
    cancel_queued: Annotated[
        bool, typer.Option("--cancel-queued", help="Cancel its undelivered notifications.")
    ] = False,
    redirect_to: Annotated[
        int | None,
        typer.Option("--redirect-to", help="Send its undelivered notifications to this contact."),
    ] = None,
) -> None:
    """Remove a contact. With notifications still queued for it, say what becomes of them."""
    settings = _settings()
    with database_engine(settings) as engine:
        try:
            contacts.remove_contact(
                UnitContacts(engine),
                contact_id,
                cancel_queued=cancel_queued,
                redirect_to=redirect_to,
            )
        except Refusal as refusal:
            raise exit_with(_contact_problem(settings, refusal)) from refusal
    typer.echo(_say(settings, f"已删除接收方 {contact_id}", f"contact {contact_id} removed"))


def dispatcher() -> None:
    """Deliver the notification outbox (email, webhooks) until stopped (DATABASE_URL)."""
    from worker import delivery_config, dispatcher_from_settings

    settings = _settings()
    try:
        delivery_config(settings)  # a setting that cannot work stops us here, not at 03:00
    except ValueError as exc:
        raise exit_with(
            UsageProblem(_say(settings, f"通知配置有误：{exc}", f"bad notification setting: {exc}"))
        ) from None
    configure_logging(settings.log_level, settings.log_format)
    with database_engine(settings) as engine:
        from cli.metrics import DispatcherMetrics, serve_metrics

        serve_metrics(
            settings.metrics_host,
            settings.dispatcher_metrics_port,
            lambda registry: registry.register(DispatcherMetrics(engine)),
        )
        asyncio.run(_run(settings, dispatcher_from_settings(settings, engine), engine))


LOCK_RETRY_SECONDS = 5.0


async def _run(settings: Settings, worker: Dispatcher, engine: Engine) -> None:
    """One dispatcher delivers at a time (``store.exclusive``): a second copy waits for
    the lock and takes over when the first stops or its session dies."""
    from store.exclusive import ExclusiveLock

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log = structlog.get_logger("dispatcher")
    lock = ExclusiveLock(engine, "dispatcher")
    try:
        waiting_said = False
        while not stop.is_set():
            try:
                if await asyncio.to_thread(lock.try_acquire):
                    break
            except Exception as exc:  # the database blinked; try again
                log.warning("dispatcher_lock_failed", error=str(exc))
            if not waiting_said:
                log.info(
                    _say(
                        settings,
                        "另一个通知投递进程正在运行，等待",
                        "another dispatcher is running; waiting",
                    )
                )
                waiting_said = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=LOCK_RETRY_SECONDS)
        if stop.is_set():
            return
        log.info(
            _say(settings, "通知投递进程已启动", "notification dispatcher running"),
            smtp=settings.smtp_host or "-",
        )
        await worker.run(stop)
    finally:
        worker.close()
        await asyncio.to_thread(lock.release)
