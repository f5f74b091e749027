"""Import findings from a ledger (XLSX, XLS, CSV): a preview, then an idempotent apply.

``preview_import`` reads the file, finds its header, and checks every row before
anything is written: each problem is named by row and column in Chinese; rows
that repeat an open case of their unit (减负, the same measure ``record_finding``
uses) or an earlier row of the file are flagged. A long-term row's 阶段节点 cell is
read by ``application.ledgers.milestones`` (m1, m2 … in order); its problems, and the
domain's milestone rules, are errors of that column. ``apply_import`` refuses a file
with any error (nothing is written), then opens each row's case once through
``application.findings.record_finding``:

- a row without a case id gets the id ``imp-<file hash>-<row>``, and every row is
  sent with the Idempotency-Key ``ledger:<file hash>:<row>``, so the same file
  imported again, or resumed after a failure, adds nothing twice (a row already
  opened is "already imported", whichever door imported it);
- the summary says what was opened, merged into open cases, skipped and refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from application.access import ensure_role, scope_root
from application.caller import Caller
from application.duplicate_text import lexicon_of
from application.duplicates import judge_against
from application.errors import Refusal
from application.findings import record_finding
from application.ledgers.columns import CODES, IMPORT_FIELDS, code_of
from application.ledgers.milestones import parse_milestones
from application.ledgers.reading import (
    NO_RESULT,
    Cell,
    Sheet,
    Table,
    cell_text,
    column_letter,
    find_header,
    is_error_value,
    parse_date,
    read_sheet,
    several_ledgers,
)
from application.models import FindingIn
from application.services import Services
from domain.case import decide
from domain.commands import OpenCase
from domain.duplicates import (
    Analysed,
    Band,
    CaseSummary,
    FindingText,
    Lexicon,
    analyse,
    normalize,
    reachable,
)
from domain.errors import DomainError
from domain.vocabulary import Role
from store.directory import Cadre, Directory, Unit
from store.ledgers import existing_streams
from store.projections.case_summary import open_cases_of_unit
from workflows.models import case_workflow_id

__all__ = [
    "IMPORT_MAX_BYTES",
    "ImportPreview",
    "ImportSummary",
    "RowError",
    "RowOutcome",
    "RowPreview",
    "apply_import",
    "has_errors",
    "preview_import",
    "row_finding_id",
    "row_key",
]

MAX_ROWS = 50_000
IMPORT_MAX_BYTES = 20 * 1024 * 1024  # a ledger file
APPLY_CONCURRENCY = 4
TITLE_LENGTH = 60


class RowError(BaseModel):
    row: int  # as the spreadsheet numbers it (1 = the first row)
    column: str  # the column's letter and header, e.g. "F 整改时限"; "" for the row
    message_zh: str
    message_en: str


Action = Literal["open", "merge", "skip", "error"]
# What to do with a row in the possible band of the duplicate check (a person decides):
# "ask" makes it an error of the row (fill 并入案件 or 另行立案 in the file), "new"
# opens it as a new case, "merge" merges it into the best candidate.
Possible = Literal["ask", "new", "merge"]


class RowPreview(BaseModel):
    row: int
    action: Action  # what apply would do
    finding: FindingIn | None = None
    errors: list[RowError] = []
    duplicate_of_case: str | None = None  # an open case of the unit it repeats
    similarity: str | None = None
    duplicate_of_row: int | None = None  # an earlier row of the file it repeats
    existing_case: str | None = None  # the case this row opened before (or names)
    note_zh: str = ""


class ImportPreview(BaseModel):
    file_sha256: str
    file_kind: str
    encoding: str | None
    header_row: int  # the spreadsheet row data follows (the last header row)
    columns: dict[str, str]  # field -> "letter header"
    rows: list[RowPreview]
    errors: list[RowError]  # every row's, in order
    counts: dict[str, int]  # open, merge, skip, error

    @property
    def ok(self) -> bool:
        return not self.errors


class RowOutcome(BaseModel):
    row: int
    outcome: Literal["opened", "merged", "already_imported", "skipped", "refused"]
    case_id: str | None = None
    message_zh: str = ""


class ImportSummary(BaseModel):
    file_sha256: str
    counts: dict[str, int]  # opened, merged, already_imported, skipped, refused
    rows: list[RowOutcome]
    summary_zh: str


# -- preview ---------------------------------------------------------------------------


@dataclass
class _Scope:
    units_by_id: dict[str, Unit]
    units_by_name: dict[str, list[Unit]]
    cadres_by_id: dict[str, Cadre]
    cadres_by_name: dict[str, list[Cadre]]
    grams: dict[str, Analysed] = field(default_factory=dict)  # by case id

    def case_grams(self, case: CaseSummary, lexicon: Lexicon) -> Analysed:
        found = self.grams.get(case.case_id)
        if found is None:
            found = self.grams[case.case_id] = _grams(case, lexicon)
        return found


def _name_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _load_scope(directory: Directory, caller: Caller, unit: str | None) -> _Scope:
    root = scope_root(directory, caller.actor, unit)
    units = directory.subtree(root.unit_id)
    by_name: dict[str, list[Unit]] = defaultdict(list)
    for u in units:
        by_name[_name_key(u.name)].append(u)
    # The cadres a person may name (application.access.cadre_in_scope): of their scope.
    mine = units if root.unit_id == caller.actor.unit_id else _caller_units(directory, caller)
    allowed = {u.unit_id for u in mine}
    cadres_by_id = {c.cadre_id: c for c in directory.cadres() if c.unit_id in allowed}
    cadres_by_name: dict[str, list[Cadre]] = defaultdict(list)
    for c in cadres_by_id.values():
        cadres_by_name[_name_key(c.name)].append(c)
    return _Scope({u.unit_id: u for u in units}, by_name, cadres_by_id, cadres_by_name)


def _caller_units(directory: Directory, caller: Caller) -> list[Unit]:
    unit_id = caller.actor.unit_id
    return [] if unit_id is None else directory.subtree(unit_id)


def row_key(file_sha256: str, row: int) -> str:
    return f"ledger:{file_sha256[:32]}:{row}"


def row_finding_id(file_sha256: str, row: int) -> str:
    return f"imp-{file_sha256[:20]}-{row}"


_PYDANTIC_ZH = {
    "missing": "不能为空",
    "string_too_short": "不能为空",
    "string_too_long": "内容过长",
    "string_pattern_mismatch": "只能包含字母、数字、- 和 _",
    "enum": "不是可选值",
    "date_from_datetime_parsing": "不是日期",
}


class _Row:
    """One row's cells by field, and the errors found while reading them."""

    def __init__(self, table: Table, cells: list[Cell], number: int) -> None:
        self.table, self.cells, self.number = table, cells, number
        self.errors: list[RowError] = []

    def column(self, fieldname: str) -> str:
        col = self.table.columns.get(fieldname)
        if col is None:
            return next(f.label for f in IMPORT_FIELDS if f.name == fieldname)
        return f"{column_letter(col)} {self.table.headers.get(col, '')}".strip()

    def raw(self, fieldname: str) -> Cell:
        col = self.table.columns.get(fieldname)
        if col is None or col >= len(self.cells):
            return None
        return self.cells[col]

    def text(self, fieldname: str) -> str:
        value = self.raw(fieldname)
        if is_error_value(value):
            if value == NO_RESULT:
                zh = "单元格是没有计算结果的公式，请在 Excel 中打开并保存，或改为实际内容"
            else:
                zh = f"单元格是公式的错误值 {str(value).strip()}，请改为实际内容"
            self.fail(fieldname, zh, f"the cell holds a formula without a value: {value}")
            return ""
        return cell_text(value)

    def fail(self, fieldname: str | None, zh: str, en: str) -> None:
        column = "" if fieldname is None else self.column(fieldname)
        self.errors.append(RowError(row=self.number, column=column, message_zh=zh, message_en=en))


