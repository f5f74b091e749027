"""Reading ledgers: encodings, headers found by their aliases, Chinese dates, bad files."""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
import pytest
import xlsxwriter

from application.errors import Refusal
from application.ledgers.columns import IMPORT_FIELDS, code_of, header_key
from application.ledgers.exports import xlsx_header
from application.ledgers.milestones import parse_milestones
from application.ledgers.reading import column_letter, find_header, parse_date, read_sheet
from application.ledgers.template import template_xlsx


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2027年3月31日", date(2027, 3, 31)),
        ("2027 年 3 月 31 日前", date(2027, 3, 31)),
        ("2027/3/31", date(2027, 3, 31)),
        ("2027-03-31", date(2027, 3, 31)),
        ("2027.3.31", date(2027, 3, 31)),
        ("20270331", date(2027, 3, 31)),
        ("2027年2月底", date(2027, 2, 28)),
        (46477, date(2027, 3, 31)),  # an Excel serial number
        (46477.0, date(2027, 3, 31)),
        ("46477", date(2027, 3, 31)),
        (datetime(2027, 3, 31, 0, 0), date(2027, 3, 31)),
        (date(2027, 3, 31), date(2027, 3, 31)),
        ("", None),
        (None, None),
    ],
)
def test_dates_in_the_usual_chinese_forms(value: object, expected: date | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["2027年2月30日", "明年三月", "3/31", "12.5", True, 12.5])
def test_what_is_not_a_date_is_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


def test_codes_and_labels_and_header_notes() -> None:
    assert code_of("source", "审计") == "audit"
    assert code_of("source", "audit") == "audit"
    assert code_of("source", "巡察") == "inspection"
    assert code_of("kind", "立行立改") == "immediate"
    assert code_of("kind", "马上改") is None
    assert header_key(" 整改时限\n（年月日）") == header_key("整改时限")
    assert header_key("*责任单位(必填)") == header_key("责任单位")
    assert column_letter(0) == "A"
    assert column_letter(27) == "AB"


def _csv(lines: list[list[str]], encoding: str) -> bytes:
    return "\r\n".join(",".join(line) for line in lines).encode(encoding)


def test_a_csv_in_gb18030_is_detected_and_its_header_found_under_a_title() -> None:
    data = _csv(
        [
            ["某市2026年考核发现问题整改台账", "", "", ""],
            ["", "", "", ""],
            ["序号", "存在问题", "整改单位", "完成时限", "责任人"],
            ["1", "污水处理厂出水超标", "某县生态环境局", "2027.3.31", "王某"],
        ],
        "gb18030",
    )
    sheet = read_sheet(data)
    assert sheet.encoding == "gb18030"
    table = find_header(sheet)
    assert table.first_row == 3
    assert set(table.columns) == {"description", "unit", "deadline", "cadre"}
    assert sheet.rows[3][table.columns["description"]] == "污水处理厂出水超标"


def test_utf8_with_a_bom_is_read_as_utf8() -> None:
    data = "\ufeff问题描述,责任单位\n甲,乙\n".encode()
    sheet = read_sheet(data)
    assert sheet.encoding == "utf-8"
    assert sheet.rows[0][0] == "问题描述"


def test_a_two_row_header_with_merged_groups_is_understood() -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.merge_range(0, 0, 0, 4, "整改台账")
    sheet.merge_range(1, 0, 2, 0, "序号")
    sheet.merge_range(1, 1, 2, 1, "问题表现")
    sheet.merge_range(1, 2, 1, 3, "责任单位")
    sheet.write(2, 2, "牵头")
    sheet.write(2, 3, "配合")
    sheet.merge_range(1, 4, 2, 4, "整改期限")
    sheet.write_row(3, 0, [1, "问题甲", "某县生态环境局", "某县水利局", "2027年3月31日"])
    book.close()
    table = find_header(read_sheet(buffer.getvalue()))
    assert table.first_row == 3
    assert table.columns["description"] == 1
    assert table.columns["unit"] == 2  # 责任单位 + 牵头
    assert table.columns["deadline"] == 4


