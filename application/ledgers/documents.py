"""Documents for people: the cadre archive (政绩档案) as PDF and XLSX, the unit board
(亮灯看板) as XLSX, and the letters of escalation as PDF: a 催办单 at level 1, a
督办通知书 (supervision notice) at level 2 and above.

PDFs embed a Chinese font (ReportLab ``TTFont`` from a font file of the system:
WenQuanYi Micro Hei or Noto CJK, found at known paths or ``ZHENGGAI_PDF_FONT``), so
their text is extractable and renders anywhere.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import xlsxwriter
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from application.access import ensure_sees_cases, visible_case
from application.archive import archive_of
from application.caller import Caller
from application.case_lists import BoardOut, board
from application.case_reads import case_history
from application.errors import Refusal
from application.ledgers.columns import KIND_LABELS, LEVEL_LABELS, SOURCE_LABELS
from application.services import Services
from domain.archive import CadreArchive, Figure
from domain.chinese_dates import zh_date
from domain.policy import DEFAULT_POLICY
from domain.vocabulary import AccountabilityAction

__all__ = [
    "FONT_PATHS",
    "archive_pdf",
    "archive_rows",
    "archive_xlsx",
    "board_xlsx",
    "chinese_font",
    "notice_pdf",
]

FONT_NAME = "ZhenggaiCJK"
FONT_PATHS: tuple[tuple[str, int], ...] = (  # (file, index in a TrueType collection)
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),
)


def _font_problem() -> Refusal:
    where = "、".join(p for p, _ in FONT_PATHS[:3])
    return Refusal(
        500,
        "pdf_font_missing",
        f"未找到中文字体，无法生成 PDF：请安装 fonts-wqy-microhei（apt-get install "
        f"fonts-wqy-microhei），或用 ZHENGGAI_PDF_FONT 指定字体文件（已查找：{where}）",
        "no Chinese font for PDFs: install fonts-wqy-microhei or set ZHENGGAI_PDF_FONT",
        searched=[p for p, _ in FONT_PATHS],
    )


@lru_cache(maxsize=4)
def chinese_font(configured: str | None = None) -> str:
    """Registers the Chinese font (``configured``: ZHENGGAI_PDF_FONT, else the first
    found at FONT_PATHS) and gives its ReportLab name."""
    candidates = [(configured, 0)] if configured else list(FONT_PATHS)
    for path, index in candidates:
        if Path(path).is_file():
            try:
                font = TTFont(FONT_NAME, path, subfontIndex=index)
            except Exception:  # noqa: S112 - a font ReportLab cannot read: try the next
                continue
            pdfmetrics.registerFont(font)
            return FONT_NAME
    raise _font_problem()


def _styles(font_file: str | None = None) -> dict[str, ParagraphStyle]:
    font = chinese_font(font_file)
    base = ParagraphStyle("base", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle(
            "title", parent=base, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=6
        ),
        "subtitle": ParagraphStyle("subtitle", parent=base, alignment=TA_CENTER, spaceAfter=8),
        "head": ParagraphStyle("head", parent=base, fontSize=12.5, leading=20, spaceBefore=8),
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=13),
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(rows: Sequence[Sequence[str]], widths: Sequence[float], style: ParagraphStyle) -> Table:
    cells = [[Paragraph(_escape(str(c)), style) for c in row] for row in rows]
    table = Table(cells, colWidths=list(widths), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _pdf(story: list[Any], title: str) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="zhenggai 整改",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    document.build(story)
    return buffer.getvalue()


# -- the archive -----------------------------------------------------------------------

ACTION_LABELS = {
    AccountabilityAction.ADMONISHMENT_TALK.value: "诫勉谈话",
    AccountabilityAction.REASSIGNMENT.value: "调整岗位",
    AccountabilityAction.DEMOTION_OR_REMOVAL.value: "降职免职",
}
EVENT_LABELS = {
    "CaseOpened": "立项",
    "ResponsibilityAssigned": "确定责任人",
    "ResponsibilityTransferred": "责任转移",
    "CaseClosed": "销号",
    "CaseOverdue": "逾期",
    "CaseEscalated": "升级督办",
    "ExtensionRequested": "申请延期",
    "ExtensionGranted": "批准延期",
    "ClosureRejected": "销号退回",
    "CaseReopened": "回头看重新整改",
    "SatisfactionRecorded": "满意度回访",
    "AccountabilityRecorded": "问责",
    "ToleranceApplied": "容错免责",
    "CaseWithdrawn": "撤销",
    "DeadlineSet": "调整整改时限",
    "DeadlineExtended": "延长整改时限",
}


def archive_rows(archive: CadreArchive) -> list[tuple[str, str, int]]:
    """(figure, value as shown, number of events behind it), in the archive's order."""

    def figure(label: str, item: Figure, shown: str | None = None) -> tuple[str, str, int]:
        return (label, str(item.value) if shown is None else shown, len(item.event_ids))

    rows = [
        figure("承担整改案件", archive.cases_assigned),
        figure("已销号", archive.cases_closed),
        figure("按原定时限完成", archive.closed_on_time),
        figure("经批准延期后按期完成", archive.closed_within_extension),
        figure("当前逾期", archive.overdue_now),
        figure(
            "最高督办级别",
            archive.highest_escalation_level,
            f"{archive.highest_escalation_level.value}"
            + (
                f"（{LEVEL_LABELS[archive.highest_escalation_level.value]}）"
                if archive.highest_escalation_level.value
                else ""
            ),
        ),
    ]
    for level, item in sorted(archive.escalations_by_level.items()):
        rows.append(figure(f"升级至{LEVEL_LABELS.get(int(level), level)}（次）", item))
    rows += [
        figure("申请延期（次）", archive.extensions_requested),
        figure("批准延期（次）", archive.extensions_granted),
        figure("销号被退回（次）", archive.closures_sent_back),
        figure("回头看重新整改", archive.reopened_after_look_back),
        figure("整改用时合计（天）", archive.days_to_close),
        ("平均整改用时（天）", archive.average_days_to_close or "—", 0),
        figure("满意度回访（次）", archive.satisfaction_visits),
        ("平均满意度（%）", archive.average_satisfaction_percent or "—", 0),
        figure("问责", archive.accountability_actions),
    ]
    for action, item in sorted(archive.accountability_by_action.items()):
        rows.append(figure(f"其中：{ACTION_LABELS.get(action, action)}", item))
    rows.append(figure("容错免责", archive.exemptions))
    return rows


