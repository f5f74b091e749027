"""Evidence files of a case: upload, download (application.evidence).

The body is the file itself, its type in Content-Type and its name in ``?name=``;
the answer is the reference (content hash, name, media type, size) that a
progress report or closure request cites. The body is read here with the limit
(a declared Content-Length over it is refused before reading, a streamed body as
soon as it passes it); what the file may be is the use case's.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from api.deps import AppServices, CurrentCaller, caller_with
from application.caller import Caller
from application.evidence import (
    KIND_TYPES,
    check_declared_type,
    download_evidence,
    too_large,
    upload_evidence,
)
from application.evidence_kinds import EVIDENCE_KINDS
from application.models import ID_PATTERN, EvidenceOut
from domain.vocabulary import Role

__all__ = ["router"]

router = APIRouter(tags=["evidence"])
Uploader = Annotated[Caller, Depends(caller_with(Role.UNIT, Role.SUPERVISOR))]
HASH_PATTERN = r"^[0-9a-f]{64}$"


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/cases/{case_id}/evidence",
    status_code=201,
    response_model=EvidenceOut,
    summary="Upload an evidence file to a case",
    name="upload_evidence",
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
async def post_evidence(
    request: Request,
    services: AppServices,
    caller: Uploader,
    name: Annotated[str, Query(min_length=1, max_length=255, description="File name")],
    case_id: str = Path(pattern=ID_PATTERN),
) -> EvidenceOut:
    declared = request.headers.get("content-type", "").split(";")[0].strip().lower()
    await check_declared_type(services, caller, case_id, declared)
    content = await _read_limited(request, services.settings.evidence_max_bytes)
    return await upload_evidence(services, caller, case_id, name, declared, content)


@router.get(
    "/cases/{case_id}/evidence/{content_hash}",
    response_class=Response,
    summary="Download an evidence file of a case",
    name="download_evidence",
    responses={
        200: {"content": {"application/octet-stream": {}}},
        404: {"description": "No such file on this case, or the case is not within your scope"},
    },
)
async def get_evidence(
    services: AppServices,
    caller: CurrentCaller,
    case_id: str = Path(pattern=ID_PATTERN),
    content_hash: str = Path(pattern=HASH_PATTERN),
) -> Response:
    found = await download_evidence(services, caller, case_id, content_hash)
    return Response(
        found.content,
        media_type=found.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.name)}",
            "X-Content-Type-Options": "nosniff",
            "ETag": f'"{content_hash}"',
        },
    )
