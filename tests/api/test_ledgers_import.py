"""Importing findings from ledgers over the API: preview, errors in Chinese by row and
column with nothing written, an idempotent apply, duplicates, and a round trip."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from tests.api.conftest import Stack

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LATER = date.today() + timedelta(days=90)


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    return "\r\n".join(",".join(r) for r in rows).encode(encoding)


def _unique(text: str) -> str:
    return f"{text}{uuid.uuid4().hex[:8]}"


async def _preview(stack: Stack, data: bytes, who: str = "supervisor") -> dict:  # type: ignore[type-arg]
    response = await stack.client.post(
        "/api/v1/imports", params={"dry_run": "true"}, content=data, headers=stack.auth(who)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def _apply(stack: Stack, data: bytes) -> dict:  # type: ignore[type-arg]
    response = await stack.client.post(
        "/api/v1/imports",
        params={"dry_run": "false"},
        content=data,
        headers=stack.auth("supervisor"),
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def _exported_xlsx(
    stack: Stack, params: dict[str, str]
) -> tuple[openpyxl.Workbook, Any, dict[str, int]]:
    """The supervisor's exported ledger: the workbook, its sheet, and each header's
    column (the two-row header's lower names over its upper ones)."""
    exported = await stack.client.get(
        "/api/v1/ledger.xlsx", params=params, headers=stack.auth("supervisor")
    )
    assert exported.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(exported.content))
    sheet = book.active
    headers = {c.value: c.column for c in sheet[3] if c.value}
    headers |= {c.value: c.column for c in sheet[2] if c.value}
    return book, sheet, headers


async def _case_count(stack: Stack) -> int:
    count, cursor = 0, None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = (
            await stack.client.get("/api/v1/cases", params=params, headers=stack.auth("supervisor"))
        ).json()
        count += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return count


async def test_the_template_is_an_xlsx_with_chinese_headers(stack: Stack) -> None:
    response = await stack.client.get("/api/v1/imports/template", headers=stack.auth("supervisor"))
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["问题导入"]
    headers = [c.value for c in sheet[2]]
    assert {"问题来源", "问题描述", "责任单位", "责任人", "整改时限"} <= set(headers)
    assert len(sheet.data_validations.dataValidation) == 4


async def test_every_bad_row_is_named_in_chinese_and_nothing_is_written(
    stack: Stack, projector: Callable[[], None]
) -> None:
    header = ["序号", "问题来源", "存在问题", "整改单位", "责任人", "整改期限"]
    rows = [
        ["某市考核发现问题整改台账", "", "", "", "", ""],
        header,
        ["1", "审计", _unique("河道垃圾清理不及时"), "某县生态环境局", "王某", _cn(LATER)],
        ["", "", "", "", "", ""],  # an empty row: ignored
        ["2", "审计", _unique("问题乙"), "不存在的局", "王某", _cn(LATER)],
        ["3", "审计", _unique("问题丙"), "某县生态环境局", "王某", "明年三月"],
        ["4", "审计", _unique("问题丁"), "某县生态环境局", "王某", "2020-01-01"],
        ["5", "随便", _unique("问题戊"), "某县生态环境局", "无名氏", ""],
        ["6", "审计", "", "某县生态环境局", "王某", ""],
        ["7", "审计", _unique("问题己"), "另一市生态环境局", "李某", ""],  # out of scope
    ]
    data = _csv(rows, "gb18030")
    projector()
    before = await _case_count(stack)
    preview = await _preview(stack, data)
    assert preview["encoding"] == "gb18030"
    assert preview["header_row"] == 2
    by_row = {r["row"]: r for r in preview["rows"]}
    assert by_row[3]["action"] == "open"
    assert 4 not in by_row  # the empty row
    messages = {(e["row"], e["column"].split(" ")[0]): e["message_zh"] for e in preview["errors"]}
    assert "不存在或不在您的管辖范围内" in messages[(5, "D")]
    assert "不是有效日期" in messages[(6, "F")]
    assert (7, "F") in messages  # a deadline in the past: the domain's rule
    assert "不是可选值" in messages[(8, "B")]
    assert "不存在" in messages[(8, "E")]
    assert "不能为空" in messages[(9, "C")]
    assert "管辖范围" in messages[(10, "D")]
    assert "管辖范围" in messages[(10, "E")]  # 李某 works in the other city too
    assert preview["counts"] == {"open": 1, "merge": 0, "skip": 0, "error": 6}

    refused = await stack.client.post(
        "/api/v1/imports",
        params={"dry_run": "false"},
        content=data,
        headers=stack.auth("supervisor"),
    )
    assert refused.status_code == 422
    body = refused.json()
    assert body["code"] == "ledger_has_errors"
    assert "未导入任何一行" in body["message_zh"]
    assert len(body["rows"]) == 8  # an error each, two on row 10
    projector()
    assert await _case_count(stack) == before  # nothing half-written


