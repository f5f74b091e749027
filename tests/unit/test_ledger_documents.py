"""PDFs with Chinese text that can be extracted: the letters of escalation and the archive;
the ledger's header; a missing font said clearly."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from application.errors import Refusal
from application.ledgers import documents
from application.ledgers.columns import LEDGER_COLUMNS
from application.ledgers.documents import _archive_pdf, _notice_pdf, archive_rows
from application.ledgers.exports import xlsx_header
from domain.archive import CadreArchive, Figure, Period, cadre_archive


def pdf_text(data: bytes) -> str:
    """The PDF's text: poppler's pdftotext when installed, else pypdf (a dev dependency)."""
    if shutil.which("pdftotext"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "doc.pdf"
            path.write_bytes(data)
            return subprocess.run(
                ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
            ).stdout
    import io

    import pypdf

    # Layout mode keeps a table row on one line, as pdftotext -layout does.
    pages = pypdf.PdfReader(io.BytesIO(data)).pages
    return "\n".join(p.extract_text(extraction_mode="layout") for p in pages)


EVENTS: list[tuple[str, dict[str, Any], datetime]] = [
    ("FindingRecorded", {"description": "抽检三次不达标"}, datetime(2026, 9, 1, tzinfo=UTC)),
    ("CaseOpened", {"target": "出水稳定达到一级A标准"}, datetime(2026, 9, 1, tzinfo=UTC)),
    ("ProgressReported", {"text": "已完成设备检修"}, datetime(2026, 10, 1, tzinfo=UTC)),
    ("CaseEscalated", {"level": 1, "working_days_overdue": 3}, datetime(2026, 11, 5, tzinfo=UTC)),
    ("CaseEscalated", {"level": 2, "working_days_overdue": 10}, datetime(2026, 11, 16, tzinfo=UTC)),
]


@pytest.mark.parametrize(
    ("level", "letter"), [(1, "催办单"), (2, "督办通知书"), (3, "挂牌督办通知书")]
)
def test_the_notice_names_the_case_unit_overdue_and_answer_date(level: int, letter: str) -> None:
    events = EVENTS[: 3 + min(level, 2)]
    pdf = _notice_pdf(
        "case-1",
        "乡镇污水处理厂出水氨氮超标",
        "某县生态环境局",
        "王某",
        level,
        date(2026, 10, 31),
        date(2026, 10, 20),
        "time_limited",
        "audit",
        events,
        "通过（事件 9 条，经 1 个封印核对）",
    )
    assert pdf.startswith(b"%PDF")
    text = "".join(pdf_text(pdf).split())
    assert letter in text
    for expected in (
        "某县生态环境局",
        "乡镇污水处理厂出水氨氮超标",
        "2026年10月31日",
        "原定2026年10月20日",
        "出水稳定达到一级A标准",
        "已完成设备检修",
        "记录链校验",
        "通过（事件9条，经1个封印核对）",
        "前",
    ):
        assert expected in text, expected
    assert ("已逾期10个工作日" if level > 1 else "已逾期3个工作日") in text
    if level > 1:
        assert "一事一文" in text


def test_the_archive_pdf_shows_every_figure_as_text() -> None:
    archive = cadre_archive((), "cadre-42", Period(year=2026), datetime.now(UTC))
    archive = archive.model_copy(
        update={
            "cases_assigned": Figure(value=7, event_ids=("e1", "e2")),
            "cases_closed": Figure(value=3, event_ids=("e3",)),
            "average_days_to_close": "12.50",
        }
    )
    text = pdf_text(_archive_pdf(archive, "王某", "某县生态环境局", "局长"))
    assert "干部政绩档案" in text
    assert "王某" in text
    assert "2026年全年" in text
    lines = [" ".join(line.split()) for line in text.splitlines()]
    for label, value, count in archive_rows(archive):
        assert any(line.startswith(f"{label} {value} {count}") for line in lines), label


def _archive(**figures: object) -> CadreArchive:
    archive = cadre_archive((), "c", Period(year=2026, quarter=2), datetime.now(UTC))
    return archive.model_copy(update=figures)


def test_archive_rows_follow_the_figures() -> None:
    rows = archive_rows(_archive(highest_escalation_level=Figure(value=2, event_ids=("x",))))
    labels = [r[0] for r in rows]
    assert labels[0] == "承担整改案件"
    assert ("最高督办级别", "2（督办）", 1) in rows


def test_a_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    documents.chinese_font.cache_clear()
    monkeypatch.setattr(documents, "FONT_PATHS", (("/nonexistent/font.ttc", 0),))
    try:
        for configured in (None, "/nonexistent/other.ttf"):
            with pytest.raises(Refusal) as caught:
                documents.chinese_font(configured)
            assert caught.value.code == "pdf_font_missing"
            assert "fonts-wqy-microhei" in caught.value.message_zh
    finally:
        documents.chinese_font.cache_clear()


def test_the_ledger_header_has_the_office_columns() -> None:
    upper, lower = xlsx_header()
    names = [c.header for c in LEDGER_COLUMNS]
    for expected in (
        "序号",
        "问题来源",
        "问题描述",
        "责任单位",
        "责任人",
        "整改目标/完成标准",
        "整改措施",
        "整改时限",
        "阶段节点",
        "整改进展",
        "亮灯",
        "督办级别",
        "是否完成整改",
        "是否销号",
        "未完成原因及下一步计划",
    ):
        assert expected in names
    assert upper[0] == "序号"
    assert lower[0] == ""
    assert "问题情况" in upper
    assert "整改情况" in upper