def _is_empty(table: Table, cells: list[Cell]) -> bool:
    return not any(cell_text(cells[c]) for c in table.columns.values() if c < len(cells))


def _fill_merged(sheet: Sheet, first_row: int) -> None:
    """A value of merged data cells (e.g. one unit over three rows) counts for each row."""
    for (r0, c0), (r1, c1) in sheet.merged:
        if r1 < first_row or r0 >= len(sheet.rows):
            continue
        top = sheet.rows[r0]
        value = top[c0] if c0 < len(top) else None
        for r in range(max(r0, first_row), min(r1, len(sheet.rows) - 1) + 1):
            row = sheet.rows[r]
            while len(row) <= c1:
                row.append("")
            for c in range(c0, c1 + 1):
                row[c] = value


def _unit_of(row: _Row, scope: _Scope) -> Unit | None:
    """By id or by name (the id column first, whichever a cell holds)."""
    fieldname = "unit_id" if row.text("unit_id") else "unit"
    value = row.text(fieldname)
    if not value:
        row.fail("unit", "责任单位不能为空", "the responsible unit is empty")
        return None
    if value in scope.units_by_id:
        return scope.units_by_id[value]
    matches = scope.units_by_name.get(_name_key(value), [])
    if len(matches) == 1:
        return matches[0]
    if matches:
        ids = "、".join(u.unit_id for u in matches)
        row.fail(
            fieldname,
            f"责任单位「{value}」有重名（{ids}），请填写单位编号",
            f"unit name {value} is ambiguous ({ids}): give the unit id",
        )
    else:
        row.fail(
            fieldname,
            f"责任单位「{value}」不存在或不在您的管辖范围内",
            f"unit {value} is unknown or outside your scope",
        )
    return None