async def _archive(
    services: Services, caller: Caller, cadre_id: str, year: int | None, quarter: int | None
) -> tuple[CadreArchive, str, str, str]:
    archive = await archive_of(services, caller, cadre_id, year, quarter)
    cadre = await asyncio.to_thread(services.directory.cadre, cadre_id)
    assert cadre is not None  # archive_of found it
    unit = await asyncio.to_thread(services.directory.unit, cadre.unit_id)
    return archive, cadre.name, unit.name if unit else cadre.unit_id, cadre.post


def _period_label(archive: CadreArchive) -> str:
    period = archive.period
    quarter = f"第{period.quarter}季度" if period.quarter else "全年"
    return f"{period.year}年{quarter}"


async def archive_pdf(
    services: Services, caller: Caller, cadre_id: str, year: int | None, quarter: int | None
) -> bytes:
    archive, name, unit, post = await _archive(services, caller, cadre_id, year, quarter)
    return await asyncio.to_thread(_archive_pdf, archive, name, unit, post, _font_file(services))


def _font_file(services: Services) -> str | None:
    configured = services.settings.pdf_font
    return None if configured is None else str(configured)


def _archive_pdf(
    archive: CadreArchive, name: str, unit: str, post: str, font_file: str | None = None
) -> bytes:
    styles = _styles(font_file)
    as_of = DEFAULT_POLICY.today(archive.as_of)
    story: list[Any] = [
        Paragraph("干部政绩档案（整改情况）", styles["title"]),
        Paragraph(
            _escape(f"{name}　{unit}{('　' + post) if post else ''}　{_period_label(archive)}"),
            styles["subtitle"],
        ),
        Paragraph(
            _escape(
                f"干部编号 {archive.cadre_id}；数据截至 {zh_date(as_of)}。"
                "每项数字均可追溯到整改记录中的事件。"
            ),
            styles["small"],
        ),
        Spacer(1, 4 * mm),
        _table(
            [("项目", "数值", "依据事件（条）")]
            + [(label, value, str(count)) for label, value, count in archive_rows(archive)],
            (95 * mm, 40 * mm, 35 * mm),
            styles["base"],
        ),
    ]
    if archive.timeline:
        story += [Paragraph("事件记录", styles["head"])]
        story.append(
            _table(
                [("日期", "案件", "事件")]
                + [
                    (
                        DEFAULT_POLICY.today(e.occurred_at).isoformat(),
                        e.case_id,
                        EVENT_LABELS.get(e.event_type, e.event_type),
                    )
                    for e in archive.timeline
                ],
                (30 * mm, 95 * mm, 45 * mm),
                styles["small"],
            )
        )
    return _pdf(story, f"{name} 政绩档案 {archive.period.label}")


