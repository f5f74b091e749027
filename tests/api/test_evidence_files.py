"""Evidence files: stored by content hash, within size and type limits, visible with the case."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import text

from tests.api.conftest import Stack
from tests.unit.api import evidence_samples as samples

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.7\n" + "整改报告".encode() * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _case(stack: Stack) -> str:
    body = {
        "title": "农村饮水安全隐患",
        "source": "petition",
        "unit_id": "county-env",
        "cadre_id": "cadre-42",
        "deadline": (date.today() + timedelta(days=30)).isoformat(),
    }
    response = await stack.client.post(
        "/api/v1/findings", json=body, headers=stack.auth("supervisor")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["case_id"])


async def _upload(
    stack: Stack, case_id: str, content: bytes, media_type: str, who: str = "unit"
) -> httpx.Response:
    return await stack.client.post(
        f"/api/v1/cases/{case_id}/evidence",
        params={"name": "整改报告.pdf"},
        content=content,
        headers={**stack.auth(who), "Content-Type": media_type},
    )


def _stored_files(stack: Stack) -> int:
    with stack.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM evidence_files")).scalar_one())


async def test_an_upload_is_stored_by_content_hash_and_downloads_byte_for_byte(
    stack: Stack,
) -> None:
    case_id = await _case(stack)
    response = await _upload(stack, case_id, PDF, "application/pdf")
    assert response.status_code == 201, response.text
    ref = response.json()
    assert ref == {
        "content_hash": hashlib.sha256(PDF).hexdigest(),
        "name": "整改报告.pdf",
        "media_type": "application/pdf",
        "size": len(PDF),
    }
    for who in ("unit", "supervisor", "inspector"):
        got = await stack.client.get(
            f"/api/v1/cases/{case_id}/evidence/{ref['content_hash']}", headers=stack.auth(who)
        )
        assert got.status_code == 200
        assert got.content == PDF
        assert got.headers["content-type"] == "application/pdf"
        assert "filename*=UTF-8''" in got.headers["content-disposition"]


async def test_the_same_file_twice_is_stored_once(stack: Stack) -> None:
    first, second = await _case(stack), await _case(stack)
    content = PDF + b"unique-1"
    before = _stored_files(stack)
    assert (await _upload(stack, first, content, "application/pdf")).status_code == 201
    assert (await _upload(stack, second, content, "application/pdf")).status_code == 201
    assert _stored_files(stack) == before + 1


async def test_outside_the_case_scope_a_file_is_not_found(stack: Stack) -> None:
    case_id = await _case(stack)
    ref = (await _upload(stack, case_id, PDF + b"2", "application/pdf")).json()
    url = f"/api/v1/cases/{case_id}/evidence/{ref['content_hash']}"
    for who in ("other_unit", "other_supervisor", "other_inspector", "admin"):
        assert (await stack.client.get(url, headers=stack.auth(who))).status_code == 404
    # A file uploaded to one case is not reachable through another.
    other_case = await _case(stack)
    wrong = f"/api/v1/cases/{other_case}/evidence/{ref['content_hash']}"
    assert (await stack.client.get(wrong, headers=stack.auth("unit"))).status_code == 404


@pytest.mark.parametrize(
    ("content", "media_type", "status", "code"),
    [
        (b"MZ\x90\x00", "application/x-msdownload", 415, "unsupported_media_type"),
        (b"", "", 415, "unsupported_media_type"),
        (b"not a pdf at all", "application/pdf", 415, "content_type_mismatch"),
        (PNG, "image/jpeg", 415, "content_type_mismatch"),
        (b"\xff\xfe\x00bad utf8", "text/plain", 415, "content_type_mismatch"),
        (b"MZ\x90\x00", "application/octet-stream", 415, "unsupported_media_type"),
        (samples.ZIP_WITH_A_PROGRAM, "application/zip", 415, "content_type_mismatch"),
        (samples.ZIP_WITH_A_PROGRAM, "application/octet-stream", 415, "unsupported_media_type"),
        (samples.DOCX, "application/pdf", 415, "content_type_mismatch"),
        (b"%PDF-" + b"x" * (2 * 1024 * 1024), "application/pdf", 413, "file_too_large"),
    ],
)
async def test_bad_files_are_refused_and_nothing_is_stored(
    stack: Stack, content: bytes, media_type: str, status: int, code: str
) -> None:
    stack.app.state.settings.evidence_max_bytes = 1024 * 1024
    case_id = await _case(stack)
    before = _stored_files(stack)
    response = await _upload(stack, case_id, content, media_type)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert _stored_files(stack) == before


@pytest.mark.parametrize(
    ("who", "status"), [("inspector", 403), ("admin", 403), ("other_unit", 404)]
)
async def test_inspectors_admins_and_strangers_cannot_upload(
    stack: Stack, who: str, status: int
) -> None:
    case_id = await _case(stack)
    response = await _upload(stack, case_id, PDF, "application/pdf", who=who)
    assert response.status_code == status


async def test_every_type_the_openapi_declares_uploads(stack: Stack) -> None:
    """A client built from the OpenAPI document (or /docs' "Try it out") can upload."""
    spec = (await stack.client.get("/openapi.json")).json()
    declared = spec["paths"]["/api/v1/cases/{case_id}/evidence"]["post"]["requestBody"]["content"]
    assert "application/octet-stream" in declared
    by_type = {
        "application/octet-stream": (samples.HEIC, "image/heic"),
        "application/pdf": (samples.PDF, "application/pdf"),
        "application/ofd": (samples.OFD, "application/ofd"),
        "image/jpeg": (samples.JPEG, "image/jpeg"),
        "image/png": (samples.PNG, "image/png"),
        "image/heic": (samples.HEIC, "image/heic"),
        "application/msword": (samples.DOC, "application/msword"),
        "application/vnd.ms-excel": (samples.XLS, "application/vnd.ms-excel"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
            samples.DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (
            samples.XLSX,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        "application/vnd.wps-office.wps": (samples.WPS, "application/vnd.wps-office.wps"),
        "application/vnd.wps-office.et": (samples.ET, "application/vnd.wps-office.et"),
        "application/zip": (samples.ZIP_OF_EVIDENCE, "application/zip"),
        "text/plain": (samples.TEXT, "text/plain"),
    }
    assert set(declared) == set(by_type)
    case_id = await _case(stack)
    for media_type, (content, stored_as) in by_type.items():
        response = await _upload(stack, case_id, content, media_type)
        assert response.status_code == 201, (media_type, response.text)
        assert response.json()["media_type"] == stored_as


async def test_a_phone_photo_sent_as_octet_stream_is_stored_as_heic(stack: Stack) -> None:
    case_id = await _case(stack)
    response = await _upload(stack, case_id, samples.HEIC + b"x", "application/octet-stream")
    assert response.status_code == 201, response.text
    got = await stack.client.get(
        f"/api/v1/cases/{case_id}/evidence/{response.json()['content_hash']}",
        headers=stack.auth("unit"),
    )
    assert got.headers["content-type"] == "image/heic"
