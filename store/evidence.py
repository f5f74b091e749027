"""Evidence files: content-addressed (SHA-256), each stored once, linked per case.

A file is visible through a case only when it was uploaded to that case, so
the right to download follows the right to see the case.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Engine, text

__all__ = ["EvidenceFile", "EvidenceFiles", "StoredEvidence"]


@dataclass(frozen=True, slots=True)
class StoredEvidence:
    content_hash: str
    name: str
    media_type: str
    size: int


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    meta: StoredEvidence
    content: bytes


class EvidenceFiles:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def put(
        self, case_id: str, name: str, media_type: str, content: bytes, uploaded_by: str
    ) -> StoredEvidence:
        digest = hashlib.sha256(content).hexdigest()
        with self._engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO evidence_files (content_hash, media_type, size, content) "
                    "VALUES (:hash, :type, :size, :content) ON CONFLICT DO NOTHING"
                ),
                {"hash": digest, "type": media_type, "size": len(content), "content": content},
            )
            conn.execute(
                text(
                    "INSERT INTO evidence_links (case_id, content_hash, name, uploaded_by) "
                    "VALUES (:case, :hash, :name, :by) ON CONFLICT DO NOTHING"
                ),
                {"case": case_id, "hash": digest, "name": name, "by": uploaded_by},
            )
            name_row = conn.execute(
                text(
                    "SELECT name FROM evidence_links WHERE case_id = :case AND content_hash = :hash"
                ),
                {"case": case_id, "hash": digest},
            ).scalar_one()
        return StoredEvidence(digest, str(name_row), media_type, len(content))

    def get(self, case_id: str, content_hash: str) -> EvidenceFile | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT l.name, f.media_type, f.size, f.content FROM evidence_links l "
                    "JOIN evidence_files f USING (content_hash) "
                    "WHERE l.case_id = :case AND l.content_hash = :hash"
                ),
                {"case": case_id, "hash": content_hash},
            ).first()
        if row is None:
            return None
        meta = StoredEvidence(content_hash, row.name, row.media_type, int(row.size))
        return EvidenceFile(meta, bytes(row.content))

    def list_for(self, case_id: str) -> list[StoredEvidence]:
        """The files uploaded to a case, in upload order (without their content)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT l.content_hash, l.name, f.media_type, f.size FROM evidence_links l "
                    "JOIN evidence_files f USING (content_hash) WHERE l.case_id = :case "
                    "ORDER BY l.uploaded_at, l.name"
                ),
                {"case": case_id},
            )
            return [StoredEvidence(str(h), str(n), str(t), int(s)) for h, n, t, s in rows]
