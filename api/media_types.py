"""Does a file's content look like the media type it claims? (first bytes only)

Office files are ZIP containers; text must decode as UTF-8. A type without a
known signature is accepted on its declaration.
"""

from __future__ import annotations

__all__ = ["content_matches"]

_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
}


def content_matches(media_type: str, content: bytes) -> bool:
    if media_type == "text/plain":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    signatures = _SIGNATURES.get(media_type)
    return signatures is None or content.startswith(signatures)