async def archive_xlsx(
    services: Services, caller: Caller, cadre_id: str, year: int | None, quarter: int | None
) -> bytes:
    archive, name, unit, post = await _archive(services, caller, cadre_id, year, quarter)
    return await asyncio.to_thread(_archive_xlsx, archive, name, unit, post)


def _archive_xlsx(archive: CadreArchive, name: str, unit: str, post: str) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7"})
    title = book.add_format({"bold": True, "font_size": 14})
    cell = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    sheet = book.add_worksheet("政绩档案")
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 2, 14)
    sheet.set_column(3, 3, 80)
    sheet.write(0, 0, f"干部政绩档案（整改情况） {name} {unit} {post}".strip(), title)
    sheet.write(1, 0, f"{_period_label(archive)}，干部编号 {archive.cadre_id}")
    for col, text in enumerate(("项目", "数值", "依据事件（条）", "事件编号")):
        sheet.write(3, col, text, bold)
    figures = archive_rows(archive)
    ids = _figure_ids(archive)
    for offset, (label, value, count) in enumerate(figures):
        row = 4 + offset
        sheet.write(row, 0, label, cell)
        sheet.write(row, 1, int(value) if value.isdigit() else value, cell)
        sheet.write(row, 2, count, cell)
        sheet.write(row, 3, " ".join(ids.get(label, ())), cell)
    timeline = book.add_worksheet("事件记录")
    for col, text in enumerate(("日期", "案件", "事件", "事件编号")):
        timeline.write(0, col, text, bold)
    timeline.set_column(0, 0, 12)
    timeline.set_column(1, 1, 30)
    timeline.set_column(2, 2, 16)
    timeline.set_column(3, 3, 38)
    for row, entry in enumerate(archive.timeline, start=1):
        timeline.write(row, 0, DEFAULT_POLICY.today(entry.occurred_at).isoformat())
        timeline.write(row, 1, entry.case_id)
        timeline.write(row, 2, EVENT_LABELS.get(entry.event_type, entry.event_type))
        timeline.write(row, 3, entry.event_id)
    book.close()
    return buffer.getvalue()


def _figure_ids(archive: CadreArchive) -> dict[str, tuple[str, ...]]:
    labels = [label for label, _, _ in archive_rows(archive)]
    figures: list[Figure | None] = [
        archive.cases_assigned,
        archive.cases_closed,
        archive.closed_on_time,
        archive.closed_within_extension,
        archive.overdue_now,
        archive.highest_escalation_level,
        *[item for _, item in sorted(archive.escalations_by_level.items())],
        archive.extensions_requested,
        archive.extensions_granted,
        archive.closures_sent_back,
        archive.reopened_after_look_back,
        archive.days_to_close,
        None,
        archive.satisfaction_visits,
        None,
        archive.accountability_actions,
        *[item for _, item in sorted(archive.accountability_by_action.items())],
        archive.exemptions,
    ]
    return {label: item.event_ids for label, item in zip(labels, figures, strict=True) if item}


# -- the board -------------------------------------------------------------------------