async def test_an_import_opens_each_row_once_even_when_repeated(
    stack: Stack, projector: Callable[[], None]
) -> None:
    title = _unique("农村饮用水水质检测不达标")
    data = _csv(
        [
            ["问题来源", "问题标题", "问题描述", "责任单位", "责任人编号", "整改类型", "完成时限"],
            [
                "inspection",
                title,
                "抽检三处不达标",
                "county-env",
                "cadre-42",
                "限期整改",
                "2027/6/30",
            ],
            ["巡视巡察", _unique("乡镇执法记录缺失"), "", "某县环境监测站", "赵某", "立行立改", ""],
            [
                "inspection",
                title,
                "抽检三处不达标",
                "county-env",
                "cadre-42",
                "限期整改",
                "2027/6/30",
            ],
        ]
    )
    projector()
    before = await _case_count(stack)
    preview = await _preview(stack, data)
    assert [r["action"] for r in preview["rows"]] == ["open", "open", "skip"]
    assert preview["rows"][2]["duplicate_of_row"] == 2
    summary = await _apply(stack, data)
    assert summary["counts"] == {
        "opened": 2,
        "merged": 0,
        "already_imported": 0,
        "skipped": 1,
        "refused": 0,
    }
    assert "新立案 2 件" in summary["summary_zh"]
    opened = [r["case_id"] for r in summary["rows"] if r["outcome"] == "opened"]
    case = (
        await stack.client.get(f"/api/v1/cases/{opened[0]}", headers=stack.auth("supervisor"))
    ).json()
    assert case["state"]["title"] == title
    assert case["state"]["deadline"] == "2027-06-30"
    # The same file again (or resumed after a failure): nothing is added.
    again = await _apply(stack, data)
    assert again["counts"]["opened"] == 0
    assert again["counts"]["already_imported"] == 2
    assert again["counts"]["skipped"] == 1
    projector()
    assert await _case_count(stack) == before + 2
    # And its preview says the rows are there already.
    repeat = await _preview(stack, data)
    assert [r["action"] for r in repeat["rows"]] == ["skip", "skip", "skip"]


async def test_a_row_repeating_an_open_case_is_flagged_and_merged(
    stack: Stack, projector: Callable[[], None]
) -> None:
    title = _unique("工业园区废气超标排放")
    first = await stack.client.post(
        "/api/v1/findings",
        json={
            "title": title,
            "source": "audit",
            "unit_id": "county-env",
            "cadre_id": "cadre-42",
            "deadline": LATER.isoformat(),
        },
        headers=stack.auth("supervisor"),
    )
    assert first.status_code == 201
    projector()
    data = _csv(
        [
            ["问题来源", "问题标题", "责任单位", "责任人", "整改时限"],
            ["信访", title, "某县生态环境局", "王某", LATER.isoformat()],
        ]
    )
    preview = await _preview(stack, data)
    row = preview["rows"][0]
    assert row["action"] == "merge"
    assert row["duplicate_of_case"] == first.json()["case_id"]
    assert "减负" in row["note_zh"]
    summary = await _apply(stack, data)
    assert summary["counts"]["merged"] == 1
    assert summary["rows"][0]["case_id"] == first.json()["case_id"]


