"""Finding units and cadres by part of a name on real PostgreSQL: the subtree and the
name are filtered in SQL (the case page's 指定责任人 / 移交责任单位 searches)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from store.directory import CadreMatch, Directory

pytestmark = pytest.mark.integration

UNITS = [
    ("p", "某省", None),
    ("c1", "甲市", "p"),
    ("c1-env", "甲市生态环境局", "c1"),
    ("c1-water", "甲市水利局", "c1"),
    ("c2", "乙市", "p"),
    ("c2-env", "乙市生态环境局", "c2"),
]
CADRES = [
    ("k1", "王小明", "c1-env", "局长"),
    ("k2", "王 大 力", "c1-water", "局长"),
    ("k3", "王五", "c2-env", "局长"),
    ("k4", "Alice Wang", "c1-env", "科长"),
    ("k5", "李100%_王", "c1-water", "科员"),
    ("k6", "小王", "c1-water", "科员"),
]


@pytest.fixture(scope="module")
def directory(engine: Engine) -> Directory:
    found = Directory(engine)
    found.add_units(UNITS)
    found.add_cadres(CADRES)
    return found


def _ids(found: list[CadreMatch]) -> list[str]:
    return [f.cadre.cadre_id for f in found]


def test_cadres_are_found_by_part_of_their_name_within_the_subtree_only(
    directory: Directory,
) -> None:
    found = directory.find_cadres("c1", "王", None, 20)
    assert set(_ids(found)) == {"k1", "k2", "k5", "k6"}  # not 王五 of 乙市
    assert all(f.unit_name.startswith("甲市") for f in found)


def test_the_cases_own_unit_comes_first_then_names_that_begin_with_the_query(
    directory: Directory,
) -> None:
    found = directory.find_cadres("p", "王", "c1-water", 20)
    # 甲市水利局's first: 王 大 力 begins with 王, then 小王 and 李100%_王 by name
    assert _ids(found) == ["k2", "k6", "k5", "k1", "k3"]


def test_width_case_and_blanks_are_ignored(directory: Directory) -> None:
    assert _ids(directory.find_cadres("p", "ＷＡＮＧ", None, 20)) == ["k4"]
    assert _ids(directory.find_cadres("p", "alice wang", None, 20)) == ["k4"]
    assert _ids(directory.find_cadres("p", "王大力", None, 20)) == ["k2"]
    assert _ids(directory.find_cadres("p", "王　大", None, 20)) == ["k2"]  # a full-width blank


def test_percent_and_underscore_are_only_characters(directory: Directory) -> None:
    assert _ids(directory.find_cadres(None, "%_", None, 20)) == ["k5"]
    assert _ids(directory.find_cadres(None, "_", None, 20)) == ["k5"]


def test_an_empty_query_finds_all_up_to_the_limit(directory: Directory) -> None:
    assert len(directory.find_cadres(None, "", None, 20)) == len(CADRES)
    assert len(directory.find_cadres("p", "", None, 4)) == 4
    assert directory.find_cadres("nowhere", "", None, 20) == []


def test_units_are_found_within_the_subtree_in_tree_order(directory: Directory) -> None:
    assert [u.unit_id for u in directory.find_units("c1", "", 20)] == ["c1", "c1-env", "c1-water"]
    assert [u.unit_id for u in directory.find_units("p", "生态", 20)] == ["c1-env", "c2-env"]
    assert [u.unit_id for u in directory.find_units("c2", "环境", 20)] == ["c2-env"]
    assert [u.unit_id for u in directory.find_units("p", "乙市", 20)] == ["c2", "c2-env"]
    assert [u.unit_id for u in directory.find_units(None, "", 2)] == ["p", "c1"]
    assert directory.find_units("p", "x" * 200, 20) == []
