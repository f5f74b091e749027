"""`zhenggai calendar`: where each year's working days come from, and `calendar apply`,
which recounts the deadlines that were counted on a provisional year once the operator
has entered that year in the policy file.

A year is *official* (the ``chinese-calendar`` package), *operator* (``[[calendar.years]]``
of the policy file; it wins over the package) or *provisional* (weekends and the
fixed-date holidays only). ``calendar apply`` finds, in the event log, every case with
an event whose deadline was counted provisionally, and sends each one's workflow the
``recompute_deadline`` update carrying the file's years; the workflow recounts the
deadline (a ``DeadlineSet`` with reason ``calendar_updated``), moves its timers and keeps
the years for the rest of the case. Cases whose deadline is no longer provisional, or
that have ended, refuse or are gone and are counted as skipped. Running it twice is
harmless.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import typer
from pydantic import ValidationError
from sqlalchemy import Engine, text
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from domain.commands import RecomputeDeadline
from domain.policy import PolicyBook
from domain.schedule import SYSTEM_ACTOR
from domain.state import CaseState
from domain.workdays import CalendarYear, package_years
from settings import Settings
from settings.policy_file import PolicyFileError, policy_book
from workflows.models import CommandRequest, RequestContext

__all__ = ["ApplyReport", "apply_calendar", "calendar_app", "provisional_case_streams", "year_rows"]

calendar_app = typer.Typer(
    help="Calendar years: official, from the policy file, or provisional; `apply` recounts"
    " provisional deadlines.",
    invoke_without_command=True,
)

_SOURCE_ZH = {
    "official": "官方（chinese-calendar 数据包）",
    "operator": "运营方（策略文件）",
    "provisional": "临时（仅周末和固定日期节日，期限标为临时）",
}
_SOURCE_EN = {
    "official": "official (chinese-calendar package)",
    "operator": "operator (policy file)",
    "provisional": "provisional (weekends and fixed-date holidays only; deadlines flagged)",
}


def year_rows(book: PolicyBook, this_year: int) -> list[tuple[int, str]]:
    """(year, source) from the first known year to the later of next year and the last known."""
    calendar = book.base.calendar
    known = {y.year for y in calendar.years}
    if calendar.use_package:
        known |= {y.year for y in package_years()}
    first = min(known | {this_year})
    last = max(known | {this_year + 1})
    return [(year, calendar.year_source(year)) for year in range(first, last + 1)]


def _settings_and_book() -> tuple[Settings, PolicyBook]:
    try:
        settings = Settings()
    except ValidationError as exc:
        typer.echo(f"zhenggai: {exc.errors()[0]['msg']}", err=True)
        raise typer.Exit(2) from None
    try:
        return settings, policy_book(settings.policy_file, settings.language)
    except PolicyFileError as exc:
        for line in exc.lines:
            typer.echo(f"zhenggai: {line}", err=True)
        raise typer.Exit(2) from None


@calendar_app.callback()
def calendar_years(ctx: typer.Context) -> None:
    """List each year as official, operator or provisional."""
    if ctx.invoked_subcommand is not None:
        return
    settings, book = _settings_and_book()
    names = _SOURCE_EN if settings.language == "en" else _SOURCE_ZH
    for year, source in year_rows(book, datetime.now(UTC).year):
        typer.echo(f"{year}  {names[source]}")


# -- apply -------------------------------------------------------------------------------


def provisional_case_streams(engine: Engine) -> list[str]:
    """Streams with an event whose deadline was counted on a provisional calendar."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT DISTINCT stream_id FROM events "
                "WHERE data->>'deadline_provisional' = 'true' ORDER BY stream_id"
            )
        )
        return [row.stream_id for row in rows]


@dataclass
class ApplyReport:
    recounted: dict[str, CaseState] = field(default_factory=dict)  # stream -> new state
    skipped: dict[str, str] = field(default_factory=dict)  # stream -> why


def _correlation_id(years: tuple[CalendarYear, ...]) -> str:
    content = json.dumps([y.model_dump(mode="json") for y in years], sort_keys=True)
    return "recompute-calendar-" + hashlib.sha256(content.encode()).hexdigest()[:16]


async def apply_calendar(
    client: Client, streams: Iterable[str], years: tuple[CalendarYear, ...]
) -> ApplyReport:
    """Send each case's workflow the recompute update with these calendar years."""
    report = ApplyReport()
    # No fixed update id: a repeat is refused by the case itself (its deadline is no
    # longer provisional), so a second `apply` reports it as skipped, not recounted.
    request: CommandRequest[RecomputeDeadline] = CommandRequest(
        command=RecomputeDeadline(actor=SYSTEM_ACTOR, years=years),
        context=RequestContext(correlation_id=_correlation_id(years)),
    )
    for stream in streams:
        handle = client.get_workflow_handle(stream)
        try:
            state = await handle.execute_update(
                "recompute_deadline", request, result_type=CaseState
            )
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            details = cause.details if isinstance(cause, ApplicationError) else ()
            report.skipped[stream] = str(details[0]) if details else str(cause)
            continue
        except RPCError as exc:  # the workflow has ended (closed and past look-back, withdrawn)
            report.skipped[stream] = f"not running: {exc.message}"
            continue
        report.recounted[stream] = state
    return report


@calendar_app.command("apply")
def apply() -> None:
    """Recount every deadline counted on a provisional year with the policy file's years."""
    from cli.database import resolve_database_url
    from store.engine import make_engine
    from worker import connect_temporal

    settings, book = _settings_and_book()
    en = settings.language == "en"
    years = book.base.calendar.years
    if not years:
        typer.echo(
            "the policy file adds no calendar years: nothing to apply"
            if en
            else "策略文件中没有补充的日历年份，无需重算"
        )
        return
    engine = make_engine(resolve_database_url(settings))
    try:
        streams = provisional_case_streams(engine)
    finally:
        engine.dispose()

    async def run() -> ApplyReport:
        client = await asyncio.wait_for(connect_temporal(settings), timeout=10)
        return await apply_calendar(client, streams, years)

    try:
        report = asyncio.run(run())
    except (TimeoutError, RuntimeError, OSError) as exc:
        typer.echo(
            f"zhenggai: Temporal at {settings.temporal_target} is unreachable: {exc}"
            if en
            else f"zhenggai: 无法连接 Temporal（{settings.temporal_target}）：{exc}",
            err=True,
        )
        raise typer.Exit(2) from None
    for stream, state in report.recounted.items():
        flag = (
            (" (still provisional)" if en else "（仍为临时）") if state.deadline_provisional else ""
        )
        typer.echo(f"{stream}: {'deadline' if en else '期限'} {state.deadline}{flag}")
    listed = ", ".join(str(y.year) for y in years)
    typer.echo(
        f"calendar years {listed}: {len(report.recounted)} cases recounted, "
        f"{len(report.skipped)} skipped"
        if en
        else f"日历年份 {listed}：重算 {len(report.recounted)} 件，跳过 {len(report.skipped)} 件"
    )