async def test_merged_cells_formulas_and_two_row_headers_in_xlsx(stack: Stack) -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.merge_range(0, 0, 0, 5, "2026年度考核发现问题整改台账")
    sheet.merge_range(1, 0, 2, 0, "序号")
    sheet.merge_range(1, 1, 2, 1, "问题来源")
    sheet.merge_range(1, 2, 2, 2, "问题表现")
    sheet.merge_range(1, 3, 1, 4, "责任单位")
    sheet.write(2, 3, "牵头")
    sheet.write(2, 4, "责任人")
    sheet.merge_range(1, 5, 2, 5, "整改时限")
    # One unit and one cadre merged over two rows; a date cell and a serial number.
    sheet.merge_range(3, 3, 4, 3, "某县生态环境局")
    sheet.merge_range(3, 4, 4, 4, "王某")
    sheet.write_row(3, 0, [1, "年度考核", _unique("问题一")])
    sheet.write_datetime(3, 5, _dt(LATER), book.add_format({"num_format": "yyyy/m/d"}))
    sheet.write_row(4, 0, [2, "年度考核", _unique("问题二")])
    sheet.write_number(4, 5, (LATER - date(1899, 12, 30)).days)
    sheet.write_row(5, 0, [3, "年度考核"])
    sheet.write_formula(5, 2, "=1/0", None, "#DIV/0!")
    sheet.write_row(5, 3, ["某县生态环境局", "王某", LATER.isoformat()])
    book.close()
    preview = await _preview(stack, buffer.getvalue())
    assert preview["file_kind"] == "xlsx"
    rows = {r["row"]: r for r in preview["rows"]}
    assert rows[4]["action"] == "open"
    assert rows[5]["action"] == "open"
    assert rows[4]["finding"]["unit_id"] == rows[5]["finding"]["unit_id"] == "county-env"
    assert rows[4]["finding"]["deadline"] == rows[5]["finding"]["deadline"] == LATER.isoformat()
    assert rows[6]["action"] == "error"
    assert "#DIV/0!" in rows[6]["errors"][0]["message_zh"]


def _dt(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"%PDF-1.4\x00\x00binary", 415, "not_a_spreadsheet"),
        (b"PK\x03\x04broken zip", 415, "not_a_spreadsheet"),
        (b"", 415, "not_a_spreadsheet"),
        ("甲,乙,丙\n1,2,3\n".encode(), 422, "ledger_header_not_found"),
        ("问题描述,整改时限\n甲,2027-01-01\n".encode(), 422, "ledger_columns_missing"),
    ],
)
async def test_files_that_cannot_be_imported(
    stack: Stack, data: bytes, status: int, code: str
) -> None:
    response = await stack.client.post(
        "/api/v1/imports", content=data, headers=stack.auth("supervisor")
    )
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["message_zh"]


async def test_only_a_supervisor_imports(stack: Stack) -> None:
    response = await stack.client.post(
        "/api/v1/imports", content=b"a,b\n", headers=stack.auth("unit")
    )
    assert response.status_code == 403


@pytest.mark.timeout(120)
async def test_ten_thousand_rows_are_previewed_within_ten_seconds(stack: Stack) -> None:
    lines = [["序号", "问题来源", "问题描述", "责任单位", "责任人", "整改时限"]]
    for n in range(10_000):
        lines.append(
            [
                str(n + 1),
                "审计",
                f"第{n}号问题：台账抽查发现档案缺失{n * 7919 % 10007}",
                "某县生态环境局",
                "王某",
                _cn(LATER),
            ]
        )
    data = _csv(lines, "gb18030")
    started = time.perf_counter()
    preview = await _preview(stack, data)
    elapsed = time.perf_counter() - started
    assert preview["counts"]["open"] + preview["counts"]["merge"] == 10_000
    assert elapsed < 10, f"preview of 10,000 rows took {elapsed:.1f} s"