def test_the_exported_ledgers_header_reads_back() -> None:
    upper, lower = xlsx_header()
    data = _csv([["某市整改台账"], upper, lower], "utf-8")
    table = find_header(read_sheet(data))
    assert table.first_row == 3
    for name in ("finding_id", "source", "title", "description", "unit", "unit_id", "cadre"):
        assert name in table.columns
    assert {"cadre_id", "kind", "target", "deadline", "category", "severity"} <= set(table.columns)
    assert "milestones" in table.columns  # 阶段节点, under 整改要求
    assert table.columns["milestones"] == table.columns["deadline"] + 1


def test_the_template_has_every_field_and_drop_downs() -> None:
    data = template_xlsx()
    table = find_header(read_sheet(data))
    assert set(table.columns) == {f.name for f in IMPORT_FIELDS}
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["问题导入"]
    validations = sheet.data_validations.dataValidation
    assert len(validations) == 4  # source, severity, kind, force_new
    assert all(v.type == "list" for v in validations)
    lists = book["可选值"]
    values = {c.value for row in lists.iter_rows() for c in row if c.value}
    assert {"审计", "巡视巡察", "立行立改", "一般", "严重"} <= values


def test_the_template_has_a_milestones_column_after_the_deadline_and_a_long_term_example() -> None:
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx()))
    sheet = book["问题导入"]
    headers = [c.value for c in sheet[2]]
    assert headers.index("阶段节点") == headers.index("整改时限") + 1
    column = headers.index("阶段节点") + 1
    assert "；" in (sheet.cell(2, column).comment.text or "")  # the format, in the note
    assert not sheet.cell(3, column).value  # the time-limited example has none
    assert sheet.cell(4, headers.index("整改类型") + 1).value == "长期整改"
    milestones, problems = parse_milestones(sheet.cell(4, column).value)
    assert problems == []
    assert [m.due for m in milestones] == [date(2027, 3, 31), date(2027, 9, 30), date(2028, 6, 30)]
    assert milestones[-1].due <= date(2028, 6, 30)  # by the example's deadline
    assert sheet.cell(4, headers.index("整改时限") + 1).value == "2028年6月30日"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"%PDF-1.7\x00\x01\x02 binary",
        b"PK\x03\x04 not really a zip",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 truncated",
        b"\xff\xfe\xfa\x80\x81 \xfe\xff",
    ],
)
def test_a_file_that_is_not_a_spreadsheet_is_415(data: bytes) -> None:
    with pytest.raises(Refusal) as caught:
        read_sheet(data)
    assert caught.value.status == 415
    assert "不是可识别的表格" in caught.value.message_zh


def test_a_sheet_without_a_header_is_422_in_chinese() -> None:
    with pytest.raises(Refusal) as caught:
        find_header(read_sheet("甲,乙\n1,2\n".encode()))
    assert caught.value.code == "ledger_header_not_found"
    assert "未找到表头" in caught.value.message_zh


def test_other_sheets_holding_findings_are_named_and_the_template_has_none() -> None:
    assert read_sheet(template_xlsx()).other_ledgers == []  # its 可选值 lists no findings
    header = ["序号", "问题描述", "责任单位", "整改时限"]
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet("一月").write_row(0, 0, header)
    book.add_worksheet("说明").write_row(0, 0, ["填写说明", "问题描述须写明问题表现"])
    second = book.add_worksheet("二月")  # under a title, as offices write them
    second.write_row(0, 0, ["二月整改台账"])
    second.write_row(3, 0, header)
    second.write_row(4, 0, ["1", "档案缺失", "某县生态环境局", "2027年3月31日"])
    book.add_worksheet("三月").write_row(0, 0, header)  # a blank form: nothing to import
    book.close()
    sheet = read_sheet(buffer.getvalue())
    assert (sheet.name, sheet.other_ledgers) == ("一月", ["二月"])
    assert read_sheet("问题描述,责任单位\n甲,乙\n".encode()).other_ledgers == []  # CSV
