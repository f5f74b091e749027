"""The keys that sign and verify seals: one current key, and retired ones.

A seal names the key that signed it by ``key_id`` (a public name, not the key
and not a plain hash of it). Rotating the key means: the new key becomes
current and signs every seal from then on; the old key is kept among the
retired keys, which only ever verify the seals they signed. A seal whose key
is in neither is reported as unverifiable, never silently trusted.

Keys live in settings (``ZHENGGAI_AUDIT_KEY``, ``ZHENGGAI_AUDIT_RETIRED_KEYS``)
and never in the database.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from store.errors import SealError

__all__ = ["MIN_KEY_BYTES", "AuditKeys", "key_id"]

MIN_KEY_BYTES = 16


def key_id(key: bytes) -> str:
    """A short public name of the key (not the key, not a plain hash of it)."""
    return hmac.new(key, b"zhenggai audit key id", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class AuditKeys:
    current: bytes
    retired: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        for key in (self.current, *self.retired):
            if len(key) < MIN_KEY_BYTES:
                raise SealError(f"an audit key must have at least {MIN_KEY_BYTES} bytes", "key")
        if self.current in self.retired:
            raise SealError("the current audit key is also listed as retired", "key")

    @classmethod
    def of(cls, keys: AuditKeys | bytes) -> AuditKeys:
        return keys if isinstance(keys, AuditKeys) else cls(keys)

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def by_id(self, wanted: str) -> bytes | None:
        """The key named ``wanted``, current or retired, if we hold it."""
        for key in (self.current, *self.retired):
            if hmac.compare_digest(key_id(key), wanted):
                return key
        return None
