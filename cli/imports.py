"""`zhenggai import FILE --unit U [--dry-run]`: findings from a ledger (XLSX, XLS, CSV),
through the same use case as `POST /api/v1/imports` (application.ledgers.imports).

The command acts as a supervisor of ``--unit`` (rows may name units of its subtree).
``--dry-run`` checks every row and writes nothing; without it, a file with any error
imports nothing (exit 1), and a file imported again adds nothing twice.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from settings import Settings

__all__ = ["import_findings"]


def _print_preview(preview: object) -> None:
    from application.ledgers.imports import ImportPreview

    assert isinstance(preview, ImportPreview)
    typer.echo(
        f"文件 {preview.file_kind}"
        + (f"（{preview.encoding}）" if preview.encoding else "")
        + f"，表头在第 {preview.header_row} 行；识别的列："
        + "、".join(f"{name}={col}" for name, col in preview.columns.items())
    )
    for row in preview.rows:
        if row.action == "error":
            for error in row.errors:
                where = f" {error.column}" if error.column else ""
                typer.echo(f"第 {error.row} 行{where}：{error.message_zh}")
        elif row.note_zh:
            typer.echo(f"第 {row.row} 行：{row.note_zh}")
    c = preview.counts
    typer.echo(
        f"将新立案 {c['open']} 件，并入已有案件 {c['merge']} 件，跳过 {c['skip']} 行，"
        f"有错误 {c['error']} 行"
    )


def import_findings(
    file: Annotated[Path, typer.Argument(help="The ledger: XLSX, XLS or CSV (UTF-8 or GB18030).")],
    unit: Annotated[str, typer.Option(help="Import as a supervisor of this unit (its subtree).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and write nothing.")
    ] = False,
    name: Annotated[str, typer.Option(help="Who imports (recorded in each event).")] = "导入",
    possible: Annotated[
        str,
        typer.Option(
            help="A row that may repeat an open case: ask (an error of the row), new, merge."
        ),
    ] = "ask",
) -> None:
    """Import findings from a ledger: each row opens its case once (`import` = 导入)."""
    from application.caller import Caller
    from application.errors import Refusal
    from application.ledgers.imports import Possible, apply_import, preview_import
    from application.services import Services
    from application.temporal_gateway import TemporalGateway
    from cli.database import resolve_database_url
    from domain.vocabulary import Actor, Role
    from settings.policy_file import PolicyFileError, policy_book
    from store.directory import Directory
    from store.engine import make_engine
    from store.event_store import EventStore
    from store.evidence import EvidenceFiles
    from store.idempotency import IdempotencyKeys
    from store.tokens import Tokens
    from worker import connect_temporal

    settings = Settings()
    if possible not in ("ask", "new", "merge"):
        typer.echo("zhenggai: --possible 只能是 ask、new 或 merge", err=True)
        raise typer.Exit(2)
    choice: Possible = "new" if possible == "new" else "merge" if possible == "merge" else "ask"
    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(f"zhenggai: 无法读取文件 {file}：{exc.strerror}", err=True)
        raise typer.Exit(2) from None
    try:
        book = policy_book(settings.policy_file, settings.language)
    except PolicyFileError as exc:
        for line in exc.lines:
            typer.echo(f"zhenggai: {line}", err=True)
        raise typer.Exit(2) from None
    engine = make_engine(resolve_database_url(settings))

    services = Services(
        settings=settings,
        policy=book,
        store=EventStore(engine),
        directory=Directory(engine),
        keys=IdempotencyKeys(engine),
        evidence=EvidenceFiles(engine),
        tokens=Tokens(engine),
        temporal=TemporalGateway(lambda: connect_temporal(settings)),
    )
    caller = Caller(
        actor=Actor(user_id=name, role=Role.SUPERVISOR, unit_id=unit), principal="cli:import"
    )

    def progress(done: int, total: int) -> None:
        if done == total or done % 100 == 0:
            typer.echo(f"已处理 {done}/{total} 行", err=True)

    async def run() -> int:
        if dry_run:
            preview = await preview_import(services, caller, data, unit, choice)
            _print_preview(preview)
            return 0 if preview.ok else 1
        summary = await apply_import(
            services, caller, data, unit, progress=progress, possible=choice
        )
        for row in summary.rows:
            if row.outcome != "opened":
                typer.echo(f"第 {row.row} 行：{row.message_zh}")
        typer.echo(summary.summary_zh)
        return 1 if summary.counts["refused"] else 0

    try:
        code = asyncio.run(run())
    except Refusal as refusal:
        rows = refusal.extra.get("rows") or []
        for error in rows:
            where = f" {error['column']}" if error["column"] else ""
            typer.echo(f"第 {error['row']} 行{where}：{error['message_zh']}", err=True)
        typer.echo(f"zhenggai: {refusal.message_zh}", err=True)
        code = 1 if refusal.status in (409, 422) else 2
    finally:
        engine.dispose()
    raise typer.Exit(code)
