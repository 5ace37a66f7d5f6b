"""python -m eval.extractors: which library extracts a news document's text best, measured on
realistic samples of the seed articles (eval.documents): each HTML page in three site layouts,
each PDF in one and two columns, each DOCX with a fact-box table. Every candidate's text is
compared with the article as a reader sees it (headline and text) at the character level, with
whitespace runs made one space: recall (share of the article's characters found, in order),
precision (share of the output that is article) and their harmonic mean, as difflib matches them.
Warta's own extractors (rag/ingest/extract/) are the rows marked "(Warta)"."""
from __future__ import annotations

import difflib
import statistics
import sys
import tempfile
import time
from pathlib import Path

from eval.documents import HTML_LAYOUTS, news_docx, news_html, news_pdf, printable, seed_articles
from eval.report import table

FACT_BOX = {"Perusahaan": "PT Contoh Farma", "Nilai investasi": "Rp 1,2 triliun"}


def score(expected: str, got: str) -> tuple[float, float, float]:
    a, b = " ".join(expected.split()), " ".join(got.split())
    matched = sum(block.size for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    recall, precision = matched / max(len(a), 1), matched / max(len(b), 1)
    return recall, precision, 2 * matched / max(len(a) + len(b), 1)


# --- candidates: each takes the file's bytes and returns its text -----------------------------
def _warta(module: str):
    def run(data: bytes) -> str:
        from importlib import import_module

        from rag.ingest.extract import clean_text

        return clean_text(import_module(f"rag.ingest.extract.{module}").extract(data)[0])
    return run


def _trafilatura_precision(data: bytes) -> str:
    import trafilatura

    return trafilatura.extract(data, include_comments=False, favor_precision=True) or ""


def _readability(data: bytes) -> str:
    from bs4 import BeautifulSoup
    from readability import Document

    return BeautifulSoup(Document(data.decode("utf-8")).summary(), "lxml").get_text("\n")


def _soup_page(data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "lxml")
    for tag in soup(["script", "style"]):
        tag.decompose()
    return soup.get_text("\n")


def _soup_paragraphs(data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "lxml")
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "form"]):
        tag.decompose()
    return "\n".join(p.get_text(" ") for p in soup.find_all("p"))


def _pypdf(data: bytes) -> str:
    import io

    import pypdf

    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def _pdfminer(data: bytes) -> str:
    import io

    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(data))


def _docx_paragraphs(data: bytes) -> str:
    import io

    import docx

    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


def _docx2txt(data: bytes) -> str:
    import io

    import docx2txt

    return docx2txt.process(io.BytesIO(data))


CANDIDATES = {
    "html": {"trafilatura 2.3.1 (Warta)": _warta("html"), "trafilatura, favor_precision": _trafilatura_precision,
             "readability-lxml 0.9 + BeautifulSoup text": _readability, "BeautifulSoup 4.15: page text": _soup_page,
             "BeautifulSoup 4.15: <p> outside nav/header/footer/aside": _soup_paragraphs},
    "pdf": {"pypdfium2 5.15.2 (Warta)": _warta("pdf"), "pypdf 7.1.0": _pypdf, "pdfminer.six 20260107": _pdfminer},
    "docx": {"python-docx 1.2.0, paragraphs and tables (Warta)": _warta("docx"),
             "python-docx 1.2.0, paragraphs only": _docx_paragraphs, "docx2txt 0.9": _docx2txt},
}


def samples(folder: Path):
    """(format, layout, file bytes, expected text) for every sample."""
    for number, article in enumerate(seed_articles()):
        for layout in HTML_LAYOUTS:
            yield "html", layout, news_html(article, layout).encode("utf-8"), f"{article.title}\n{article.body}"
        shown = printable(article)  # the PDF font has no emoji
        for columns in (1, 2):
            path = news_pdf(shown, folder / f"{number}-{columns}.pdf", columns=columns)
            yield "pdf", f"{columns} column{'s' if columns > 1 else ''}", path.read_bytes(), f"{shown.title}\n{shown.body}"
        paragraphs = list(article.paragraphs)
        paragraphs[2:2] = [f"{key} {value}" for key, value in FACT_BOX.items()]
        path = news_docx(article, folder / f"{number}.docx", fact_box=FACT_BOX)
        yield "docx", "fact box", path.read_bytes(), "\n".join([article.title, *paragraphs])


def main() -> int:
    results: dict[tuple[str, str, str], list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, layout, data, expected in samples(Path(tmp)):
            for name, extract in CANDIDATES[kind].items():
                started = time.perf_counter()
                text = extract(data)
                seconds = time.perf_counter() - started
                results.setdefault((kind, layout, name), []).append((*score(expected, text), seconds))
    def row(label, name, runs):
        return [label, name, len(runs), *(f"{statistics.mean(r[i] for r in runs):.3f}" for i in range(3)),
                f"{min(r[2] for r in runs):.3f}", f"{statistics.mean(r[3] for r in runs) * 1000:.0f}"]

    header = ["format", "extractor", "samples", "recall", "precision", "F1", "worst F1", "ms"]
    overall: dict[tuple[str, str], list] = {}
    for (kind, _, name), runs in results.items():
        overall.setdefault((kind, name), []).extend(runs)
    print("\n".join(table(header, [row(kind.upper(), name, runs) for (kind, name), runs in overall.items()])))
    print("\nBy layout:")
    print("\n".join(table(header, [row(f"{kind.upper()} {layout}", name, runs)
                                  for (kind, layout, name), runs in results.items()])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
