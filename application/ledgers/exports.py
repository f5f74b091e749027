"""The rectification ledger (整改台账) of a subtree, as XLSX or CSV, from one column
definition (``columns.LEDGER_COLUMNS``): a title row, a two-row header, one row per
case. The cases are the case list's (``application.case_lists.case_page``: the same
filters, the same scope rules), read a page at a time and written as they come (a
long-term case's 阶段节点 from its state, folded from its events, in the cell format
the import reads):
XLSX by XlsxWriter in constant-memory mode (to a temporary file, streamed back),
CSV line by line, so memory stays flat however many cases there are.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from typing import Any

import xlsxwriter

from application.access import ensure_sees_cases, scope_root
from application.caller import Caller
from application.case_lists import CaseQuery, _scope_filter
from application.ledgers.columns import (
    KIND_LABELS,
    LEDGER_COLUMNS,
    LEDGER_TITLE,
    LEVEL_LABELS,
    LIGHT_LABELS,
    SOURCE_LABELS,
    LedgerColumn,
)
from application.ledgers.milestones import CellMilestone, format_milestones
from application.services import Services
from domain.chinese_dates import zh_date
from domain.events import event_class
from domain.policy import DEFAULT_POLICY
from domain.state import fold
from domain.vocabulary import CaseKind, CaseStatus
from store.ledgers import LedgerDetails, ledger_details
from store.projections.case_summary import CaseFilters, CaseRow, iter_cases

__all__ = ["ledger_csv", "ledger_title", "ledger_xlsx", "office_state", "xlsx_header"]

PAGE = 1000


def office_state(row: CaseRow, details: LedgerDetails) -> str:
    """The state offices report (已完成整改 / 正在整改 / 长期整改 / 尚未整改)."""
    if row.status is CaseStatus.CLOSED:
        return "已完成整改"
    if row.status is CaseStatus.WITHDRAWN:
        return "已撤销"
    if row.status is CaseStatus.CLOSURE_PENDING:
        return "正在整改（已申请销号）"
    if row.kind is CaseKind.LONG_TERM and not row.overdue:
        return "长期整改"
    if not details.plan and not details.progress:
        return "尚未整改"
    return "正在整改"


def _china_date(moment: datetime | None) -> str:
    return "" if moment is None else DEFAULT_POLICY.today(moment).isoformat()


def ledger_values(
    seq: int,
    row: CaseRow,
    details: LedgerDetails,
    units: dict[str, str],
    cadres: dict[str, str],
    milestones: str = "",
) -> dict[str, Any]:
    closed = row.status is CaseStatus.CLOSED
    progress = details.progress
    if details.progress_percent is not None and progress:
        progress = f"{progress}（完成 {details.progress_percent}%）"
    merged = len(row.sources) - 1
    return {
        "seq": seq,
        "case_id": row.case_id,
        "source": row.source.value,
        "source_label": SOURCE_LABELS.get(row.source, ""),
        "category": row.category or "",
        "severity": details.severity or "",
        "title": row.title,
        "description": row.description,
        "unit": units.get(row.unit_id, ""),
        "unit_id": row.unit_id,
        "cadre": cadres.get(row.cadre_id, ""),
        "cadre_id": row.cadre_id,
        "kind": row.kind.value if row.kind else "",
        "kind_label": KIND_LABELS.get(row.kind, "") if row.kind else "",
        "target": details.target,
        "measures": details.plan,
        "deadline": row.deadline.isoformat() if row.deadline else "",
        "milestones": milestones,
        "progress": progress,
        "status": row.status.value,
        "status_label": office_state(row, details),
        "light": LIGHT_LABELS.get(row.light, row.light.value),
        "level": LEVEL_LABELS.get(row.escalation_level, ""),
        "done": "是" if closed else "否",
        "closed": "是" if closed else "否",
        "closed_on": _china_date(row.closed_at if closed else None),
        "next_steps": "" if closed else details.next_steps,
        "remark": f"另有 {merged} 个渠道发现同一问题，已合并" if merged > 0 else "",
    }


def ledger_title(unit_name: str, today: date) -> str:
    return f"{unit_name}{LEDGER_TITLE}（截至 {zh_date(today)}）"


def xlsx_header(columns: tuple[LedgerColumn, ...] = LEDGER_COLUMNS) -> list[list[str]]:
    """The two header rows as CSV writes them (a group in its first column only)."""
    upper: list[str] = []
    lower: list[str] = []
    previous: str | None = None
    for column in columns:
        if column.group is None:
            upper.append(column.header)
            lower.append("")
        else:
            upper.append(column.group if column.group != previous else "")
            lower.append(column.header)
        previous = column.group
    return [upper, lower]


def milestone_cells(services: Services, rows: list[CaseRow]) -> dict[str, str]:
    """The 阶段节点 cell of each long-term case of the rows (by stream id): its
    milestones as they are now, folded from its events read in one statement; a
    reported one marked 已报告 (which the import ignores)."""
    long_term = [r.stream_id for r in rows if r.kind is CaseKind.LONG_TERM]
    if not long_term:
        return {}
    streams = services.store.read_streams(long_term)
    cells: dict[str, str] = {}
    for stream_id, recorded in streams.items():
        state = fold(event_class(e.type).model_validate(e.data) for e in recorded)
        if state is not None and state.milestones:
            cells[stream_id] = format_milestones(
                CellMilestone(title=m.title, due=m.due, reported=m.reported)
                for m in state.milestones
            )
    return cells


async def _rows(
    services: Services, caller: Caller, query: CaseQuery
) -> AsyncIterator[list[dict[str, Any]]]:
    """The ledger's rows a batch at a time, in the case list's order, within the
    caller's scope (the case list's scope rules and filters), read by one query."""
    ensure_sees_cases(caller.actor)
    directory = services.directory
    scope = await asyncio.to_thread(_scope_filter, directory, caller.actor, query.unit)
    filters = CaseFilters.model_validate({**scope, **query.filters})
    root = await asyncio.to_thread(scope_root, directory, caller.actor, query.unit)
    units = {u.unit_id: u.name for u in await asyncio.to_thread(directory.subtree, root.unit_id)}
    cadres = {c.cadre_id: c.name for c in await asyncio.to_thread(directory.cadres)}
    engine = services.store.engine
    batches = iter_cases(engine, filters, query.sort, PAGE)
    seq = 0
    try:
        while True:
            batch = await asyncio.to_thread(next, batches, None)
            if batch is None:
                return
            details = await asyncio.to_thread(ledger_details, engine, [r.stream_id for r in batch])
            milestones = await asyncio.to_thread(milestone_cells, services, batch)
            values = []
            for row in batch:
                seq += 1
                values.append(
                    ledger_values(
                        seq,
                        row,
                        details[row.stream_id],
                        units,
                        cadres,
                        milestones.get(row.stream_id, ""),
                    )
                )
            yield values
    finally:
        await asyncio.to_thread(batches.close)


async def _root_name(services: Services, caller: Caller, query: CaseQuery) -> str:
    ensure_sees_cases(caller.actor)
    root = await asyncio.to_thread(scope_root, services.directory, caller.actor, query.unit)
    return root.name


async def ledger_csv(services: Services, caller: Caller, query: CaseQuery) -> AsyncIterator[bytes]:
    """The ledger as CSV (UTF-8 with a BOM, which Excel needs to read it as UTF-8),
    streamed: a title line, two header lines, one line per case."""
    title = ledger_title(await _root_name(services, caller, query), _today())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def take() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow([title] + [""] * (len(LEDGER_COLUMNS) - 1))
    writer.writerows(xlsx_header())
    yield "\ufeff".encode() + take()
    async for page in _rows(services, caller, query):
        for values in page:
            writer.writerow([values[c.key] for c in LEDGER_COLUMNS])
        yield take()


def _today() -> date:
    return DEFAULT_POLICY.today(datetime.now(UTC))


class _XlsxLedger:
    """XlsxWriter in constant-memory mode: rows are written in order and flushed."""

    def __init__(self, path: str, title: str) -> None:
        self.book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_urls": False})
        self.sheet = self.book.add_worksheet(LEDGER_TITLE)
        self.row = 0
        book, sheet = self.book, self.sheet
        title_format = book.add_format(
            {"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"}
        )
        head = book.add_format(
            {
                "bold": True,
                "align": "center",
                "valign": "vcenter",
                "border": 1,
                "text_wrap": True,
                "bg_color": "#DDEBF7",
            }
        )
        self.cell = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
        for index, column in enumerate(LEDGER_COLUMNS):
            sheet.set_column(index, index, column.width)
        last = len(LEDGER_COLUMNS) - 1
        sheet.set_row(0, 30)
        sheet.merge_range(0, 0, 0, last, title, title_format)
        # Two-row header: a group over its columns, a lone column over both rows. In
        # constant-memory mode rows are written in order (a write to row 2 flushes row
        # 1), so the vertical merges are registered after both rows are written.
        index = 0
        while index <= last:
            column = LEDGER_COLUMNS[index]
            end = index
            while (
                column.group is not None
                and end + 1 <= last
                and LEDGER_COLUMNS[end + 1].group == column.group
            ):
                end += 1
            if end > index:
                sheet.merge_range(1, index, 1, end, column.group, head)
            else:
                sheet.write(1, index, column.group or column.header, head)
            index = end + 1
        for index, column in enumerate(LEDGER_COLUMNS):
            if column.group is None:
                sheet.write_blank(2, index, None, head)
                sheet.merge.append([1, index, 2, index])
            else:
                sheet.write(2, index, column.header, head)
        sheet.freeze_panes(3, 2)
        self.row = 3

    def write(self, page: list[dict[str, Any]]) -> None:
        # Typed writes: a third faster than ``write``, which guesses each cell's type.
        sheet, cell, keys = self.sheet, self.cell, [c.key for c in LEDGER_COLUMNS]
        for values in page:
            for index, key in enumerate(keys):
                value = values[key]
                if isinstance(value, str):
                    sheet.write_string(self.row, index, value, cell)
                else:
                    sheet.write_number(self.row, index, value, cell)
            self.row += 1

    def close(self) -> None:
        if self.row > 3:
            self.sheet.autofilter(2, 0, self.row - 1, len(LEDGER_COLUMNS) - 1)
        self.book.close()


async def ledger_xlsx(services: Services, caller: Caller, query: CaseQuery) -> str:
    """Writes the ledger to a temporary XLSX file and gives its path (the caller removes
    it once sent; ``iter_file`` does)."""
    title = ledger_title(await _root_name(services, caller, query), _today())
    handle, path = tempfile.mkstemp(prefix="zhenggai-ledger-", suffix=".xlsx")
    os.close(handle)
    try:
        ledger = _XlsxLedger(path, title)
        async for page in _rows(services, caller, query):
            await asyncio.to_thread(ledger.write, page)
        await asyncio.to_thread(ledger.close)
    except BaseException:
        os.unlink(path)
        raise
    return path


def iter_file(path: str, chunk: int = 1 << 16) -> Iterator[bytes]:
    """The file's bytes, then the file is removed."""
    try:
        with open(path, "rb") as source:
            while data := source.read(chunk):
                yield data
    finally:
        os.unlink(path)


__all__ += ["iter_file", "ledger_values", "milestone_cells"]