def _cadre_of(row: _Row, scope: _Scope, unit: Unit | None) -> Cadre | None:
    """By id or by name; a name shared by several cadres is taken in the row's unit."""
    fieldname = "cadre_id" if row.text("cadre_id") else "cadre"
    value = row.text(fieldname)
    if not value:
        row.fail("cadre", "责任人不能为空", "the responsible cadre is empty")
        return None
    if value in scope.cadres_by_id:
        return scope.cadres_by_id[value]
    matches = scope.cadres_by_name.get(_name_key(value), [])
    if unit is not None and len(matches) > 1:
        matches = [c for c in matches if c.unit_id == unit.unit_id] or matches
    if len(matches) == 1:
        return matches[0]
    if matches:
        row.fail(
            fieldname,
            f"责任人「{value}」有重名，请填写责任人编号",
            f"cadre name {value} is ambiguous: give the cadre id",
        )
    else:
        row.fail(
            fieldname,
            f"责任人「{value}」不存在或不在您的管辖范围内",
            f"cadre {value} is unknown or outside your scope",
        )
    return None


def _coded(row: _Row, fieldname: str, required: bool) -> str | None:
    value = row.text(fieldname)
    if not value:
        if required:
            label = next(f.label for f in IMPORT_FIELDS if f.name == fieldname)
            row.fail(fieldname, f"{label}不能为空", f"{fieldname} is empty")
        return None
    code = code_of(fieldname, value)
    if code is None:
        allowed = "、".join(CODES[fieldname].values())
        row.fail(
            fieldname,
            f"「{value}」不是可选值，可选：{allowed}",
            f"{value!r} is not one of the allowed values",
        )
    return code


def _yes_no(row: _Row, fieldname: str) -> bool:
    value = row.text(fieldname).casefold()
    if value in ("", "否", "no", "false", "0", "n"):
        return False
    if value in ("是", "yes", "true", "1", "y"):
        return True
    row.fail(fieldname, f"「{value}」应填写“是”或“否”", f"{value!r} is not yes or no")
    return False


def _deadline(row: _Row) -> date | None:
    value = row.raw("deadline")
    if is_error_value(value):
        row.text("deadline")
        return None
    try:
        return parse_date(value)
    except ValueError:
        row.fail(
            "deadline",
            f"整改时限「{cell_text(value)}」不是有效日期（可写 2027年3月31日、2027-03-31、"
            "2027/3/31、2027.3.31）",
            f"deadline {cell_text(value)!r} is not a date",
        )
        return None


