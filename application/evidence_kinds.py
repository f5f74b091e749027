"""What kind of file an evidence upload is, from its bytes (never from its name).

Offices send evidence as PDF and OFD (GB/T 33190, the national format of
electronic government documents), phone photos (JPEG, PNG, HEIC), Word and Excel
files old and new, WPS Office files, plain text, and ZIP archives of those.

- PDF, PNG, JPEG: their magic bytes. HEIC/HEIF: an ISO-BMFF ``ftyp`` box whose
  brands name HEIF.
- OLE2 compound files (DOC, XLS, and WPS Office's .wps/.et, which use the same
  container): the stream names in the directory, stored as UTF-16LE — a Word
  document has ``WordDocument``, a workbook ``Workbook`` or ``Book``; WPS Office
  writes its ``KSOProductBuildVer`` property beside them.
- ZIP containers: OOXML by their main part (``word/document.xml``,
  ``xl/workbook.xml``), OFD by ``OFD.xml`` at the root; any other ZIP is an
  archive, accepted when every file in it is an accepted kind (one level deep, so
  a crafted nest cannot make the check unbounded).
- Text: UTF-8 without NUL bytes.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

__all__ = ["EVIDENCE_KINDS", "EvidenceKind", "declared_matches", "detect_media_type"]


@dataclass(frozen=True, slots=True)
class EvidenceKind:
    media_type: str
    name_zh: str
    extensions: tuple[str, ...]


PDF = "application/pdf"
OFD = "application/ofd"
JPEG = "image/jpeg"
PNG = "image/png"
HEIC = "image/heic"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WPS = "application/vnd.wps-office.wps"
ET = "application/vnd.wps-office.et"
ZIP = "application/zip"
TEXT = "text/plain"

EVIDENCE_KINDS: tuple[EvidenceKind, ...] = (
    EvidenceKind(PDF, "PDF 文档", (".pdf",)),
    EvidenceKind(OFD, "OFD 版式文档", (".ofd",)),
    EvidenceKind(JPEG, "JPEG 图片", (".jpg", ".jpeg")),
    EvidenceKind(PNG, "PNG 图片", (".png",)),
    EvidenceKind(HEIC, "HEIC 图片（手机照片）", (".heic", ".heif")),
    EvidenceKind(DOC, "Word 97-2003 文档", (".doc",)),
    EvidenceKind(DOCX, "Word 文档", (".docx",)),
    EvidenceKind(XLS, "Excel 97-2003 工作簿", (".xls",)),
    EvidenceKind(XLSX, "Excel 工作簿", (".xlsx",)),
    EvidenceKind(WPS, "WPS 文字文档", (".wps",)),
    EvidenceKind(ET, "WPS 表格", (".et",)),
    EvidenceKind(ZIP, "ZIP 压缩包（内含以上类型）", (".zip",)),
    EvidenceKind(TEXT, "纯文本（UTF-8）", (".txt",)),
)

# Other names clients and browsers give the same kinds.
_ALIASES = {
    "image/heif": HEIC,
    "image/heic-sequence": HEIC,
    "image/heif-sequence": HEIC,
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "application/x-zip-compressed": ZIP,
    "application/x-ofd": OFD,
    "application/vnd.ofd": OFD,
    "application/wps-office.wps": WPS,
    "application/wps-office.et": ET,
    "application/kswps": WPS,
    "application/kset": ET,
}
# "Whatever it is": the type the OpenAPI declares, and what curl and browsers send
# for a file they cannot name.
UNDECLARED = frozenset({"", "application/octet-stream"})

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def _ole2(content: bytes) -> str | None:
    wps = _utf16("KSOProductBuildVer") in content
    if _utf16("WordDocument") in content:
        return WPS if wps else DOC
    if _utf16("Workbook") in content or _utf16("Book\x00") in content:
        return ET if wps else XLS
    return None


def _heif(content: bytes) -> bool:
    if len(content) < 16 or content[4:8] != b"ftyp":
        return False
    box_size = min(int.from_bytes(content[:4], "big"), len(content), 256)
    brands = [content[8:12]] + [content[i : i + 4] for i in range(16, box_size - 3, 4)]
    return any(brand in _HEIF_BRANDS for brand in brands)


def _zip(content: bytes, depth: int) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = set(archive.namelist())
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return DOCX
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return XLSX
        if "OFD.xml" in names:
            return OFD
        if depth > 0:
            return None  # an archive inside an archive: refused
        for info in archive.infolist():
            if info.is_dir():
                continue
            inner = archive.read(info)  # sizes are bounded by the upload's limit below
            if _detect(inner, depth + 1) is None:
                return None
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, ValueError):
        return None
    return ZIP


def _text(content: bytes) -> bool:
    if b"\x00" in content:
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _detect(content: bytes, depth: int) -> str | None:
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if _heif(content):
        return HEIC
    if content.startswith(_OLE2):
        return _ole2(content)
    if content.startswith(b"PK\x03\x04"):
        return _zip(content, depth)
    if content and _text(content):
        return TEXT
    return None


def detect_media_type(content: bytes, max_unpacked: int) -> str | None:
    """The kind of ``content`` (its canonical media type), or None if not accepted.

    A ZIP whose files would unpack to more than ``max_unpacked`` bytes is refused
    without unpacking them (a ZIP bomb costs nothing).
    """
    if content.startswith(b"PK\x03\x04"):
        try:
            infos = zipfile.ZipFile(io.BytesIO(content)).infolist()
        except (zipfile.BadZipFile, ValueError):
            return None
        if sum(info.file_size for info in infos) > max_unpacked:
            return None
    return _detect(content, 0)


def declared_matches(declared: str, detected: str) -> bool:
    """A declared type agrees with the content when it names the same kind, or none."""
    return declared in UNDECLARED or _ALIASES.get(declared, declared) == detected


def canonical(declared: str) -> str:
    return _ALIASES.get(declared, declared)
