"""The sentences of a notice: dates in a Chinese sentence are written 2031年3月31日,
English keeps ISO, and a transfer names the unit it came from, not its id."""

from __future__ import annotations

from typing import Any

import pytest

from activities.outbox_dispatcher.messages import render

BASE = "http://127.0.0.1:8000"


def _payload(kind: str, **more: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "title": "污水处理厂出水超标",
        "unit_name": "某县生态环境局",
        "case_id": "c1",
        "deadline": "2031-03-31",
        **more,
    }


@pytest.mark.parametrize(
    ("kind", "detail", "zh", "en"),
    [
        (
            "extension_requested",
            {"reason": "汛期", "proposed_deadline": "2031-05-06"},
            "责任单位申请延期至 2031年5月6日，理由：汛期。",
            "extend the deadline to 2031-05-06",
        ),
        (
            "extension_granted",
            {"new_deadline": "2031-05-06", "comment": ""},
            "新的整改期限为 2031年5月6日。",
            "the new deadline is 2031-05-06",
        ),
    ],
)
def test_dates_in_sentences_follow_the_language(
    kind: str, detail: dict[str, str], zh: str, en: str
) -> None:
    chinese = render(_payload(kind, detail=detail), "zh-CN", BASE).text
    assert zh in chinese
    assert "整改期限：2031年3月31日" in chinese
    assert "2031-05-06" not in chinese
    assert "2031-03-31" not in chinese
    english = render(_payload(kind, detail=detail), "en", BASE).text
    assert en in english
    assert "Deadline: 2031-03-31" in english


def test_no_deadline_and_text_that_is_not_a_date_are_kept() -> None:
    assert "整改期限：未设定" in render(_payload("reminder", deadline=None), "zh-CN", BASE).text
    assert "Deadline: none" in render(_payload("reminder", deadline=None), "en", BASE).text
    odd = render(_payload("extension_granted", detail={"new_deadline": "下月底"}), "zh-CN", BASE)
    assert "新的整改期限为 下月底。" in odd.text


def test_a_transfer_names_the_unit_it_came_from() -> None:
    detail = {"previous_unit_id": "U00007", "reason": "职责调整"}
    named = _payload("reassigned", detail=detail, previous_unit_name="某县水利局")
    assert "原单位 某县水利局" in render(named, "zh-CN", BASE).text
    assert "from unit 某县水利局" in render(named, "en", BASE).text
    # A row queued before names were looked up still says which unit, by its id.
    assert "原单位 U00007" in render(_payload("reassigned", detail=detail), "zh-CN", BASE).text