_FIELD_OF_LOC = {"title": "title", "description": "description", "target": "target"}
_MILESTONE_PATH = re.compile(r"^milestones(?:\.(\d+))?(?:\.[a-z_]+)?\s*[:：]\s*")


def _milestones(row: _Row) -> list[dict[str, Any]]:
    """The 阶段节点 cell's milestones, numbered m1, m2 … in order; each problem of the
    cell is an error of its column."""
    found, problems = parse_milestones(row.text("milestones"))
    for problem in problems:
        row.fail("milestones", problem.message_zh, problem.message_en)
    return [
        {"milestone_id": f"m{n}", "title": m.title, "due": m.due}
        for n, m in enumerate(found, start=1)
    ]


def _milestone_field(row: _Row) -> str:
    """Where a broken milestone rule is shown: the 阶段节点 column, or 整改类型 in a
    ledger without one."""
    return "milestones" if "milestones" in row.table.columns else "kind"


def _milestone_message(row: _Row, index: int | None, zh: str, en: str) -> tuple[str, str]:
    if index is not None:
        zh, en = f"第 {index + 1} 个节点：{zh}", f"milestone {index + 1}: {en}"
    if "milestones" not in row.table.columns:
        zh += "（请在台账中增加“阶段节点”列，如「2027年3月31日 完成管网排查；2027年9月30日 …」）"
        en += " (add a 阶段节点 column to the ledger)"
    return zh, en


def _finding_of(row: _Row, scope: _Scope) -> FindingIn | None:
    finding_id = row.text("finding_id") or None
    title, description = row.text("title"), row.text("description")
    if not title:
        if not description:
            row.fail("description", "问题描述不能为空", "the problem's description is empty")
        title = description.split("。")[0][:TITLE_LENGTH]
    source = _coded(row, "source", required=True)
    kind = _coded(row, "kind", required=False)
    severity = row.text("severity") or None
    if severity is not None and len(severity) > 32:
        row.fail("severity", "严重程度内容过长（最多 32 字）", "severity is too long")
    unit = _unit_of(row, scope)
    cadre = _cadre_of(row, scope, unit)
    deadline = _deadline(row)
    target = row.text("target")
    category = row.text("category") or None
    merge_into = row.text("merge_into") or None
    force_new = _yes_no(row, "force_new")
    milestones = _milestones(row)
    if row.errors or unit is None or cadre is None or source is None:
        return None
    body: dict[str, Any] = {
        "finding_id": finding_id,
        "title": title,
        "description": description,
        "source": source,
        "category": category,
        "severity": severity,
        "unit_id": unit.unit_id,
        "cadre_id": cadre.cadre_id,
        "deadline": deadline,
        "target": target,
        "merge_into": merge_into,
        "force_new": force_new,
    }
    if kind is not None:
        body["kind"] = kind
    if milestones:
        body["milestones"] = milestones
    try:
        return FindingIn.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(p) for p in error["loc"]]
            fieldname = {"unit_id": "unit", "cadre_id": "cadre"}.get(loc[0], loc[0]) if loc else ""
            known = fieldname in {f.name for f in IMPORT_FIELDS}
            zh = str(
                error.get("ctx", {}).get("message_zh")
                or _PYDANTIC_ZH.get(error["type"], "内容无效")
            )
            en = str(error.get("ctx", {}).get("message_en") or error["msg"])
            if fieldname == "milestones":
                index = int(loc[1]) if len(loc) > 1 and loc[1].isdigit() else None
                zh, en = _milestone_message(row, index, zh, en)
                fieldname = _milestone_field(row)
            row.fail(fieldname if known else None, zh, en)
        return None


