"""Evidence files of a case: upload (size and type limits from settings), download.

The body is the file itself, its type in Content-Type and its name in ``?name=``;
the answer is the reference (content hash, name, media type, size) that a
progress report or closure request cites.
"""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from api.auth import CurrentActor, require_roles
from api.case_access import visible_case
from api.deps import AppSettings, Store, Units
from api.media_types import (
    EVIDENCE_KINDS,
    UNDECLARED,
    canonical,
    declared_matches,
    detect_media_type,
)
from api.models import ID_PATTERN, EvidenceOut
from api.problems import Problem
from domain.vocabulary import Actor, Role
from store.evidence import EvidenceFiles

__all__ = ["router"]

router = APIRouter(tags=["evidence"])
Uploader = Annotated[Actor, Depends(require_roles(Role.UNIT, Role.SUPERVISOR))]
HASH_PATTERN = r"^[0-9a-f]{64}$"
KIND_TYPES = tuple(kind.media_type for kind in EVIDENCE_KINDS)
# A ZIP of evidence may unpack to at most this many times the upload limit.
UNPACK_FACTOR = 4


def _files(request: Request) -> EvidenceFiles:
    files: EvidenceFiles = request.app.state.evidence
    return files


Files = Annotated[EvidenceFiles, Depends(_files)]


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "file_too_large",
        f"文件超过上限 {limit} 字节",
        f"the file exceeds the limit of {limit} bytes",
    )


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _unsupported(media_type: str, accepted: tuple[str, ...]) -> Problem:
    names = "、".join(k.name_zh for k in EVIDENCE_KINDS if k.media_type in accepted)
    return Problem(
        415,
        "unsupported_media_type",
        f"不接受的文件类型：{media_type or '无法识别'}；可接受：{names}",
        f"file type not accepted: {media_type or 'not recognised'}",
        accepted=list(accepted),
    )


@router.post(
    "/cases/{case_id}/evidence",
    status_code=201,
    response_model=EvidenceOut,
    summary="Upload an evidence file to a case",
    description=(
        "The file is the body. Its kind is read from its content; `Content-Type` may be"
        " `application/octet-stream` or the kind's own type, which must then agree with"
        " the content. Accepted: "
        + ", ".join(f"{k.name_zh} `{k.media_type}`" for k in EVIDENCE_KINDS)
        + ". The size limit is `ZHENGGAI_EVIDENCE_MAX_BYTES` (20 MiB by default)."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                media_type: {"schema": {"type": "string", "format": "binary"}}
                for media_type in ("application/octet-stream", *KIND_TYPES)
            },
        }
    },
    responses={
        403: {"description": "Inspectors and admins upload nothing"},
        404: {"description": "No such case, or not within your scope"},
        413: {"description": "Larger than the configured limit"},
        415: {"description": "A media type not accepted, or content that does not match it"},
    },
)
async def upload_evidence(
    request: Request,
    store: Store,
    directory: Units,
    files: Files,
    settings: AppSettings,
    actor: Uploader,
    name: Annotated[str, Query(min_length=1, max_length=255, description="File name")],
    case_id: str = Path(pattern=ID_PATTERN),
) -> EvidenceOut:
    await visible_case(store, directory, actor, case_id)
    accepted = settings.evidence_media_types or KIND_TYPES
    declared = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if declared not in UNDECLARED and canonical(declared) not in accepted:
        raise _unsupported(declared, accepted)
    content = await _read_limited(request, settings.evidence_max_bytes)
    detected = detect_media_type(content, UNPACK_FACTOR * settings.evidence_max_bytes)
    if declared not in UNDECLARED and (
        detected is None or not declared_matches(declared, detected)
    ):
        raise Problem(
            415,
            "content_type_mismatch",
            f"文件内容与声明的类型 {declared} 不符",
            f"the content does not match the declared type {declared}",
            detected=detected,
        )
    if detected is None or detected not in accepted:
        raise _unsupported(detected or "", accepted)
    media_type = detected
    stored = await asyncio.to_thread(files.put, case_id, name, media_type, content, actor.user_id)
    return EvidenceOut(
        content_hash=stored.content_hash,
        name=stored.name,
        media_type=stored.media_type,
        size=stored.size,
    )


@router.get(
    "/cases/{case_id}/evidence/{content_hash}",
    response_class=Response,
    summary="Download an evidence file of a case",
    responses={
        200: {"content": {"application/octet-stream": {}}},
        404: {"description": "No such file on this case, or the case is not within your scope"},
    },
)
async def download_evidence(
    store: Store,
    directory: Units,
    files: Files,
    actor: CurrentActor,
    case_id: str = Path(pattern=ID_PATTERN),
    content_hash: str = Path(pattern=HASH_PATTERN),
) -> Response:
    await visible_case(store, directory, actor, case_id)
    found = await asyncio.to_thread(files.get, case_id, content_hash)
    if found is None:
        raise Problem(404, "evidence_not_found", "未找到该佐证材料", "no such evidence file")
    return Response(
        found.content,
        media_type=found.meta.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.meta.name)}",
            "X-Content-Type-Options": "nosniff",
            "ETag": f'"{content_hash}"',
        },
    )
