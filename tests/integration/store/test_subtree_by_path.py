"""A subtree is the units whose path starts with the root's, character for character:
an underscore in a unit id (allowed) is no wildcard, so a unit whose id differs there
is not inside (it was, while paths were compared with LIKE)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from store.directory import Directory
from store.outbox import Channel, ContactRole, UnitContacts

pytestmark = pytest.mark.integration

UNITS = [
    ("sp", "某省", None),
    ("s_a", "甲市", "sp"),  # "_" would match any one character under LIKE
    ("sXa", "乙市", "sp"),
    ("sXa-env", "乙市生态环境局", "sXa"),
    ("s_b", "丙市", "sp"),
    ("s_b-env", "丙市生态环境局", "s_b"),
    ("sYb", "丁市", "sp"),
]


@pytest.fixture(scope="module")
def directory(engine: Engine) -> Directory:
    found = Directory(engine)
    found.add_units(UNITS)
    found.add_cadres([("sx-1", "王乙", "sXa-env", "局长"), ("sa-1", "王甲", "s_a", "市长")])
    return found


def test_a_subtree_holds_only_its_own_units(directory: Directory) -> None:
    assert [u.unit_id for u in directory.subtree("s_a")] == ["s_a"]
    assert [u.unit_id for u in directory.subtree("s_b")] == ["s_b", "s_b-env"]
    assert {u.unit_id for u in directory.subtree("sp")} == {u for u, _, _ in UNITS}


def test_within_is_by_path_characters_not_patterns(directory: Directory) -> None:
    assert not directory.is_within("sXa", "s_a")
    assert not directory.is_within("sXa-env", "s_a")
    assert not directory.is_within("sYb", "s_b")
    assert directory.is_within("s_b-env", "s_b")
    assert directory.is_within("sXa-env", "sp")


def test_the_searches_keep_to_the_subtree(directory: Directory) -> None:
    assert [u.unit_id for u in directory.find_units("s_a", "", 20)] == ["s_a"]
    assert [m.cadre.cadre_id for m in directory.find_cadres("s_a", "王", None, 20)] == ["sa-1"]


def test_supervising_contacts_are_inherited_from_ancestors_only(
    engine: Engine, directory: Directory
) -> None:
    contacts = UnitContacts(engine)
    contacts.add("s_a", ContactRole.SUPERVISING, Channel.EMAIL, "jia@city.example")
    contacts.add("sp", ContactRole.SUPERVISING, Channel.EMAIL, "sheng@prov.example")
    heard = [c.address for c in contacts.resolve("sXa-env", ContactRole.SUPERVISING)]
    assert heard == ["sheng@prov.example"]  # 甲市's contact is not 乙市's ancestor