def _domain_check(
    row: _Row, finding: FindingIn, scope: _Scope, services: Services, caller: Caller
) -> None:
    unit = scope.units_by_id.get(finding.unit_id)
    policy = services.policy.for_class(unit.unit_class if unit else None)
    command = OpenCase(
        actor=caller.actor,
        finding_id=finding.finding_id or "import-preview",
        override_duplicate=finding.force_new,
        **finding.model_dump(exclude={"finding_id", "force_new"}),
    )
    try:
        decide(None, command, datetime.now(UTC), policy)
    except DomainError as exc:
        fieldname = "deadline" if "deadline" in exc.code else None
        zh, en = exc.message_zh, exc.message_en
        if "milestone" in exc.code:
            # The domain names the milestone by its path (milestones.1.due：…).
            at = _MILESTONE_PATH.match(zh)
            index = int(at.group(1)) if at and at.group(1) else None
            zh, en = _MILESTONE_PATH.sub("", zh), _MILESTONE_PATH.sub("", en)
            zh, en = _milestone_message(row, index, zh, en)
            fieldname = _milestone_field(row)
        elif "long_term" in exc.code:
            fieldname = "kind"
        row.fail(fieldname, zh, en)


def _preview(
    services: Services, caller: Caller, data: bytes, unit: str | None, possible: Possible
) -> ImportPreview:
    sha = hashlib.sha256(data).hexdigest()
    sheet = read_sheet(data)
    if sheet.other_ledgers:
        raise several_ledgers(sheet)
    table = find_header(sheet)
    missing = [
        f
        for f in IMPORT_FIELDS
        if f.required
        and f.name not in table.columns
        and not (f.name == "unit" and "unit_id" in table.columns)
        and not (f.name == "cadre" and "cadre_id" in table.columns)
    ]
    if "description" not in table.columns and "title" not in table.columns:
        missing.append(next(f for f in IMPORT_FIELDS if f.name == "description"))
    if missing:
        names = "、".join(f.label for f in missing)
        raise Refusal(
            422,
            "ledger_columns_missing",
            f"缺少必需的列：{names}（第 {table.first_row} 行为表头）",
            f"required columns missing: {', '.join(f.name for f in missing)}",
            errors=[{"field": f.label, "message": "missing column"} for f in missing],
        )
    if len(sheet.rows) - table.first_row > MAX_ROWS:
        raise Refusal(
            413,
            "ledger_too_large",
            f"一次最多导入 {MAX_ROWS} 行，请分批导入",
            f"at most {MAX_ROWS} rows per import",
        )
    _fill_merged(sheet, table.first_row)
    scope = _load_scope(services.directory, caller, unit)
    open_cases: dict[str, list[CaseSummary]] = {}
    seen_text: dict[tuple[str, str], int] = {}
    seen_ids: dict[str, int] = {}
    previews: list[RowPreview] = []
    pending: list[tuple[_Row, FindingIn]] = []
    for index in range(table.first_row, len(sheet.rows)):
        cells = sheet.rows[index]
        if _is_empty(table, cells):
            continue
        row = _Row(table, cells, index + 1)
        finding = _finding_of(row, scope)
        if row.errors or finding is None:
            previews.append(RowPreview(row=row.number, action="error", errors=row.errors))
            continue
        pending.append((row, finding))
    # The ids the rows will open under, and which of them exist already.
    sha_ids = {
        row.number: finding.finding_id or row_finding_id(sha, row.number)
        for row, finding in pending
    }
    existing = existing_streams(
        services.store.engine, [case_workflow_id(i) for i in sha_ids.values()]
    )
    for row, finding in pending:
        fid = sha_ids[row.number]
        if case_workflow_id(fid) not in existing:
            # The rules of opening (deadline and milestones after today …) bind a row
            # still to open; a row of a case that exists (an exported ledger imported
            # back, its milestones since passed) is skipped whatever its dates.
            _domain_check(row, finding, scope, services, caller)
            if row.errors:
                previews.append(RowPreview(row=row.number, action="error", errors=row.errors))
                continue
        preview = RowPreview(row=row.number, action="open", finding=finding)
        text_key = (finding.unit_id, normalize(finding.title + finding.description))
        if case_workflow_id(fid) in existing:
            preview.action = "skip"
            preview.existing_case = fid
            preview.note_zh = f"案件 {fid} 已存在（已导入），跳过"
            seen_text.setdefault(text_key, row.number)
        elif fid in seen_ids:
            row.fail("finding_id", f"案件编号与第 {seen_ids[fid]} 行重复", "duplicate case id")
            preview.action, preview.errors = "error", row.errors
        elif text_key in seen_text:
            preview.action = "skip"
            preview.duplicate_of_row = seen_text[text_key]
            preview.note_zh = f"与第 {seen_text[text_key]} 行重复，跳过"
        else:
            seen_ids[fid] = row.number
            seen_text[text_key] = row.number
            if finding.unit_id not in open_cases:
                open_cases[finding.unit_id] = open_cases_of_unit(
                    services.store.engine, finding.unit_id
                )
            _judge(row, preview, finding, open_cases[finding.unit_id], scope, services, possible)
        previews.append(preview)
    previews.sort(key=lambda p: p.row)
    errors = [e for p in previews for e in p.errors]
    counts = {
        a: sum(1 for p in previews if p.action == a) for a in ("open", "merge", "skip", "error")
    }
    return ImportPreview(
        file_sha256=sha,
        file_kind=sheet.file_kind,
        encoding=sheet.encoding,
        header_row=table.first_row,
        columns={
            name: f"{column_letter(col)} {table.headers.get(col, '')}"
            for name, col in table.columns.items()
        },
        rows=previews,
        errors=errors,
        counts=counts,
    )