async def test_round_trip_export_edit_import(stack: Stack, projector: Callable[[], None]) -> None:
    kept = _unique("城区道路破损修复滞后")
    for title in (kept, _unique("公厕保洁不到位")):
        response = await stack.client.post(
            "/api/v1/findings",
            json={
                "title": title,
                "source": "supervision",
                "unit_id": "env-station",
                "cadre_id": "cadre-9",
                "deadline": LATER.isoformat(),
                "force_new": True,
            },
            headers=stack.auth("supervisor"),
        )
        assert response.status_code == 201
    projector()
    book, sheet, headers = await _exported_xlsx(
        stack, {"unit": "env-station", "source": "supervision"}
    )
    assert sheet.max_row == 5
    # Edit a cell: the second row becomes a new finding (no case id, another text).
    new_title = _unique("公厕设施老化需更新")
    sheet.cell(5, headers["案件编号"]).value = None
    sheet.cell(5, headers["问题标题"]).value = new_title
    sheet.cell(5, headers["问题描述"]).value = "抽查发现三座公厕设施老化"
    sheet.cell(5, headers["整改时限"]).value = "2027年9月30日"
    edited = io.BytesIO()
    book.save(edited)
    preview = await _preview(stack, edited.getvalue())
    actions = {r["row"]: r for r in preview["rows"]}
    assert actions[4]["action"] == "skip"
    assert "已存在" in actions[4]["note_zh"]
    assert actions[5]["action"] == "open"
    finding = actions[5]["finding"]
    assert finding["source"] == "supervision"
    assert finding["unit_id"] == "env-station"
    assert finding["cadre_id"] == "cadre-9"
    assert finding["deadline"] == "2027-09-30"
    summary = await _apply(stack, edited.getvalue())
    assert summary["counts"]["opened"] == 1
    assert summary["counts"]["already_imported"] == 1


def test_the_cli_previews_a_file_and_names_its_errors(
    stack_database: str, tmp_path: pytest.TempPathFactory
) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    path = tmp_path / "台账.csv"  # type: ignore[operator]
    path.write_bytes(
        _csv(
            [
                ["问题描述", "责任单位", "责任人", "问题来源", "整改时限"],
                [_unique("问题甲"), "某县生态环境局", "王某", "审计", _cn(LATER)],
                [_unique("问题乙"), "某县生态环境局", "王某", "审计", "2027年2月30日"],
            ],
            "gb18030",
        )
    )
    runner = CliRunner()
    env = {"DATABASE_URL": stack_database}
    result = runner.invoke(app, ["import", str(path), "--unit", "city", "--dry-run"], env=env)
    assert result.exit_code == 1, result.output
    assert "第 3 行 E 整改时限：整改时限「2027年2月30日」不是有效日期" in result.output
    assert "将新立案 1 件" in result.output
    refused = runner.invoke(app, ["import", str(path), "--unit", "city"], env=env)
    assert refused.exit_code == 1
    assert "未导入任何一行" in refused.output


@pytest.fixture
def stack_database(database_url: str, tokens: dict[str, str]) -> str:
    return database_url


