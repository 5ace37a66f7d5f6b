"""PDF text with pypdfium2 (PDFium, the PDF engine of Chromium): as accurate as pypdf on our
samples (F1 0.989) and about 9x faster; pdfminer.six mixed the columns of two-column pages (0.754)
(python -m eval.extractors). Runs inside rag.ingest.extract.worker."""
from __future__ import annotations

import re

from rag.ingest.extract import MAX_PDF_PAGES, TEXT_LIMIT, Refused, Unreadable

_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})(\d{2})")


def extract(data: bytes) -> tuple[str, dict, str]:
    import pypdfium2

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise Unreadable("not a PDF (it does not start with %PDF)")
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as e:
        raise Unreadable(f"damaged or encrypted PDF ({e})") from None
    pages = len(pdf)  # from the page tree, before any page is parsed
    if pages > MAX_PDF_PAGES:
        raise Refused(f"{pages:,} pages (the limit is {MAX_PDF_PAGES:,})")
    texts, size = [], 0
    for number in range(pages):
        page = pdf[number]
        textpage = page.get_textpage()
        text = textpage.get_text_bounded()  # full Unicode (get_text_range is UCS-2 only)
        textpage.close()
        page.close()
        size += len(text)
        if size > TEXT_LIMIT:
            raise Refused(f"the text is too large (over {TEXT_LIMIT:,} characters by page {number + 1})")
        texts.append(text.strip())
    info = pdf.get_metadata_dict(skip_empty=True)
    meta = {"title": info.get("Title", ""), "author": info.get("Author", "")}
    if m := _PDF_DATE.match(info.get("CreationDate", "")):
        meta["date"] = f"{m[1]}-{m[2]}-{m[3]}"
    pdf.close()
    return "\n\n".join(t for t in texts if t), meta, f"pypdfium2 {pypdfium2.PYPDFIUM_INFO.version}"