BOARD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("cases", "案件数"),
    ("active", "在办"),
    ("green", "绿灯"),
    ("yellow", "黄灯"),
    ("red", "红灯"),
    ("grey", "灰灯（已结）"),
    ("red_level_0", "红灯·未升级"),
    ("red_level_1", "红灯·催办"),
    ("red_level_2", "红灯·督办"),
    ("red_level_3", "红灯·挂牌督办"),
    ("red_level_4", "红灯·问责建议"),
    ("closed", "已销号"),
    ("closed_on_time", "按期销号"),
    ("on_time_rate", "按期率"),
)


async def board_xlsx(services: Services, caller: Caller, unit: str | None) -> bytes:
    shown = await board(services, caller, unit)
    root = await asyncio.to_thread(services.directory.unit, shown.unit_id)
    return await asyncio.to_thread(_board_xlsx, shown, root.name if root else shown.unit_id)


def _rate(value: str | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def _board_xlsx(shown: BoardOut, root_name: str) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("亮灯看板")
    title = book.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = book.add_format(
        {"bold": True, "border": 1, "bg_color": "#DDEBF7", "align": "center", "text_wrap": True}
    )
    cell = book.add_format({"border": 1})
    total_format = book.add_format({"border": 1, "bold": True})
    fills = {"green": "#C6EFCE", "yellow": "#FFEB9C", "red": "#FFC7CE"}
    light = {k: book.add_format({"border": 1, "bg_color": v}) for k, v in fills.items()}
    today = DEFAULT_POLICY.today(datetime.now(UTC))
    width = len(BOARD_COLUMNS) + 1
    sheet.merge_range(0, 0, 0, width, f"{root_name}整改亮灯看板（截至 {zh_date(today)}）", title)
    headers = ["单位", "单位编号", *(label for _, label in BOARD_COLUMNS)]
    for col, text in enumerate(headers):
        sheet.write(1, col, text, head)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 16)
    sheet.set_column(2, width, 9)
    row = 2
    for unit_row in shown.units:
        sheet.write(row, 0, unit_row.name, cell)
        sheet.write(row, 1, unit_row.unit_id, cell)
        figures = unit_row.model_dump()
        for col, (key, _) in enumerate(BOARD_COLUMNS, start=2):
            value = figures[key]
            if key == "on_time_rate":
                sheet.write(row, col, _rate(value), cell)
            else:
                sheet.write_number(row, col, value, light.get(key, cell))
        row += 1
    totals = shown.total.model_dump()
    sheet.write(row, 0, "合计", total_format)
    sheet.write(row, 1, "", total_format)
    for col, (key, _) in enumerate(BOARD_COLUMNS, start=2):
        value = totals[key]
        if key == "on_time_rate":
            sheet.write(row, col, _rate(value), total_format)
        else:
            sheet.write_number(row, col, value, total_format)
    sheet.freeze_panes(2, 1)
    book.close()
    return buffer.getvalue()


# -- letters ---------------------------------------------------------------------------

ANSWER_WORKING_DAYS = {1: 3, 2: 5, 3: 5, 4: 5}  # working days the unit has to answer


async def notice_pdf(services: Services, caller: Caller, case_id: str) -> bytes:
    """A 催办单 (level 1) or a 督办通知书 (level 2 and above) for an escalated case,
    generated from its events, with its chain checked now."""
    ensure_sees_cases(caller.actor)
    case = await visible_case(services.store, services.directory, caller.actor, case_id)
    state = case.state
    if state.escalation_level < 1:
        raise Refusal(
            409,
            "case_not_escalated",
            f"案件 {case_id} 当前未进入催办或督办，无需通知书",
            f"case {case_id} is not escalated: no notice",
        )
    history = await case_history(services, caller, case_id)
    unit = await asyncio.to_thread(services.directory.unit, state.unit_id)
    cadre = await asyncio.to_thread(services.directory.cadre, state.cadre_id)
    events = [(e.type, e.data, e.recorded_at) for e in case.events]
    verification = history.verification
    chain = (
        f"通过（事件 {verification.events_checked} 条，"
        f"经 {verification.seals_covering} 个封印核对）"
        if verification.ok
        else f"未通过：第 {verification.first_bad_version} 个事件起记录被改动"
    )
    return await asyncio.to_thread(
        _notice_pdf,
        case_id,
        state.title,
        unit.name if unit else state.unit_id,
        cadre.name if cadre else state.cadre_id,
        state.escalation_level,
        state.deadline,
        state.original_deadline,
        state.kind.value if state.kind else "",
        state.findings[0].source.value if state.findings else "",
        events,
        chain,
        _font_file(services),
    )


