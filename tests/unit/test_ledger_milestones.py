"""The 阶段节点 cell of a ledger: every form offices write a long-term case's milestones
in, each bad part named in Chinese, and the export's format read back."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from application.ledgers.milestones import (
    REPORTED_MARK,
    CellMilestone,
    format_milestones,
    parse_milestones,
)

M1 = ("完成管网排查", date(2027, 3, 31))
M2 = ("一期管网改造完成", date(2027, 9, 30))


def _read(value: object) -> list[tuple[str, date]]:
    milestones, problems = parse_milestones(value)
    assert problems == [], [p.message_zh for p in problems]
    return [(m.title, m.due) for m in milestones]


@pytest.mark.parametrize(
    "cell",
    [
        "2027年3月31日 完成管网排查；2027年9月30日 一期管网改造完成",
        "2027年3月31日 完成管网排查;2027年9月30日 一期管网改造完成",
        "2027年3月31日 完成管网排查\n2027年9月30日 一期管网改造完成",
        "2027年3月31日 完成管网排查\r\n2027年9月30日 一期管网改造完成\n",
        "2027年3月31日 完成管网排查； ；2027年9月30日 一期管网改造完成；",
        "完成管网排查 2027年3月31日；一期管网改造完成 2027年9月30日",
        "完成管网排查（2027年3月31日前）；一期管网改造完成（2027年9月30日前）",
        "完成管网排查(2027年3月31日之前);一期管网改造完成【2027年9月30日】",
        "完成管网排查，2027年3月31日前；一期管网改造完成，2027年9月30日以前",
        "2027年3月31日前完成管网排查；在2027年9月30日前一期管网改造完成",
        "2027-03-31：完成管网排查；2027/9/30 一期管网改造完成",
        "2027.3.31 完成管网排查；20270930 一期管网改造完成",
        "完成时间：2027年3月31日，完成管网排查；截至2027年9月30日 一期管网改造完成",
        "完成管网排查，时限：2027年3月31日；一期管网改造完成于2027年9月30日",
        "1. 2027年3月31日 完成管网排查\n2. 2027年9月30日 一期管网改造完成",
        "1、2027年3月31日 完成管网排查\n2、2027年9月30日 一期管网改造完成",
        "（1）2027年3月31日 完成管网排查\n（2）2027年9月30日 一期管网改造完成",
        "1.2027年3月31日 完成管网排查\n2)2027年9月30日 一期管网改造完成",
        "① 2027年3月31日 完成管网排查\n② 2027年9月30日 一期管网改造完成",
        "2027 年 3 月 31 日 完成管网排查；２０２７年９月３０日 一期管网改造完成",
        "2027年3月底前 完成管网排查；2027年9月末 一期管网改造完成",
        "2027年3月 完成管网排查；2027年9月 一期管网改造完成",  # the month's last day
    ],
)
def test_every_form_offices_write_is_read(cell: str) -> None:
    assert _read(cell) == [M1, M2]


def test_numbers_in_a_title_are_kept() -> None:
    assert _read("1.5公里管网改造 2027年3月31日") == [("1.5公里管网改造", date(2027, 3, 31))]
    assert _read("完成投资20000000元，2027年3月31日前") == [
        ("完成投资20000000元", date(2027, 3, 31))
    ]
    assert _read("2027年3月31日 完成二期（含 3 座泵站）设计") == [
        ("完成二期（含 3 座泵站）设计", date(2027, 3, 31))
    ]


def test_an_empty_cell_has_no_milestones_and_no_problems() -> None:
    for cell in (None, "", "  ", "；；", "\n"):
        assert parse_milestones(cell) == ([], [])


def test_the_reported_mark_of_the_export_is_ignored() -> None:
    milestones, problems = parse_milestones(
        f"2027年3月31日 完成管网排查{REPORTED_MARK}；2027年9月30日 一期管网改造完成(已报告)"
    )
    assert problems == []
    assert [(m.title, m.due) for m in milestones] == [M1, M2]
    assert all(m.reported for m in milestones)


def test_the_exported_cell_reads_back() -> None:
    written = [
        CellMilestone(title="完成管网排查", due=date(2027, 3, 31), reported=True),
        CellMilestone(title="一期改造；含泵站\n二期设计", due=date(2027, 9, 30)),
        CellMilestone(title="全部完成（2028年验收）", due=date(2028, 6, 30)),
    ]
    cell = format_milestones(written)
    assert cell.startswith("2027年3月31日 完成管网排查（已报告）；2027年9月30日 一期改造，含泵站")
    milestones, problems = parse_milestones(cell)
    assert problems == []
    assert [(m.title, m.due, m.reported) for m in milestones] == [
        ("完成管网排查", date(2027, 3, 31), True),
        ("一期改造，含泵站，二期设计", date(2027, 9, 30), False),  # its separators replaced
        ("全部完成（2028年验收）", date(2028, 6, 30), False),
    ]
    assert format_milestones([]) == ""


@pytest.mark.parametrize(
    ("cell", "number", "expected_zh"),
    [
        ("完成管网排查", 1, "没有日期"),
        ("2027年3月31日 完成管网排查；一期管网改造完成", 2, "没有日期"),
        ("3月31日前 完成管网排查", 1, "没有日期"),  # no year
        ("2027年3月31日", 1, "没有节点内容"),
        ("2027年3月31日 完成管网排查；（2027年9月30日前）", 2, "没有节点内容"),
        ("2027年2月30日 完成管网排查", 1, "「2027年2月30日」不是有效日期"),
        ("2027-13-01 完成管网排查", 1, "「2027-13-01」不是有效日期"),
        ("2027年3月31日 完成排查；2027/2/29 一期", 2, "「2027/2/29」不是有效日期"),
        ("2027年3月31日至2027年9月30日 完成管网排查", 1, "有多个日期"),
        ("2027年3月31日 完成管网排查，2027年9月30日 一期管网改造完成", 1, "有多个日期"),
    ],
)
def test_each_bad_part_is_named_in_chinese(cell: str, number: int, expected_zh: str) -> None:
    milestones, problems = parse_milestones(cell)
    assert len(problems) == 1
    problem = problems[0]
    assert f"第 {number} 个节点" in problem.message_zh
    assert expected_zh in problem.message_zh
    assert f"milestone {number}" in problem.message_en
    assert len(milestones) == (1 if number == 2 else 0)  # the good parts are still read


def test_every_bad_part_of_a_cell_is_named() -> None:
    cell = "完成排查；2027年3月31日；2027年2月30日 一期；2027年9月30日 二期"
    milestones, problems = parse_milestones(cell)
    assert [m.title for m in milestones] == ["二期"]
    assert [p.message_zh.split("」")[0] for p in problems] == [
        "第 1 个节点「完成排查",
        "第 2 个节点「2027年3月31日",
        "第 3 个节点「2027年2月30日 一期",
    ]


def test_a_date_cell_alone_is_a_milestone_without_a_title() -> None:
    _, problems = parse_milestones(datetime(2027, 3, 31))
    assert ["没有节点内容" in p.message_zh for p in problems] == [True]
