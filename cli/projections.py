"""`zhenggai projections`: rebuild the read models from the event log, or check them.

    zhenggai projections rebuild [--projection NAME]   replay the log into fresh tables, swap
                                                       them in (all: one pass over the log,
                                                       one swap)
    zhenggai projections check [--projection NAME]     compare with a scratch rebuild; 1 if any
                                                       differ

`zhenggai archive rebuild|check` is the same two commands under their former name,
kept as a deprecated alias (``archive_app``): they rebuild every read model, not
only the cadre archive.

Bad input (unknown projection, no DATABASE_URL, unreachable database) is one
line on stderr and exit code 2.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from cli.preflight import UsageProblem, exit_with
from cli.projections_common import chosen_projections, database, load_settings
from cli.projections_messages import text
from store.projections.check import Difference, check_all
from store.projections.check import check as check_projection
from store.projections.rebuild import RebuildBusy, count_events, rebuild_all
from store.projections.rebuild import rebuild as rebuild_projection
from store.reading import Checkpoint

__all__ = ["archive_app", "projections_app"]

projections_app = typer.Typer(
    name="projections",
    help="读模型（案件概要、单位看板、政绩档案）：从事件日志重建、核对 / "
    "rebuild and check the read models (case summary, unit board, cadre archive).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ProjectionOption = Annotated[
    str | None,
    typer.Option("--projection", help="case_summary, unit_board or cadre_archive (default: all)."),
]


_LISTED = 100  # differences listed per table; all are counted


class _Speed(ProgressColumn):
    """Events per second; blank until rich has measured some."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:>9,.0f} {self.unit}")


def _progress(language: str) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        _Speed(text("events_per_second", language)),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )


def _follow(
    bar: Progress, engine: Engine, label: str
) -> tuple[Callable[[Checkpoint], None], Callable[[int], None]]:
    """A task on ``bar`` for a build over the log: its total set once the build knows
    where it reads up to (``on_start``), advanced by each batch folded (``progress``)."""
    task = bar.add_task(label, total=None)

    def started(at: Checkpoint) -> None:
        bar.update(task, total=count_events(engine, at))

    def advance(n: int) -> None:
        bar.advance(task, n)

    return started, advance


@projections_app.command()
def rebuild(projection: ProjectionOption = None) -> None:
    """Replay the whole log into fresh tables and swap them in atomically (all of them:
    from one pass over the log, swapped in together)."""
    try:
        settings = load_settings()
        lang = settings.language
        chosen = chosen_projections(projection, lang)
        with database(settings) as engine, _progress(lang) as bar:
            if projection is None:
                names = ", ".join(p.name for p in chosen)
                label = text("rebuilding_all", lang, names=names)
            else:
                label = text("rebuilding", lang, name=projection)
            started, advance = _follow(bar, engine, label)
            if projection is None:
                results = rebuild_all(engine, on_start=started, progress=advance)
            else:
                results = [
                    rebuild_projection(engine, chosen[0], on_start=started, progress=advance)
                ]
            for result in results:
                bar.console.print(
                    text(
                        "rebuilt",
                        lang,
                        name=result.name,
                        position=result.checkpoint.position,
                        caught_up=result.caught_up,
                    )
                )
    except UsageProblem as problem:
        raise exit_with(problem) from None
    except RebuildBusy as busy:
        raise exit_with(UsageProblem(text("rebuild_busy", lang, name=busy.name))) from None
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise exit_with(UsageProblem(text("database_error", lang, reason=reason))) from None


def _shown(value: object) -> str:
    """A value as the user reads it: text quoted, the rest as compact JSON."""
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _difference(difference: Difference, lang: str) -> str:
    """One difference in the user's language."""
    where = {"table": difference.table, "row": difference.key_text}
    if difference.live is None:
        rebuilt = json.dumps(difference.rebuilt, ensure_ascii=False, default=str)
        return text("row_missing", lang, **where, rebuilt=rebuilt)
    if difference.rebuilt is None:
        return text("row_extra", lang, **where)
    columns = text("column_separator", lang).join(
        text("column_differs", lang, column=c, live=_shown(was), rebuilt=_shown(should))
        for c, was, should in difference.changes()
    )
    return text("row_differs", lang, **where, columns=columns)


@projections_app.command()
def check(projection: ProjectionOption = None) -> None:
    """Rebuild into a scratch copy and compare it with the live tables, row by row (all
    of them: the copies built from one pass over the log)."""
    failed = False
    try:
        settings = load_settings()
        lang = settings.language
        chosen = chosen_projections(projection, lang)
        with database(settings) as engine:
            names = ", ".join(item.name for item in chosen)
            with _progress(lang) as bar:
                started, advance = _follow(bar, engine, text("checking", lang, name=names))
                if projection is None:
                    reports = check_all(engine, on_start=started, progress=advance, limit=_LISTED)
                else:
                    reports = [
                        check_projection(
                            engine, chosen[0], on_start=started, progress=advance, limit=_LISTED
                        )
                    ]
            for report in reports:
                at = report.checkpoint.position
                if report.ok:
                    typer.echo(
                        text("check_ok", lang, name=report.name, rows=report.rows, position=at)
                    )
                    continue
                failed = True
                count = report.difference_count
                listed = len(report.differences) < count
                key = "check_failed_listed" if listed else "check_failed"
                typer.echo(text(key, lang, name=report.name, count=count, limit=_LISTED))
                for difference in report.differences:
                    typer.echo("  " + _difference(difference, lang))
    except UsageProblem as problem:
        raise exit_with(problem) from None
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise exit_with(UsageProblem(text("database_error", lang, reason=reason))) from None
    if failed:
        raise typer.Exit(1)


_DEPRECATED = (
    "已弃用，请用 `zhenggai projections {command}` / "
    "deprecated: use `zhenggai projections {command}`."
)

archive_app = typer.Typer(
    name="archive",
    help="已弃用，请用 `zhenggai projections` / deprecated alias of `zhenggai projections` "
    "(rebuild and check every read model, not only the archive).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for _command, _function in (("rebuild", rebuild), ("check", check)):
    _help = inspect.cleandoc(_function.__doc__ or "")
    archive_app.command(_command, help=f"{_DEPRECATED.format(command=_command)}\n\n{_help}")(
        _function
    )