def _notice_pdf(
    case_id: str,
    title: str,
    unit: str,
    cadre: str,
    level: int,
    deadline: date | None,
    original: date | None,
    kind: str,
    source: str,
    events: list[tuple[str, dict[str, Any], datetime]],
    chain: str,
    font_file: str | None = None,
) -> bytes:
    styles = _styles(font_file)
    today = DEFAULT_POLICY.today(datetime.now(UTC))
    answer_by = (
        DEFAULT_POLICY.working_calendar()
        .add_working_days(today, ANSWER_WORKING_DAYS.get(level, 5))
        .date
    )
    letter = "催办单" if level == 1 else "督办通知书"
    if level == 3:
        letter = "挂牌督办通知书"
    escalations = [(d, at) for kind_, d, at in events if kind_ == "CaseEscalated"]
    overdue_days = escalations[-1][0].get("working_days_overdue") if escalations else None
    description = next(
        (d.get("description", "") for k, d, _ in events if k == "FindingRecorded"), ""
    )
    target = next((d.get("target", "") for k, d, _ in reversed(events) if k in ("TargetSet",)), "")
    if not target:
        target = next((d.get("target", "") for k, d, _ in events if k == "CaseOpened"), "")
    progress = [(d.get("text", ""), at) for k, d, at in events if k == "ProgressReported"]
    story: list[Any] = [
        Paragraph(letter, styles["title"]),
        Paragraph(_escape(f"编号：{case_id}-{level}　　{zh_date(today)}"), styles["subtitle"]),
        Paragraph(_escape(f"{unit}："), styles["base"]),
        Spacer(1, 2 * mm),
        Paragraph(
            _escape(
                f"你单位承担的整改事项「{title}」（来源：{SOURCE_LABELS.get(source, source)}，"
                f"整改类型：{KIND_LABELS.get(kind, kind)}，责任人：{cadre}），"
                f"整改时限为 {zh_date(deadline) if deadline else '未定'}"
                + (
                    f"（原定 {zh_date(original)}）"
                    if original is not None and original != deadline
                    else ""
                )
                + "，至今未完成整改并销号"
                + (f"，已逾期 {overdue_days} 个工作日" if overdue_days is not None else "")
                + f"，现已进入「{LEVEL_LABELS.get(level, str(level))}」。"
            ),
            styles["base"],
        ),
        Spacer(1, 2 * mm),
        Paragraph(
            _escape(
                f"请于 {zh_date(answer_by)} 前将整改进展、未完成原因及下一步措施书面报告"
                "（一事一文，加盖单位公章）。逾期未报或整改不到位的，将按规定升级督办。"
                if level > 1
                else f"请于 {zh_date(answer_by)} 前加快整改并报告进展，抄送分管领导。"
            ),
            styles["base"],
        ),
        Paragraph("案件情况", styles["head"]),
        _table(
            [
                ("项目", "内容"),
                ("问题描述", description or title),
                ("整改目标", target or "—"),
                ("整改时限", deadline.isoformat() if deadline else "—"),
                ("最近进展", progress[-1][0] if progress else "尚未报告进展"),
                ("记录链校验", chain),
            ],
            (35 * mm, 135 * mm),
            styles["base"],
        ),
        Paragraph("催办督办记录", styles["head"]),
        _table(
            [("日期", "事项")]
            + [
                (
                    DEFAULT_POLICY.today(at).isoformat(),
                    f"{LEVEL_LABELS.get(int(d.get('level', 0)), '')}"
                    f"（逾期 {d.get('working_days_overdue', '')} 个工作日）",
                )
                for d, at in escalations
            ],
            (35 * mm, 135 * mm),
            styles["base"],
        ),
    ]
    return _pdf(story, f"{letter} {case_id}")
