"""The ledger's columns (整改台账): one definition for the export (XLSX and CSV), the
import's column names and their aliases, and the coded values with their labels.

Exported coded columns hold the code (``audit``) with a label column beside it
(审计), so a ledger edited and imported back is understood; the import accepts the
code or the label in a coded column and ignores the label columns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from domain.vocabulary import CaseKind, CaseStatus, Source, TrafficLight

__all__ = [
    "CODES",
    "IMPORT_FIELDS",
    "LEDGER_COLUMNS",
    "LEDGER_TITLE",
    "SEVERITIES",
    "YES_NO",
    "ImportField",
    "LedgerColumn",
    "alias_index",
    "header_key",
]

LEDGER_TITLE = "整改台账"

SOURCE_LABELS: dict[str, str] = {
    Source.ANNUAL: "年度考核",
    Source.ROUTINE: "平时考核",
    Source.SPECIAL: "专项考核",
    Source.INSPECTION: "巡视巡察",
    Source.AUDIT: "审计",
    Source.SUPERVISION: "政府督查",
    Source.PETITION: "信访",
    Source.PUBLIC_RATING: "群众评价",
    Source.SELF_CHECK: "自查",
}
KIND_LABELS: dict[str, str] = {
    CaseKind.IMMEDIATE: "立行立改",
    CaseKind.TIME_LIMITED: "限期整改",
    CaseKind.LONG_TERM: "长期整改",
}
STATUS_LABELS: dict[str, str] = {
    CaseStatus.RECORDED: "尚未整改",
    CaseStatus.OPEN: "正在整改",
    CaseStatus.CLOSURE_PENDING: "申请销号",
    CaseStatus.CLOSED: "已完成整改",
    CaseStatus.WITHDRAWN: "已撤销",
}
LIGHT_LABELS: dict[str, str] = {
    TrafficLight.GREEN: "绿灯",
    TrafficLight.YELLOW: "黄灯",
    TrafficLight.RED: "红灯",
    TrafficLight.GREY: "灰灯",
}
LEVEL_LABELS: dict[int, str] = {0: "", 1: "催办", 2: "督办", 3: "挂牌督办", 4: "问责建议"}
# Severity is free text in the domain (≤ 32 characters); these are the values the
# template's drop-down offers, stored as written.
SEVERITIES: tuple[str, ...] = ("一般", "较重", "严重")
YES_NO: tuple[str, ...] = ("是", "否")

# Coded columns of the import: code -> label; extra accepted spellings map to a code.
CODES: dict[str, dict[str, str]] = {"source": SOURCE_LABELS, "kind": KIND_LABELS}
_EXTRA_SPELLINGS: dict[str, dict[str, str]] = {
    "source": {
        "巡视": "inspection",
        "巡察": "inspection",
        "巡视巡察": "inspection",
        "审计整改": "audit",
        "督查": "supervision",
        "群众评价好差评": "public_rating",
        "好差评": "public_rating",
        "年度": "annual",
        "平时": "routine",
        "专项": "special",
    },
    "kind": {"立行立改类": "immediate", "限期": "time_limited", "持续整改": "long_term"},
}


def header_key(text: str) -> str:
    """A header as the aliases are matched: NFKC, no blanks, no required-marks, no
    trailing note in parentheses (``整改时限（年月日）`` → ``整改时限``)."""
    norm = unicodedata.normalize("NFKC", text)
    norm = re.sub(r"\s+", "", norm).replace("*", "").replace("★", "")
    norm = re.sub(r"\((必填|选填|[^()]*[年月日格式填写][^()]*)\)$", "", norm)
    return norm.casefold()


def code_of(field: str, value: str) -> str | None:
    """The code a coded column's cell means (code or label), or None."""
    labels = CODES[field]
    key = header_key(value)
    for code, label in labels.items():
        if key in (code.casefold(), header_key(label)):
            return code
    return _EXTRA_SPELLINGS[field].get(key)


@dataclass(frozen=True, slots=True)
class ImportField:
    """A field the import reads, and the column names it is known by."""

    name: str
    label: str  # the template's header
    aliases: tuple[str, ...]
    required: bool = False
    example: str = ""