def _workbook(sheets: dict[str, list[list[str]]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            sheet.write_row(r, 0, row)
    book.close()
    return buffer.getvalue()


async def test_a_workbook_with_several_ledger_sheets_is_refused_and_nothing_is_written(
    stack: Stack,
) -> None:
    """Only the first sheet is read: rows on other sheets are never left out unsaid."""
    header = ["问题来源", "问题描述", "责任单位", "责任人", "整改时限"]
    row = ["审计", _unique("档案缺失"), "某县生态环境局", "王某", _cn(LATER)]
    data = _workbook({"市直": [header, row], "县区": [header, row], "说明": [["填写说明"]]})
    before = await _case_count(stack)
    for dry_run in ("true", "false"):
        response = await stack.client.post(
            "/api/v1/imports",
            params={"dry_run": dry_run},
            content=data,
            headers=stack.auth("supervisor"),
        )
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "ledger_several_sheets"
        assert "「市直」" in body["message_zh"]
        assert "「县区」" in body["message_zh"]
        assert "说明" not in body["message_zh"]  # a sheet of notes is no ledger
    assert await _case_count(stack) == before
    # The same rows on one sheet, with a notes sheet beside it, import.
    single = _workbook({"市直": [header, row], "说明": [["填写说明"]]})
    preview = await _preview(stack, single)
    assert [r["action"] for r in preview["rows"]] == ["open"]


# -- long-term rows (长期整改) and their 阶段节点 -----------------------------------------

LONG_HEADER = ["问题来源", "问题描述", "责任单位", "责任人", "整改类型", "整改时限", "阶段节点"]


def _day(days: int) -> date:
    return date.today() + timedelta(days=days)


async def test_a_long_term_row_opens_with_its_milestones(
    stack: Stack, projector: Callable[[], None]
) -> None:
    title = _unique("城区雨污分流管网改造滞后")
    first, second = _day(60), _day(200)
    cell = f"{_cn(first)} 完成管网排查；一期管网改造完成（{_cn(second)}前）"
    data = _csv(
        [
            LONG_HEADER,
            ["巡视巡察", title, "某县生态环境局", "王某", "持续整改", _cn(_day(400)), cell],
        ]
    )
    preview = await _preview(stack, data)
    assert preview["errors"] == []
    assert preview["columns"]["milestones"] == "G 阶段节点"
    row = preview["rows"][0]
    assert row["action"] == "open"
    assert row["finding"]["kind"] == "long_term"
    assert row["finding"]["milestones"] == [
        {"milestone_id": "m1", "title": "完成管网排查", "due": first.isoformat()},
        {"milestone_id": "m2", "title": "一期管网改造完成", "due": second.isoformat()},
    ]
    summary = await _apply(stack, data)
    assert summary["counts"]["opened"] == 1
    case_id = summary["rows"][0]["case_id"]
    case = (
        await stack.client.get(f"/api/v1/cases/{case_id}", headers=stack.auth("supervisor"))
    ).json()
    assert case["state"]["kind"] == "long_term"
    assert [(m["milestone_id"], m["title"], m["due"]) for m in case["state"]["milestones"]] == [
        ("m1", "完成管网排查", first.isoformat()),
        ("m2", "一期管网改造完成", second.isoformat()),
    ]
    # Imported again: the row's key is the file's hash and its row, as before.
    again = await _apply(stack, data)
    assert again["counts"]["already_imported"] == 1
    projector()


async def test_every_bad_milestone_cell_is_a_row_error_and_nothing_is_written(
    stack: Stack, projector: Callable[[], None]
) -> None:
    deadline = _cn(_day(300))
    good = f"{_cn(_day(60))} 完成管网排查"

    def row(cell: str, kind: str = "长期整改", due: str = deadline) -> list[str]:
        return ["审计", _unique("管网改造滞后"), "某县生态环境局", "王某", kind, due, cell]

    data = _csv(
        [
            LONG_HEADER,
            row(f"{good}；一期管网改造完成"),  # 2: a part without a date
            row(f"{good}；{_cn(_day(90))}"),  # 3: a part without a title
            row(f"{good}；2027年2月30日 一期"),  # 4: no such date
            row(f"{good}；{_cn(_day(30))} 一期"),  # 5: not after the one before
            row(f"{_cn(_day(-5))} 完成管网排查"),  # 6: not after today (the domain's rule)
            row(f"{_cn(_day(400))} 完成管网排查"),  # 7: after the deadline
            row(good, kind="限期整改"),  # 8: milestones on a case that is not long-term
            row(""),  # 9: a long-term case without milestones
            row(good),  # 10: good
        ]
    )
    projector()
    before = await _case_count(stack)
    preview = await _preview(stack, data)
    by_row = {r["row"]: r for r in preview["rows"]}
    assert by_row[10]["action"] == "open"
    errors: dict[int, list[dict[str, str]]] = {}
    for error in preview["errors"]:
        errors.setdefault(error["row"], []).append(error)
    assert sorted(errors) == list(range(2, 10))
    for number, found in errors.items():
        assert [e["column"] for e in found] == ["G 阶段节点"], (number, found)
    zh = {number: found[0]["message_zh"] for number, found in errors.items()}
    assert "第 2 个节点「一期管网改造完成」没有日期" in zh[2]
    assert "没有节点内容" in zh[3]
    assert "「2027年2月30日」不是有效日期" in zh[4]
    assert zh[5].startswith("第 2 个节点：节点时间须依次递增")
    assert zh[6].startswith("第 1 个节点：")
    assert "晚于今天" in zh[6]
    assert "不得晚于整改期限" in zh[7]
    assert "只有长期整改事项设置阶段节点" in zh[8]
    assert "长期整改须设置阶段节点" in zh[9]
    assert all(found[0]["message_en"] for found in errors.values())

    refused = await stack.client.post(
        "/api/v1/imports",
        params={"dry_run": "false"},
        content=data,
        headers=stack.auth("supervisor"),
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "ledger_has_errors"
    projector()
    assert await _case_count(stack) == before


async def test_a_long_term_row_in_a_ledger_without_the_column_says_to_add_it(
    stack: Stack,
) -> None:
    data = _csv(
        [
            LONG_HEADER[:-1],
            ["审计", _unique("管网改造滞后"), "某县生态环境局", "王某", "长期整改", _cn(LATER)],
        ]
    )
    preview = await _preview(stack, data)
    [error] = preview["errors"]
    assert error["column"] == "E 整改类型"
    assert "长期整改须设置阶段节点" in error["message_zh"]
    assert "增加“阶段节点”列" in error["message_zh"]


async def test_a_long_term_case_round_trips_through_the_exported_ledger(
    stack: Stack, projector: Callable[[], None]
) -> None:
    """Exported with its milestones (a reported one marked), edited into a new finding,
    imported back: the marks are ignored, the milestones are the same."""
    first, second = _day(60), _day(200)
    opened = await stack.client.post(
        "/api/v1/findings",
        json={
            "title": _unique("老旧小区雨污管网混接"),
            "source": "petition",
            "unit_id": "county-env",
            "cadre_id": "cadre-42",
            "kind": "long_term",
            "deadline": _day(300).isoformat(),
            "force_new": True,
            "milestones": [
                {"title": "完成管网排查", "due": first.isoformat()},
                {"title": "一期管网改造完成", "due": second.isoformat()},
            ],
        },
        headers=stack.auth("supervisor"),
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    reported = await stack.client.post(
        f"/api/v1/cases/{case_id}/milestone-report",
        json={"milestone_id": "m1", "text": "管网排查完成"},
        headers=stack.auth("unit"),
    )
    assert reported.status_code == 200, reported.text
    projector()
    cell = f"{_cn(first)} 完成管网排查（已报告）；{_cn(second)} 一期管网改造完成"
    exported_csv = await stack.client.get(
        "/api/v1/ledger.csv",
        params={"unit": "county-env", "kind": "long_term"},
        headers=stack.auth("supervisor"),
    )
    assert exported_csv.status_code == 200
    assert cell in exported_csv.content.decode("utf-8-sig")
    book, sheet, headers = await _exported_xlsx(stack, {"unit": "county-env", "kind": "long_term"})
    ids = {sheet.cell(r, headers["案件编号"]).value: r for r in range(4, sheet.max_row + 1)}
    ours = ids[case_id]
    assert sheet.cell(ours, headers["阶段节点"]).value == cell
    # Every other row goes; ours stays (its case exists: skipped, whatever its dates,
    # as when its milestones have passed), and a copy becomes a new finding.
    for r in range(sheet.max_row, 3, -1):
        if r != ours:
            sheet.delete_rows(r)
    for c in range(1, sheet.max_column + 1):
        sheet.cell(5, c).value = sheet.cell(4, c).value
    sheet.cell(4, headers["阶段节点"]).value = cell.replace(_cn(first), "2020年1月1日")
    sheet.cell(5, headers["案件编号"]).value = None
    sheet.cell(5, headers["问题标题"]).value = _unique("工业园区排水许可证未按期办理")
    edited = io.BytesIO()
    book.save(edited)
    preview = await _preview(stack, edited.getvalue())
    assert preview["errors"] == []
    kept, row = preview["rows"]
    assert (kept["action"], kept["existing_case"]) == ("skip", case_id)
    assert row["action"] == "open"
    assert row["finding"]["kind"] == "long_term"
    assert [(m["milestone_id"], m["title"], m["due"]) for m in row["finding"]["milestones"]] == [
        ("m1", "完成管网排查", first.isoformat()),
        ("m2", "一期管网改造完成", second.isoformat()),
    ]
    summary = await _apply(stack, edited.getvalue())
    assert summary["counts"]["opened"] == 1
