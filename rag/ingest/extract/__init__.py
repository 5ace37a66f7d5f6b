"""Text and metadata out of the files `python -m rag add` and the page's upload panel take.

.txt, .md and .jsonl are corpus formats already (rag.ingest.adding copies them after checking);
.pdf, .html/.htm and .docx are extracted here, each by the library that scored best on realistic
samples (python -m eval.extractors; README, "Adding documents"): pypdfium2, trafilatura and
python-docx. Parsers of untrusted files are where bombs go off (a DOCX whose XML expands to
gigabytes, a PDF of 10,000 pages, a parser that never returns), so every extraction runs in a
child process (rag.ingest.extract.worker) with a memory limit and a time budget, and is killed
when it overruns; the server or CLI that asked only sees a one-line reason.

Every refusal is an Unreadable (the file is not what its name says, or is damaged: "could not
read"), a Refused (over a limit: a bomb) or a Failed (the parser ran out of time or memory or
crashed: "extraction failed"), each a ValueError whose message is one line.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Formats extracted in the worker, by suffix.
EXTRACTED = {".pdf": "pdf", ".html": "html", ".htm": "html", ".docx": "docx"}
CORPUS_FORMATS = (".txt", ".md", ".jsonl")
SUFFIXES = CORPUS_FORMATS + tuple(EXTRACTED)
MIB = 1 << 20
# The largest file of each kind read at all. A news page is 0.1-2 MiB with its scripts; a
# PDF with images tens of MiB; a DOCX a few MiB (images aside). Beyond these it is not an article.
FILE_LIMITS = {".pdf": 50 * MIB, ".html": 8 * MIB, ".htm": 8 * MIB, ".docx": 20 * MIB}
MAX_PDF_PAGES = 2000  # a long report is a few hundred pages; 10,000 empty pages is a bomb
# A DOCX is a ZIP: its central directory says how large each part becomes, and Python's zipfile
# never inflates a part past that size (it stops there and fails the CRC), so checking the
# directory before parsing bounds what the parser sees. A 1,000-page document's XML is ~20 MiB.
DOCX_PART_LIMIT = 32 * MIB
DOCX_TOTAL_LIMIT = 128 * MIB
DOCX_MAX_PARTS = 2000
TIME_BUDGET_S = 60.0  # per file, wall clock: 2,000 pages of text take pypdfium2 a few seconds
MEMORY_LIMIT = 1536 * MIB  # the worker's address space; it needs ~100 MiB for a normal file
TEXT_LIMIT = 20 * MIB  # the extracted text, as the corpus reader's limit for one article


class Unreadable(ValueError):
    """Not a file of its kind, or damaged."""


class Refused(ValueError):
    """Over a limit: too many pages, XML that expands too far."""


class Failed(ValueError):
    """The parser ran out of time or memory, or crashed."""


ERRORS = {"unreadable": Unreadable, "refused": Refused, "failed": Failed}


@dataclass
class Extracted:
    text: str
    # title, source, date, url as the file states them (checked by rag.ingest.declared later),
    # and "author" where the format has one (kept in the sidecar, not indexed).
    meta: dict = field(default_factory=dict)
    extractor: str = ""


def clean_text(text: str) -> str:
    """The extracted text as stored: Unix line ends, a page break (form feed) as a blank line, no
    NUL or other control character but tab and newline (the corpus reader refuses NUL, and a
    control character could reach a terminal). Nothing else changes: citations quote it."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    return "".join(c for c in text if c in "\t\n" or not (c < " " or "\x7f" <= c <= "\x9f")).strip("\n")


def extract(data: bytes, suffix: str, budget_s: float = TIME_BUDGET_S, memory: int = MEMORY_LIMIT) -> Extracted:
    """The text and metadata of a .pdf, .html/.htm or .docx file's bytes, extracted in a child
    process that is killed after `budget_s` seconds and cannot use more than `memory` bytes."""
    kind = EXTRACTED[suffix.lower()]
    package_parent = str(Path(__file__).resolve().parents[3])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run([sys.executable, "-m", "rag.ingest.extract.worker", kind, str(memory), str(budget_s)],
                              input=data, capture_output=True, timeout=budget_s, env=env)
    except subprocess.TimeoutExpired:
        raise Failed(f"extraction took longer than {budget_s:g} s") from None
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = None
    if not isinstance(result, dict):
        if done.returncode < 0:
            raise Failed(f"the {kind.upper()} parser crashed (signal {-done.returncode})")
        last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1]
        raise Failed(f"the {kind.upper()} parser stopped: {last[:200]}")
    if "error" in result:
        raise ERRORS.get(result["error"], Failed)(result["message"])
    return Extracted(result["text"], result["meta"], result["extractor"])