IMPORT_FIELDS: tuple[ImportField, ...] = (
    ImportField(
        "finding_id", "案件编号", ("案件编号", "问题编号", "编号", "finding_id", "case_id")
    ),
    ImportField(
        "source",
        "问题来源",
        ("问题来源", "来源", "发现渠道", "问题渠道", "考核类型", "source"),
        required=True,
        example="审计",
    ),
    ImportField(
        "category",
        "问题类别",
        ("问题类别", "问题分类", "类别", "指标领域", "category"),
        example="生态环保",
    ),
    ImportField(
        "severity", "严重程度", ("严重程度", "问题等级", "问题性质", "severity"), example="一般"
    ),
    ImportField(
        "title",
        "问题标题",
        ("问题标题", "问题名称", "标题", "问题概述", "title"),
        example="乡镇污水处理厂出水氨氮超标",
    ),
    ImportField(
        "description",
        "问题描述",
        (
            "问题描述",
            "问题表现",
            "存在问题",
            "具体问题表述",
            "问题具体表现",
            "问题内容",
            "发现问题",
            "问题",
            "description",
        ),
        example="2026年第三季度抽测，出水氨氮浓度超过一级A标准",
    ),
    ImportField(
        "unit",
        "责任单位",
        (
            "责任单位",
            "整改单位",
            "责任单位名称",
            "牵头单位",
            "责任单位牵头",
            "整改责任单位",
            "单位名称",
            "unit",
        ),
        required=True,
        example="某县生态环境局",
    ),
    ImportField("unit_id", "单位编号", ("单位编号", "责任单位编号", "unit_id")),
    ImportField(
        "cadre",
        "责任人",
        ("责任人", "责任人姓名", "整改责任人", "具体责任人", "责任领导", "cadre"),
        required=True,
        example="王某",
    ),
    ImportField("cadre_id", "责任人编号", ("责任人编号", "cadre_id")),
    ImportField(
        "kind", "整改类型", ("整改类型", "整改类别", "整改方式", "kind"), example="限期整改"
    ),
    ImportField(
        "target",
        "整改目标/完成标准",
        (
            "整改目标/完成标准",
            "整改目标",
            "完成标准",
            "整改完成标准",
            "整改目标及完成标准",
            "整改目标完成标准",
            "target",
        ),
        example="出水稳定达到一级A标准",
    ),
    ImportField(
        "merge_into",
        "并入案件",
        ("并入案件", "并入案件编号", "merge_into"),
    ),
    ImportField("force_new", "另行立案", ("另行立案", "是否另行立案", "force_new")),
    ImportField(
        "deadline",
        "整改时限",
        (
            "整改时限",
            "整改期限",
            "完成时限",
            "整改时间",
            "完成时间",
            "整改截止日期",
            "整改完成时限",
            "deadline",
        ),
        example="2027年3月31日",
    ),
    # 长期整改's milestones in one cell (application.ledgers.milestones reads it). Not
    # 时间节点 / 整改时间节点: many ledgers name their deadline so.
    ImportField(
        "milestones",
        "阶段节点",
        (
            "阶段节点",
            "阶段目标",
            "节点安排",
            "分阶段目标",
            "阶段性目标",
            "阶段节点安排",
            "阶段性节点",
            "节点目标",
            "阶段时间节点",
            "分阶段时间节点",
            "分阶段整改目标",
            "阶段目标及时限",
            "milestones",
        ),
    ),
)


def alias_index(fields: tuple[ImportField, ...] = IMPORT_FIELDS) -> dict[str, str]:
    """header_key(alias) -> field name."""
    index: dict[str, str] = {}
    for field in fields:
        for alias in (field.label, *field.aliases):
            index.setdefault(header_key(alias), field.name)
    return index


@dataclass(frozen=True, slots=True)
class LedgerColumn:
    """One column of the exported ledger: its group (upper header row; None: the header
    spans both rows), its own header, width, and the key of the value it shows."""

    key: str
    header: str
    group: str | None = None
    width: int = 12


_PROBLEM, _DUTY, _DEMAND, _DONE = "问题情况", "责任主体", "整改要求", "整改情况"

LEDGER_COLUMNS: tuple[LedgerColumn, ...] = (
    LedgerColumn("seq", "序号", width=6),
    LedgerColumn("case_id", "案件编号", width=22),
    LedgerColumn("source", "问题来源", _PROBLEM, 12),
    LedgerColumn("source_label", "来源名称", _PROBLEM, 10),
    LedgerColumn("category", "问题类别", _PROBLEM, 10),
    LedgerColumn("severity", "严重程度", _PROBLEM, 8),
    LedgerColumn("title", "问题标题", _PROBLEM, 24),
    LedgerColumn("description", "问题描述", _PROBLEM, 36),
    LedgerColumn("unit", "责任单位", _DUTY, 18),
    LedgerColumn("unit_id", "单位编号", _DUTY, 14),
    LedgerColumn("cadre", "责任人", _DUTY, 8),
    LedgerColumn("cadre_id", "责任人编号", _DUTY, 12),
    LedgerColumn("kind", "整改类型", _DEMAND, 12),
    LedgerColumn("kind_label", "类型名称", _DEMAND, 10),
    LedgerColumn("target", "整改目标/完成标准", _DEMAND, 28),
    LedgerColumn("measures", "整改措施", _DEMAND, 28),
    LedgerColumn("deadline", "整改时限", _DEMAND, 12),
    LedgerColumn("milestones", "阶段节点", _DEMAND, 36),
    LedgerColumn("progress", "整改进展", _DONE, 28),
    LedgerColumn("status", "整改状态", _DONE, 14),
    LedgerColumn("status_label", "状态名称", _DONE, 10),
    LedgerColumn("light", "亮灯", _DONE, 8),
    LedgerColumn("level", "督办级别", _DONE, 10),
    LedgerColumn("done", "是否完成整改", _DONE, 8),
    LedgerColumn("closed", "是否销号", _DONE, 8),
    LedgerColumn("closed_on", "销号日期", _DONE, 12),
    LedgerColumn("next_steps", "未完成原因及下一步计划", _DONE, 28),
    LedgerColumn("remark", "备注", width=16),
)


def label_columns() -> Mapping[str, str]:
    """Label columns of the ledger (ignored on import), by their header key."""
    return {header_key(c.header): c.key for c in LEDGER_COLUMNS if c.key.endswith("_label")}