def _grams(text: FindingText, lexicon: Lexicon) -> Analysed:
    """The bigrams ``judge`` compares (they do not depend on the word segmenter)."""
    return analyse(text, lexicon)


def _judge(
    row: _Row,
    preview: RowPreview,
    finding: FindingIn,
    open_cases: list[CaseSummary],
    scope: _Scope,
    services: Services,
    possible: Possible,
) -> None:
    """The duplicate check record_finding makes (application.duplicates), row by row."""
    unit = scope.units_by_id[finding.unit_id]
    if finding.merge_into is not None:
        chosen = next((c for c in open_cases if c.case_id == finding.merge_into), None)
        if chosen is None:
            row.fail(
                "merge_into",
                f"案件 {finding.merge_into} 不是本单位的在办案件，无法并入",
                f"case {finding.merge_into} is not an open case of the unit",
            )
            preview.action, preview.errors = "error", row.errors
            return
        preview.action, preview.duplicate_of_case = "merge", chosen.case_id
        preview.note_zh = f"按「并入案件」列并入案件 {chosen.case_id}"
        return
    if finding.force_new or not open_cases:
        return
    policy = services.policy.for_class(unit.unit_class)
    text = FindingText(
        title=finding.title, description=finding.description, category=finding.category
    )
    lexicon = lexicon_of(policy)
    # The domain's bound (``reachable``) on the bigrams, which need no word segmenter:
    # a row no open case can reach is not segmented (jieba) nor judged.
    new = _grams(text, lexicon)
    grams = new.title.grams
    band = policy.duplicate_possible_threshold
    candidates = [
        c
        for c in open_cases
        if reachable(
            new,
            len(grams & (other := scope.case_grams(c, lexicon).title.grams)),
            len(other),
            band,
        )
    ]
    if not candidates:
        return
    found = judge_against(text, candidates, policy, limit=3)
    if not found:
        return
    best = found[0]
    preview.similarity = str(best.score)
    preview.duplicate_of_case = best.case_id
    if best.band is Band.AUTOMATIC or possible == "merge":
        preview.action = "merge"
        preview.finding = finding.model_copy(update={"merge_into": best.case_id})
        preview.note_zh = (
            f"与本单位在办案件 {best.case_id}「{best.title}」重复（相似度 {best.score}），"
            "将并入该案件（减负）"
        )
    elif possible == "new":
        preview.finding = finding.model_copy(update={"force_new": True})
        preview.note_zh = (
            f"可能与在办案件 {best.case_id}「{best.title}」重复（相似度 {best.score}），"
            "按选择另行立案"
        )
    else:
        row.fail(
            None,
            f"可能与本单位在办案件 {best.case_id}「{best.title}」重复（相似度 {best.score}）："
            "请在「并入案件」列填写要并入的案件编号，或在「另行立案」列填“是”",
            f"may repeat open case {best.case_id} (similarity {best.score}): fill merge_into "
            "or force_new",
        )
        preview.action, preview.errors = "error", row.errors


