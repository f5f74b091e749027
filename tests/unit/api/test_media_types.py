"""Evidence kinds are told by content: each accepted kind, its look-alikes, and declared types."""

from __future__ import annotations

import pytest

from application.evidence_kinds import (
    DOC,
    DOCX,
    ET,
    EVIDENCE_KINDS,
    HEIC,
    JPEG,
    OFD,
    PDF,
    PNG,
    TEXT,
    WPS,
    XLS,
    XLSX,
    ZIP,
    declared_matches,
    detect_media_type,
)
from tests.unit.api import evidence_samples as s

LIMIT = 1_000_000


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (s.PDF, PDF),
        (s.PNG, PNG),
        (s.JPEG, JPEG),
        (s.HEIC, HEIC),
        (s.HEIF_BY_COMPATIBLE_BRAND, HEIC),
        (s.DOC, DOC),
        (s.XLS, XLS),
        (s.WPS, WPS),
        (s.ET, ET),
        (s.DOCX, DOCX),
        (s.XLSX, XLSX),
        (s.OFD, OFD),
        (s.ZIP_OF_EVIDENCE, ZIP),
        (s.TEXT, TEXT),
    ],
)
def test_each_accepted_kind_is_recognised_by_its_content(content: bytes, kind: str) -> None:
    assert detect_media_type(content, LIMIT) == kind


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows program
        s.MP4,  # an ftyp box, but a video
        s.MSG,  # an OLE2 file that is neither Word nor Excel
        s.ZIP_WITH_A_PROGRAM,
        s.ZIP_OF_ZIP,
        b"PK\x03\x04 truncated zip",
        b"\xff\xfe\x00bad utf8",
        "含有\x00空字节的文本".encode(),
    ],
)
def test_other_content_is_not_accepted(content: bytes) -> None:
    assert detect_media_type(content, LIMIT) is None


def test_a_zip_that_unpacks_past_the_limit_is_refused_unopened() -> None:
    assert len(s.ZIP_BOMB) < 50_000
    assert detect_media_type(s.ZIP_BOMB, LIMIT) is None
    assert detect_media_type(s.ZIP_BOMB, 4_000_000) == ZIP  # just within: an archive of text


def test_a_declared_type_must_name_the_kind_found_or_none() -> None:
    assert declared_matches("application/octet-stream", PDF)
    assert declared_matches("", HEIC)
    assert declared_matches("image/heif", HEIC)
    assert declared_matches("application/x-zip-compressed", ZIP)
    assert declared_matches(PDF, PDF)
    assert not declared_matches(JPEG, PNG)
    assert not declared_matches(DOCX, ZIP)


def test_every_kind_has_a_chinese_name_and_an_extension() -> None:
    assert len({kind.media_type for kind in EVIDENCE_KINDS}) == len(EVIDENCE_KINDS)
    assert all(kind.name_zh and kind.extensions for kind in EVIDENCE_KINDS)
