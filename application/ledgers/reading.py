"""Reading a spreadsheet of findings: XLSX/XLS/ODS (calamine) or CSV (UTF-8 or GB18030,
detected), the header row found by its alias hits (under merged title rows, with a
group row above or a sub-header row below), and the cell values the offices write
(dates in the usual Chinese forms and as Excel serial numbers)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from python_calamine import CalamineWorkbook

from application.errors import Refusal
from application.ledgers.columns import IMPORT_FIELDS, alias_index, header_key

__all__ = [
    "Cell",
    "Sheet",
    "Table",
    "column_letter",
    "find_header",
    "parse_date",
    "read_sheet",
    "several_ledgers",
]

Cell = Any  # str | float | int | bool | date | datetime | time | timedelta | None
_HEADER_SCAN_ROWS = 20
_ERROR_VALUES = frozenset(
    {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!"}
)


@dataclass
class Sheet:
    rows: list[list[Cell]]
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    file_kind: str = "xlsx"  # xlsx | xls | ods | csv
    encoding: str | None = None  # CSV only
    name: str = ""  # the sheet's name in its workbook
    # The workbook's other sheets that hold findings too (a header with the problem and
    # its unit, a row under it): only the first is read, so they are said, never dropped.
    other_ledgers: list[str] = field(default_factory=list)


def not_a_spreadsheet(reason: str = "") -> Refusal:
    return Refusal(
        415,
        "not_a_spreadsheet",
        "文件不是可识别的表格，请上传 XLSX、XLS 或 CSV（UTF-8 或 GB18030 编码）文件"
        + (f"（{reason}）" if reason else ""),
        "the file is not a spreadsheet: send XLSX, XLS or CSV (UTF-8 or GB18030)"
        + (f" ({reason})" if reason else ""),
    )


def _decode(data: bytes) -> tuple[str, str]:
    if b"\x00" in data[:4096]:
        raise not_a_spreadsheet("含有二进制内容")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), "gb18030" if encoding == "gb18030" else "utf-8"
        except UnicodeDecodeError:
            continue
    raise not_a_spreadsheet("文字编码无法识别")


def _read_csv(data: bytes) -> Sheet:
    text, encoding = _decode(data)
    if any(ch in text[:4096] for ch in "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f"):
        raise not_a_spreadsheet("含有控制字符")
    head = text[:4096]
    delimiter = "\t" if head.count("\t") > head.count(",") else ","
    rows: list[list[Cell]] = [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
    if not any(any(str(c).strip() for c in r) for r in rows):
        raise not_a_spreadsheet("文件为空")
    return Sheet(rows=rows, file_kind="csv", encoding=encoding)


def read_sheet(data: bytes) -> Sheet:
    """The first sheet of a workbook, or the rows of a CSV."""
    if not data:
        raise not_a_spreadsheet("文件为空")
    kind = None
    if data[:4] == b"PK\x03\x04":
        kind = "ods" if b"opendocument.spreadsheet" in data[:200] else "xlsx"
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        kind = "xls"
    if kind is None:
        return _read_csv(data)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
        merged = list(sheet.merged_cell_ranges or [])
    except Exception as exc:  # calamine raises several kinds, all meaning "not readable"
        raise not_a_spreadsheet(type(exc).__name__) from exc
    found = Sheet(
        rows=[list(r) for r in rows],
        merged=merged,
        file_kind=kind,
        name=sheet.name,
        other_ledgers=_other_ledgers(book),
    )
    if kind == "xlsx":
        _mark_formula_problems(data, found)
    return found


def _other_ledgers(book: CalamineWorkbook) -> list[str]:
    found = []
    for index, name in enumerate(book.sheet_names):
        if index == 0:
            continue
        try:
            rows = book.get_sheet_by_index(index).to_python(
                skip_empty_area=False, nrows=_HEADER_SCAN_ROWS + 5
            )
        except Exception:  # noqa: S112 - a sheet calamine cannot read holds no rows to import
            continue
        if _holds_findings(Sheet(rows=[list(r) for r in rows])):
            found.append(name)
    return found


def _holds_findings(sheet: Sheet) -> bool:
    """A header naming the problem and its unit, and a filled row under it (lists of
    allowed values, like the template's 可选值, name neither)."""
    try:
        table = find_header(sheet)
    except Refusal:
        return False
    columns = table.columns
    if not ({"description", "title"} & columns.keys() and {"unit", "unit_id"} & columns.keys()):
        return False
    return any(
        cell_text(row[c])
        for row in sheet.rows[table.first_row :]
        for c in columns.values()
        if c < len(row)
    )


def several_ledgers(sheet: Sheet) -> Refusal:
    """Rows of several sheets are never imported in part: the person chooses."""
    zh_names = "、".join(f"「{n}」" for n in sheet.other_ledgers)
    return Refusal(
        422,
        "ledger_several_sheets",
        f"工作簿中除第一个工作表「{sheet.name}」外，工作表{zh_names}也有台账的列名；"
        "一次只导入第一个工作表。请把各表的行合并到第一个工作表，或分别另存为单独的文件"
        "逐个导入",
        f"besides its first sheet ({sheet.name}) the workbook has other sheets with ledger "
        f"columns ({', '.join(sheet.other_ledgers)}); only the first sheet is imported: "
        "move their rows into it, or import each as a file of its own",
    )


NO_RESULT = "#公式无结果"
_CELL = re.compile(rb"<c r=\"([A-Z]+)(\d+)\"([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)


def _mark_formula_problems(data: bytes, sheet: Sheet) -> None:
    """calamine reads a formula's error value (#REF! …) and a formula never computed
    as empty cells; the first sheet's XML says which they are, so they are marked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read("xl/worksheets/sheet1.xml")
    except (KeyError, zipfile.BadZipFile):
        return
    for match in _CELL.finditer(xml):
        attrs, inner = match.group(3), match.group(4) or b""
        error = b't="e"' in attrs
        formula = b"<f" in inner
        computed = re.search(rb"<v[^>]*>[^<]+</v>", inner) is not None
        if not error and not (formula and not computed):
            continue
        col = 0
        for letter in match.group(1).decode():
            col = col * 26 + ord(letter) - ord("A") + 1
        row, col = int(match.group(2)) - 1, col - 1
        value = NO_RESULT
        if error:
            found = re.search(rb"<v>([^<]*)</v>", inner)
            value = found.group(1).decode() if found else "#ERROR!"
        while len(sheet.rows) <= row:
            sheet.rows.append([])
        cells = sheet.rows[row]
        while len(cells) <= col:
            cells.append("")
        cells[col] = value


def column_letter(index: int) -> str:
    """0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cell_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def is_error_value(value: Cell) -> bool:
    return isinstance(value, str) and (
        value.strip().upper() in _ERROR_VALUES or value == NO_RESULT or value == "#ERROR!"
    )


# -- the header ------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """Where the data is: field name -> column index, the header text of each such
    column (for messages), and the first data row (0-based)."""

    columns: dict[str, int]
    headers: dict[int, str]
    first_row: int


_INDEX = alias_index()
_PRIORITY = {
    header_key(alias): position
    for f in IMPORT_FIELDS
    for position, alias in enumerate((f.label, *f.aliases))
}


def _hits(row: list[Cell]) -> int:
    return sum(1 for c in row if header_key(cell_text(c)) in _INDEX)


def _filled(row: list[Cell]) -> list[int]:
    return [i for i, c in enumerate(row) if cell_text(c)]


def _spans_columns(sheet: Sheet, row: int) -> bool:
    return any(r0 == row and c1 > c0 for (r0, c0), (_r1, c1) in sheet.merged)


def find_header(sheet: Sheet) -> Table:
    """The header row is the one of the first rows with the most alias hits (at least
    two); a row above it with two or more filled cells is a group row (a two-row
    header: a column is named by its lower cell, or the group and the lower cell, or
    the group alone where the lower cell is empty); a row below it is a sub-header
    row when the header row has horizontally merged cells or it is mostly aliases."""
    rows = sheet.rows
    scan = rows[:_HEADER_SCAN_ROWS]
    scores = [_hits(r) for r in scan]
    if not scores or max(scores) < 2:
        raise Refusal(
            422,
            "ledger_header_not_found",
            "未找到表头：前 20 行中没有一行包含至少两个可识别的列名（如 问题描述、责任单位、"
            "责任人、整改时限），请使用导入模板",
            "no header row: none of the first 20 rows names two known columns",
        )
    at = scores.index(max(scores))
    upper: list[Cell] | None = None
    lower = rows[at]
    first = at + 1
    if at > 0 and len(_filled(rows[at - 1])) >= 2:
        upper, lower = rows[at - 1], rows[at]
    elif first < len(rows):
        below = rows[first]
        filled = _filled(below)
        if filled and (
            _spans_columns(sheet, at) or (_hits(below) * 2 >= len(filled) and _hits(below) > 0)
        ):
            upper, lower, first = rows[at], below, first + 1
    width = max(len(lower), len(upper) if upper else 0)
    group = ""
    columns: dict[str, int] = {}
    headers: dict[int, str] = {}
    chosen: dict[str, int] = {}  # field -> priority of the alias that chose its column
    for col in range(width):
        low = cell_text(lower[col]) if col < len(lower) else ""
        up = cell_text(upper[col]) if upper is not None and col < len(upper) else ""
        group = up or (group if low else "")
        candidates = [low, group + low] if low else [up]
        for name in candidates:
            key = header_key(name)
            fieldname = _INDEX.get(key)
            if fieldname is None:
                continue
            rank = _PRIORITY[key]
            if fieldname not in columns or rank < chosen[fieldname]:
                columns[fieldname] = col
                chosen[fieldname] = rank
            headers[col] = name
            break
        else:
            headers[col] = low or up
    return Table(columns=columns, headers=headers, first_row=first)


# -- values ----------------------------------------------------------------------------

_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?(?:前|之前|以前)?$"),
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_MONTH_END = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月(?:底|末)?(?:前|之前|以前)?$")


def parse_date(value: Cell) -> date | None:
    """A date from a cell: a date cell, an Excel serial number, 2027年3月31日, 2027/3/31,
    2027-03-31, 2027.3.31, 20270331, or 2027年3月底 (the month's last day).
    None for an empty cell; ValueError for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError(str(value))
    if isinstance(value, int | float):
        if 20_000 <= value <= 80_000 and float(value).is_integer():
            return _EXCEL_EPOCH + timedelta(days=int(value))
        if float(value).is_integer() and 19_000_101 <= value <= 22_001_231:
            value = str(int(value))
        else:
            raise ValueError(str(value))
    text = str(value).strip()
    if not text:
        return None
    if text.isdigit() and 20_000 <= int(text) <= 80_000:
        return _EXCEL_EPOCH + timedelta(days=int(text))
    for pattern in _DATE_PATTERNS:
        found = pattern.match(text)
        if found:
            year, month, day = (int(g) for g in found.groups())
            return date(year, month, day)  # ValueError for 2月30日
    found = _MONTH_END.match(text)
    if found:
        year, month = int(found.group(1)), int(found.group(2))
        following = date(year + month // 12, month % 12 + 1, 1)
        return following - timedelta(days=1)
    raise ValueError(text)
