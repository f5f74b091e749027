"""Small files of each evidence kind, made here the way their formats lay them out."""

from __future__ import annotations

import io
import zipfile

PDF = b"%PDF-1.7\n" + "整改报告".encode() * 40 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
# An iPhone photo starts with an ftyp box: size, "ftyp", major brand, version, brands.
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 40
HEIF_BY_COMPATIBLE_BRAND = b"\x00\x00\x00\x18ftypmsf1\x00\x00\x00\x00msf1hevc" + b"\x00" * 8
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 40
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def _ole(*streams: str) -> bytes:
    # Directory entries hold their names in UTF-16LE; the rest does not matter here.
    return OLE2 + b"".join(name.encode("utf-16-le") + b"\x00" * 64 for name in streams)


DOC = _ole("Root Entry", "WordDocument", "1Table", "\x05SummaryInformation")
XLS = _ole("Root Entry", "Workbook", "\x05SummaryInformation")
WPS = _ole("Root Entry", "WordDocument", "\x05DocumentSummaryInformation", "KSOProductBuildVer")
ET = _ole("Root Entry", "Workbook", "KSOProductBuildVer")
MSG = _ole("Root Entry", "__substg1.0_0037001F")  # an Outlook message: not accepted
TEXT = "整改情况说明：已完成。".encode()


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX = zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
OFD = zipped({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<ofd:Document/>"})
ZIP_OF_EVIDENCE = zipped({"照片/现场.jpg": JPEG, "报告.pdf": PDF, "方案.docx": DOCX})
ZIP_WITH_A_PROGRAM = zipped({"报告.pdf": PDF, "setup.exe": b"MZ\x90\x00\x03"})
ZIP_OF_ZIP = zipped({"inner.zip": ZIP_OF_EVIDENCE})
# Compresses 4 MB of zeros into a few KB: refused without being unpacked.
ZIP_BOMB = zipped({"a.txt": b"0" * 4_000_000})
