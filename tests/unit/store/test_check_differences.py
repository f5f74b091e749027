"""How a check's difference names what differs: columns, and figures inside a document."""

from __future__ import annotations

import json

from store.projections.check import Difference

KEY = {"cadre_id": "c1", "period": "2025"}


def _document(**figures: int) -> str:
    return json.dumps({"cadre_id": "c1", **{k: {"value": v} for k, v in figures.items()}})


def test_a_document_that_differs_names_each_figure_that_differs() -> None:
    live = {"as_of": "t", "document": _document(cases_closed=99, cases_assigned=3)}
    rebuilt = {"as_of": "t", "document": _document(cases_closed=0, cases_assigned=3)}
    difference = Difference("cadre_archive", KEY, live, rebuilt)
    assert difference.changes() == [
        ("document.cases_closed", {"value": 99}, {"value": 0}),
    ]
    assert difference.describe() == (
        "cadre_archive [cadre_id=c1, period=2025]: "
        "document.cases_closed: {'value': 99} ≠ {'value': 0}"
    )


def test_a_document_that_differs_only_in_its_bytes_is_shown_whole() -> None:
    # The archive is compared to the byte: the same figures written otherwise differ too.
    live = {"document": json.dumps({"a": 1, "b": 2})}
    rebuilt = {"document": json.dumps({"b": 2, "a": 1})}
    difference = Difference("cadre_archive", KEY, live, rebuilt)
    assert difference.changes() == [("document", live["document"], rebuilt["document"])]


def test_text_that_is_not_a_json_object_is_compared_as_it_is() -> None:
    for was, should in (("{broken", "{broken too"), ("[1]", "[2]"), ("red", "green")):
        difference = Difference("t", {"id": 1}, {"v": was, "same": 1}, {"v": should, "same": 1})
        assert difference.changes() == [("v", was, should)]


def test_a_row_on_one_side_only_has_no_column_changes() -> None:
    missing = Difference("t", {"id": 1}, None, {"v": 1})
    extra = Difference("t", {"id": 1}, {"v": 1}, None)
    assert missing.changes() == extra.changes() == []
    assert missing.describe() == 't [id=1]: missing (log: {"v": 1})'
    assert extra.describe() == "t [id=1]: extra (not in the log's result)"
