"""Every code the console shows has its words in both languages: an event type, a case
status or a similarity band without a label would appear as a bare English code."""

from __future__ import annotations

import pytest

from api.console.i18n.messages import LABELS
from domain.duplicates import Band
from domain.events import EVENT_TYPES
from domain.vocabulary import CaseStatus


@pytest.mark.parametrize(
    ("kind", "codes"),
    [
        ("event", sorted(EVENT_TYPES)),
        ("status", [s.value for s in CaseStatus]),
        ("band", [b.value for b in Band]),
    ],
)
def test_each_code_has_chinese_and_english_words(kind: str, codes: list[str]) -> None:
    missing = [code for code in codes if code not in LABELS[kind]]
    assert missing == []
    for code in codes:
        zh, en = LABELS[kind][code]
        assert zh.strip(), (kind, code)
        assert en.strip(), (kind, code)
        assert zh != en, (kind, code)
