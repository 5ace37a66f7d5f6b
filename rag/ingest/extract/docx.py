"""DOCX text with python-docx: paragraphs and tables in document order (the body only; page
headers and footers are the template's, not the article's). Scored 1.000 against 0.996 for
docx2txt, which keeps the page header (python -m eval.extractors). The ZIP's central directory is
checked before python-docx opens anything. Runs inside rag.ingest.extract.worker."""
from __future__ import annotations

import io
import zipfile

from rag.ingest.extract import DOCX_MAX_PARTS, DOCX_PART_LIMIT, DOCX_TOTAL_LIMIT, Refused, Unreadable

# The title python-docx's own template carries: a document made with python-docx says nothing.
_PLACEHOLDER_TITLES = {"word document"}


def _mib(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MiB" if size >= 1 << 20 else f"{size / 1024:,.0f} KiB"


def check_zip(data: bytes) -> None:
    """Refuse a DOCX that is not a ZIP, or whose parts would expand past the limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise Unreadable("not a DOCX (not a ZIP archive)") from None
    parts = archive.infolist()
    if len(parts) > DOCX_MAX_PARTS:
        raise Refused(f"the DOCX holds {len(parts):,} parts (the limit is {DOCX_MAX_PARTS:,})")
    biggest = max(parts, key=lambda p: p.file_size, default=None)
    total = sum(p.file_size for p in parts)
    if biggest is not None and biggest.file_size > DOCX_PART_LIMIT:
        raise Refused(f"zip bomb: {biggest.filename[:80]} expands to {_mib(biggest.file_size)} from "
                      f"{_mib(biggest.compress_size)} (the limit is {_mib(DOCX_PART_LIMIT)} a part)")
    if total > DOCX_TOTAL_LIMIT:
        raise Refused(f"zip bomb: the DOCX expands to {_mib(total)} (the limit is {_mib(DOCX_TOTAL_LIMIT)})")
    if "word/document.xml" not in archive.namelist():
        raise Unreadable("not a DOCX (a ZIP without word/document.xml)")


def _row_text(row) -> str:
    cells = []
    for cell in row.cells:  # a merged cell is returned once per grid column it spans
        if not cells or cell._tc is not cells[-1]._tc:
            cells.append(cell)
    return "\t".join(c.text for c in cells)


def extract(data: bytes) -> tuple[str, dict, str]:
    from importlib.metadata import version

    import docx
    from docx.table import Table

    check_zip(data)
    document = docx.Document(io.BytesIO(data))
    lines = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines += [_row_text(row) for row in block.rows]
        else:
            lines.append(block.text)
    props = document.core_properties
    meta = {"title": props.title or "", "author": props.author or ""}
    if meta["title"].strip().lower() in _PLACEHOLDER_TITLES:
        meta["title"] = ""
    if props.created is not None:
        meta["date"] = props.created.date().isoformat()
    return "\n".join(lines), meta, f"python-docx {version('python-docx')}"