async def preview_import(
    services: Services,
    caller: Caller,
    data: bytes,
    unit: str | None = None,
    possible: Possible = "ask",
) -> ImportPreview:
    """Every row checked, nothing written. ``unit``: the subtree rows may name (default
    the supervisor's own); ``possible``: what to do with a row that may repeat an open
    case (a person decides)."""
    ensure_role(caller.actor, Role.SUPERVISOR)
    return await asyncio.to_thread(_preview, services, caller, data, unit, possible)


# -- apply -----------------------------------------------------------------------------


def has_errors(preview: ImportPreview) -> Refusal:
    shown = preview.errors[:200]
    lines = "；".join(f"第 {e.row} 行 {e.column}：{e.message_zh}" for e in shown[:5])
    more = f" 等 {len(preview.errors)} 处" if len(preview.errors) > 5 else ""
    return Refusal(
        422,
        "ledger_has_errors",
        f"台账有错误，未导入任何一行：{lines}{more}",
        f"the ledger has {len(preview.errors)} errors; nothing was imported",
        errors=[
            {"field": f"row {e.row} {e.column}".strip(), "message": e.message_zh} for e in shown
        ],
        rows=[e.model_dump() for e in shown],
    )


async def apply_import(
    services: Services,
    caller: Caller,
    data: bytes,
    unit: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    possible: Possible = "ask",
) -> ImportSummary:
    """Opens each row's case once; a file with any error is refused whole (422)."""
    preview = await preview_import(services, caller, data, unit, possible)
    if not preview.ok:
        raise has_errors(preview)
    sha = preview.file_sha256
    outcomes: list[RowOutcome] = []
    gate = asyncio.Semaphore(APPLY_CONCURRENCY)
    done = 0
    todo = [p for p in preview.rows if p.action in ("open", "merge")]

    async def one(p: RowPreview) -> RowOutcome:
        nonlocal done
        assert p.finding is not None
        finding = p.finding
        if finding.finding_id is None:
            finding = finding.model_copy(update={"finding_id": row_finding_id(sha, p.row)})
        async with gate:
            try:
                recorded = await record_finding(services, caller, finding, row_key(sha, p.row))
            except Refusal as refusal:
                if refusal.code == "finding_exists":
                    outcome = RowOutcome(
                        row=p.row,
                        outcome="already_imported",
                        case_id=finding.finding_id,
                        message_zh="已导入过，未重复写入",
                    )
                else:
                    outcome = RowOutcome(
                        row=p.row, outcome="refused", message_zh=refusal.message_zh
                    )
            else:
                case_id = recorded.case.case_id
                if recorded.replayed:
                    kind: Any = "already_imported"
                    note = "已导入过，未重复写入"
                elif recorded.opened:
                    kind, note = "opened", "已立项"
                else:
                    kind, note = "merged", f"已并入案件 {case_id}"
                outcome = RowOutcome(row=p.row, outcome=kind, case_id=case_id, message_zh=note)
        done += 1
        if progress is not None:
            progress(done, len(todo))
        return outcome

    outcomes = list(await asyncio.gather(*(one(p) for p in todo)))
    outcomes += [
        RowOutcome(
            row=p.row,
            outcome="skipped" if p.existing_case is None else "already_imported",
            case_id=p.existing_case,
            message_zh=p.note_zh,
        )
        for p in preview.rows
        if p.action == "skip"
    ]
    outcomes.sort(key=lambda o: o.row)
    names = ("opened", "merged", "already_imported", "skipped", "refused")
    counts = {n: sum(1 for o in outcomes if o.outcome == n) for n in names}
    summary = (
        f"新立案 {counts['opened']} 件，并入已有案件 {counts['merged']} 件，"
        f"此前已导入 {counts['already_imported']} 件，跳过 {counts['skipped']} 行，"
        f"被拒绝 {counts['refused']} 行"
    )
    return ImportSummary(file_sha256=sha, counts=counts, rows=outcomes, summary_zh=summary)
