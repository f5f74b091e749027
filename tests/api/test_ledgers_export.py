"""Ledgers out over the API: the rectification ledger (XLSX, CSV) with the case list's
filters and scope, the board as XLSX, the archive as PDF and XLSX (its text compared
with the archive's figures), and the notice of an escalated case."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta

import openpyxl
import pytest

from application.ledgers.documents import archive_rows
from domain.archive import CadreArchive
from tests.api.conftest import Stack, open_case
from tests.unit.test_ledger_documents import pdf_text

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def opened() -> dict[str, str]:
    return {}


async def _cases(stack: Stack, opened: dict[str, str], projector: Callable[[], None]) -> None:
    if opened:
        return
    opened["a"] = await open_case(
        stack, "河道垃圾清理不及时", 30, target="河道垃圾日产日清", category="生态环保"
    )
    opened["b"] = await open_case(stack, "执法台账记录缺失", 60, kind="immediate", deadline=None)
    response = await stack.client.post(
        f"/api/v1/cases/{opened['a']}/plan",
        json={"plan": "增加保洁人员，每日巡查"},
        headers=stack.auth("unit"),
    )
    assert response.status_code == 200, response.text
    projector()


async def test_the_ledger_as_csv_has_a_title_two_header_rows_and_the_cases(
    stack: Stack, opened: dict[str, str], projector: Callable[[], None]
) -> None:
    await _cases(stack, opened, projector)
    response = await stack.client.get(
        "/api/v1/ledger.csv", params={"unit": "county-env"}, headers=stack.auth("supervisor")
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0].startswith("某县生态环境局整改台账")
    assert rows[1][0] == "序号"
    assert "问题情况" in rows[1]
    header = rows[2]
    by_case = {r[1]: dict(zip(header, r, strict=True)) for r in rows[3:]}
    a = by_case[opened["a"]]
    assert a["问题来源"] == "audit"
    assert a["来源名称"] == "审计"
    assert a["责任单位"] == "某县生态环境局"
    assert a["责任人"] == "王某"
    assert a["整改目标/完成标准"] == "河道垃圾日产日清"
    assert a["整改措施"] == "增加保洁人员，每日巡查"
    assert a["亮灯"] == "绿灯"
    assert a["是否销号"] == "否"
    assert a["整改状态"] == "open"
    assert a["状态名称"] == "正在整改"
    assert by_case[opened["b"]]["整改类型"] == "immediate"
    assert by_case[opened["b"]]["状态名称"] == "尚未整改"
    assert [r[0] for r in rows[3:]] == [str(n) for n in range(1, len(rows) - 2)]


async def test_the_ledger_takes_the_case_lists_filters_and_scope(
    stack: Stack, opened: dict[str, str], projector: Callable[[], None]
) -> None:
    await _cases(stack, opened, projector)
    immediate = await stack.client.get(
        "/api/v1/ledger.csv", params={"kind": "immediate"}, headers=stack.auth("supervisor")
    )
    lines = list(csv.reader(io.StringIO(immediate.content.decode("utf-8-sig"))))[3:]
    assert opened["b"] in [r[1] for r in lines]
    assert opened["a"] not in [r[1] for r in lines]
    outside = await stack.client.get(
        "/api/v1/ledger.xlsx", params={"unit": "city"}, headers=stack.auth("other_supervisor")
    )
    assert outside.status_code == 422
    assert outside.json()["code"] == "unit_not_found"
    admin = await stack.client.get("/api/v1/ledger.csv", headers=stack.auth("admin"))
    assert admin.status_code == 403
    sibling = await stack.client.get("/api/v1/ledger.csv", headers=stack.auth("sibling_unit"))
    assert sibling.status_code == 200
    assert opened["a"] not in sibling.text


async def test_the_ledger_as_xlsx_merges_its_title_and_header(
    stack: Stack, opened: dict[str, str], projector: Callable[[], None]
) -> None:
    await _cases(stack, opened, projector)
    response = await stack.client.get(
        "/api/v1/ledger.xlsx", params={"unit": "county-env"}, headers=stack.auth("inspector")
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert "A2:A3" in merged  # 序号 over both header rows
    assert any(r.startswith("A1:") for r in merged)  # the title
    assert sheet["A2"].value == "序号"
    ids = [sheet.cell(r, 2).value for r in range(4, sheet.max_row + 1)]
    assert opened["a"] in ids


async def test_the_board_as_xlsx(
    stack: Stack, opened: dict[str, str], projector: Callable[[], None]
) -> None:
    await _cases(stack, opened, projector)
    board = (await stack.client.get("/api/v1/board", headers=stack.auth("supervisor"))).json()
    response = await stack.client.get("/api/v1/board.xlsx", headers=stack.auth("supervisor"))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert "整改亮灯看板" in sheet["A1"].value
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert rows[-1][0] == "合计"
    assert rows[-1][2] == board["total"]["cases"]
    assert [r[1] for r in rows[:-1]] == [u["unit_id"] for u in board["units"]]


async def test_the_archive_as_pdf_and_xlsx_carries_the_archives_figures(
    stack: Stack, opened: dict[str, str], projector: Callable[[], None]
) -> None:
    await _cases(stack, opened, projector)
    year = date.today().year
    headers = stack.auth("supervisor")
    shown = await stack.client.get(
        "/api/v1/cadres/cadre-42/archive", params={"year": year}, headers=headers
    )
    archive = CadreArchive.model_validate(shown.json())
    assert archive.cases_assigned.value >= 2
    pdf = await stack.client.get(
        "/api/v1/cadres/cadre-42/archive.pdf", params={"year": year}, headers=headers
    )
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "王某" in text
    assert "某县生态环境局" in text
    lines = [" ".join(line.split()) for line in text.splitlines()]
    for label, value, count in archive_rows(archive):
        assert any(line.startswith(f"{label} {value} {count}") for line in lines), label
    xlsx = await stack.client.get(
        "/api/v1/cadres/cadre-42/archive.xlsx", params={"year": year}, headers=headers
    )
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["政绩档案"]
    found = {row[0]: row[1] for row in sheet.iter_rows(min_row=5, values_only=True) if row[0]}
    assert found["承担整改案件"] == archive.cases_assigned.value
    ids = {row[0]: row[3] for row in sheet.iter_rows(min_row=5, values_only=True) if row[0]}
    assert set(str(ids["承担整改案件"]).split()) == set(archive.cases_assigned.event_ids)
    outside = await stack.client.get(
        "/api/v1/cadres/cadre-42/archive.pdf", headers=stack.auth("other_inspector")
    )
    assert outside.status_code == 404


async def test_a_notice_needs_an_escalated_case_within_scope(
    stack: Stack, opened: dict[str, str], projector: Callable[[], None]
) -> None:
    await _cases(stack, opened, projector)
    response = await stack.client.get(
        f"/api/v1/cases/{opened['a']}/notice.pdf", headers=stack.auth("supervisor")
    )
    assert response.status_code == 409
    assert response.json()["code"] == "case_not_escalated"
    assert "无需通知书" in response.json()["message_zh"]
    hidden = await stack.client.get(
        f"/api/v1/cases/{opened['a']}/notice.pdf", headers=stack.auth("other_supervisor")
    )
    assert hidden.status_code == 404


async def test_a_deadline_in_the_ledger_is_the_cases(
    stack: Stack, opened: dict[str, str], projector: Callable[[], None]
) -> None:
    await _cases(stack, opened, projector)
    response = await stack.client.get(
        "/api/v1/ledger.csv",
        params={"deadline_from": (date.today() + timedelta(days=1)).isoformat()},
        headers=stack.auth("supervisor"),
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = rows[2]
    a = next(dict(zip(header, r, strict=True)) for r in rows[3:] if r[1] == opened["a"])
    assert a["整改时限"] == (date.today() + timedelta(days=30)).isoformat()
