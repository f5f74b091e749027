"""Evidence files (佐证材料) of a case: upload within the size and kind limits, download.

The kind is read from the content (``application.evidence_kinds``); the declared
type may be ``application/octet-stream`` or must name that kind. The stored
type is the kind found. Files are kept by content hash, once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from application.access import ensure_role, visible_case
from application.caller import Caller
from application.errors import Refusal
from application.evidence_kinds import (
    EVIDENCE_KINDS,
    UNDECLARED,
    canonical,
    declared_matches,
    detect_media_type,
)
from application.models import EvidenceOut
from application.services import Services
from domain.vocabulary import Role

__all__ = [
    "KIND_TYPES",
    "EvidenceFile",
    "accepted_types",
    "check_declared_type",
    "download_evidence",
    "too_large",
    "upload_evidence",
]

KIND_TYPES = tuple(kind.media_type for kind in EVIDENCE_KINDS)
# A ZIP of evidence may unpack to at most this many times the upload limit.
UNPACK_FACTOR = 4


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    content: bytes
    name: str
    media_type: str


def accepted_types(services: Services) -> tuple[str, ...]:
    return services.settings.evidence_media_types or KIND_TYPES


def too_large(limit: int) -> Refusal:
    return Refusal(
        413,
        "file_too_large",
        f"文件超过上限 {limit} 字节",
        f"the file exceeds the limit of {limit} bytes",
    )


def _unsupported(media_type: str, accepted: tuple[str, ...]) -> Refusal:
    names = "、".join(k.name_zh for k in EVIDENCE_KINDS if k.media_type in accepted)
    return Refusal(
        415,
        "unsupported_media_type",
        f"不接受的文件类型：{media_type or '无法识别'}；可接受：{names}",
        f"file type not accepted: {media_type or 'not recognised'}",
        accepted=list(accepted),
    )


async def check_declared_type(
    services: Services, caller: Caller, case_id: str, declared: str
) -> None:
    """Before the body is read: who may upload to this case, and a declared type refused."""
    ensure_role(caller.actor, Role.UNIT, Role.SUPERVISOR)
    await visible_case(services.store, services.directory, caller.actor, case_id)
    accepted = accepted_types(services)
    if declared not in UNDECLARED and canonical(declared) not in accepted:
        raise _unsupported(declared, accepted)


async def upload_evidence(
    services: Services, caller: Caller, case_id: str, name: str, declared: str, content: bytes
) -> EvidenceOut:
    """``content`` already within ``evidence_max_bytes`` (the door reads it with the limit)."""
    await check_declared_type(services, caller, case_id, declared)
    limit = services.settings.evidence_max_bytes
    if len(content) > limit:
        raise too_large(limit)
    accepted = accepted_types(services)
    detected = detect_media_type(content, UNPACK_FACTOR * limit)
    agrees = detected is not None and declared_matches(declared, detected)
    if declared not in UNDECLARED and not agrees:
        raise Refusal(
            415,
            "content_type_mismatch",
            f"文件内容与声明的类型 {declared} 不符",
            f"the content does not match the declared type {declared}",
            detected=detected,
        )
    if detected is None or detected not in accepted:
        raise _unsupported(detected or "", accepted)
    stored = await asyncio.to_thread(
        services.evidence.put, case_id, name, detected, content, caller.actor.user_id
    )
    return EvidenceOut(
        content_hash=stored.content_hash,
        name=stored.name,
        media_type=stored.media_type,
        size=stored.size,
    )


async def download_evidence(
    services: Services, caller: Caller, case_id: str, content_hash: str
) -> EvidenceFile:
    await visible_case(services.store, services.directory, caller.actor, case_id)
    found = await asyncio.to_thread(services.evidence.get, case_id, content_hash)
    if found is None:
        raise Refusal(404, "evidence_not_found", "未找到该佐证材料", "no such evidence file")
    return EvidenceFile(found.content, found.meta.name, found.meta.media_type)
