"""The import template (问题导入模板): Chinese headers, two example rows (a time-limited
case, and a long-term one with its 阶段节点), and a drop-down (data validation) of the
allowed values of each coded column."""

from __future__ import annotations

import io

import xlsxwriter

from application.ledgers.columns import CODES, IMPORT_FIELDS, SEVERITIES, YES_NO

__all__ = ["template_xlsx"]

_NOTES = {
    "finding_id": "选填：来源系统中的编号（字母、数字、-、_）；不填则自动生成",
    "source": "必填：从下拉列表选择",
    "title": "选填：不填时取问题描述的第一句",
    "description": "必填（或填写问题标题）",
    "unit": "必填：单位名称或单位编号",
    "unit_id": "选填：填写后优先按编号匹配",
    "cadre": "必填：姓名或干部编号",
    "cadre_id": "选填：填写后优先按编号匹配",
    "kind": "选填：默认限期整改；长期整改须填写“阶段节点”",
    "deadline": "选填：如 2027年3月31日、2027-03-31；不填按整改类型的默认工作日计算",
    "milestones": "长期整改必填，其他类型不填：每个节点写“日期 内容”，节点之间用“；”或换行分隔，"
    "如 2027年3月31日 完成管网排查；2027年9月30日 一期管网改造完成。节点日期须依次递增、"
    "晚于今天且不晚于整改时限",
    "severity": "选填：从下拉列表选择",
    "merge_into": "选填：与在办案件可能重复时，填写要并入的案件编号",
    "force_new": "选填：与在办案件可能重复但确属新问题时填“是”",
}
# The second example row: a long-term case (长期整改) and its milestones; the fields it
# does not name keep the first row's example.
_LONG_TERM_EXAMPLE = {
    "source": "巡视巡察",
    "title": "城区雨污分流管网改造滞后",
    "description": "老城区约 30 公里管网雨污合流，雨季污水溢流",
    "unit": "某县住房和城乡建设局",
    "cadre": "李某",
    "kind": "长期整改",
    "target": "城区雨污分流全覆盖，污水收集率达到 90%",
    "deadline": "2028年6月30日",
    "milestones": "2027年3月31日 完成管网排查；2027年9月30日 一期管网改造完成；"
    "2028年6月30日 全部管网改造完成并通过验收",
}


def template_xlsx() -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("问题导入")
    lists = book.add_worksheet("可选值")
    title = book.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = book.add_format(
        {"bold": True, "border": 1, "bg_color": "#DDEBF7", "align": "center", "text_wrap": True}
    )
    required = book.add_format(
        {"bold": True, "border": 1, "bg_color": "#FCE4D6", "align": "center", "text_wrap": True}
    )
    last = len(IMPORT_FIELDS) - 1
    sheet.merge_range(
        0,
        0,
        0,
        last,
        "考核发现问题导入模板（第 2 行为表头；第 3、4 行为示例，第 4 行为长期整改，"
        "导入前请覆盖或删除）",
        title,
    )
    allowed: dict[str, list[str]] = {name: list(labels.values()) for name, labels in CODES.items()}
    allowed["severity"] = list(SEVERITIES)
    allowed["force_new"] = list(YES_NO)
    list_column = 0
    for col, field in enumerate(IMPORT_FIELDS):
        sheet.write(1, col, field.label, required if field.required else head)
        sheet.write(2, col, field.example)
        sheet.write(3, col, _LONG_TERM_EXAMPLE.get(field.name, field.example))
        width = 48 if field.name == "milestones" else max(12, len(field.label) * 2 + 4)
        sheet.set_column(col, col, width)
        if field.name in _NOTES:
            sheet.write_comment(1, col, _NOTES[field.name])
        values = allowed.get(field.name)
        if values:
            lists.write(0, list_column, field.label, head)
            for offset, value in enumerate(values, start=1):
                lists.write(offset, list_column, value)
            letter = chr(ord("A") + list_column)
            sheet.data_validation(
                2,
                col,
                10_001,
                col,
                {
                    "validate": "list",
                    "source": f"='可选值'!${letter}$2:${letter}${len(values) + 1}",
                    "error_title": field.label,
                    "error_message": "请从下拉列表中选择：" + "、".join(values),
                },
            )
            list_column += 1
    sheet.freeze_panes(2, 0)
    book.close()
    return buffer.getvalue()
