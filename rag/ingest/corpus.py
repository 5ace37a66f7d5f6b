"""Documents: load corpus/ (.txt, .md, .jsonl) with metadata, report what cannot be read.

A `.txt`/`.md` file is one document whose id is its path below the corpus folder without the
suffix ("000_e05857b49ea00b42"). A sidecar `NAME.meta.json` may set title, source, date, lang
or url (checked by rag.ingest.declared); what it does not set is read from the text
(rag.ingest.metadata). A `.jsonl` file holds one document per line: {"id", "title", "text", ...}.
Text is kept verbatim, because citations quote it character for character. Every file is read
through rag.ingest.untrusted: regular files only, links kept inside the corpus, sizes capped.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from rag.errors import CorpusError
from rag.ingest.declared import declared, visible
from rag.ingest.language import LANGUAGES, detect_language
from rag.ingest.metadata import find_date, find_outlet, guess_title
from rag.terminal import UNSAFE as _UNSAFE, shown
from rag.ingest.untrusted import JSONL_LIMIT, SIDECAR_LIMIT, TEXT_LIMIT, parse_json, read_limited

DOCUMENT_SUFFIXES = (".txt", ".md", ".jsonl")
META_SUFFIX = ".meta.json"
# Files that describe the folder rather than belong to the corpus.
NOT_DOCUMENTS = {"readme.md", "readme.txt"}
# Lone surrogates (a file name that is not UTF-8, a broken "\ud800" JSON escape) cannot be written
# to the index; control and bidirectional-override characters make a name or id print as
# something else ("berita\u202eTXT.txt" shows as "beritaTXT.txt" reversed): `shown` escapes them.
SURROGATES = re.compile("[\ud800-\udfff]")


def name_problem(name: str, what: str) -> str | None:
    """Why `name` cannot be a document id, or None."""
    if SURROGATES.search(name):
        return f"{what} is not valid UTF-8 (rename it)"
    if _UNSAFE.search(name):
        return f"{what} contains control or bidirectional-override characters (rename it)"
    if name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name):
        return f"{what} {name!r} looks like a path outside the corpus"
    return None


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str
    lang: str
    source: str | None = None  # the outlet, when the text or metadata names one
    date: str | None = None  # ISO date the text gives (publication or event)
    url: str | None = None
    origin: str = ""  # file (and line) it came from, for messages

    def __post_init__(self) -> None:
        if not self.doc_id:
            raise ValueError("document id is empty")
        if not self.text.strip():
            raise ValueError(f"document {self.doc_id!r} has no text")
        if self.lang not in LANGUAGES:
            raise ValueError(f"document {self.doc_id!r}: lang {self.lang!r} is not one of {LANGUAGES}")

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def metadata(self) -> dict:
        return {"doc_id": self.doc_id, "title": self.title, "source": self.source,
                "date": self.date, "lang": self.lang, "url": self.url}


@dataclass(frozen=True)
class Problem:
    """Something in the corpus that was skipped, and why."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


@dataclass
class Corpus:
    documents: list[Document]
    problems: list[Problem]

    def by_id(self) -> dict[str, Document]:
        return {d.doc_id: d for d in self.documents}


def make_document(doc_id: str, text: str, origin: str, meta: dict, markdown: bool = False) -> Document:
    """A Document with metadata from `meta` where given, else read from the text."""
    lang = meta.get("lang") or detect_language(text)
    return Document(
        doc_id=doc_id,
        title=meta.get("title") or visible(guess_title(text, markdown=markdown)),
        text=text,
        lang=lang,
        source=meta.get("source") or find_outlet(text),
        date=meta.get("date") or find_date(text),
        url=meta.get("url"),
        origin=origin,
    )


def _read_text(path: Path, limit: int, root: Path) -> str:
    """The UTF-8 text of a corpus file, or ValueError naming what is wrong with it."""
    data = read_limited(path, limit, inside=root)
    if b"\x00" in data:
        raise ValueError("binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})") from None
    if not text.strip():
        raise ValueError("empty file")
    return text


def _read_sidecar(path: Path, problems: list[Problem], label: str, root: Path) -> dict:
    sidecar = path.with_name(path.name[: -len(path.suffix)] + META_SUFFIX)
    if not os.path.lexists(sidecar):  # a broken link is reported, not taken for no sidecar
        return {}
    sidecar_label = Path(label).with_name(sidecar.name).as_posix()
    try:
        meta = parse_json(_read_text(sidecar, SIDECAR_LIMIT, root))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
        if any(isinstance(v, str) and SURROGATES.search(v) for v in meta.values()):
            raise ValueError("a value holds a broken \\u escape (lone surrogate)")
    except ValueError as e:
        problems.append(Problem(sidecar_label, f"metadata ignored: {e}"))
        return {}
    meta, notes = declared(meta)
    problems += [Problem(sidecar_label, note) for note in notes]
    return meta


def _load_jsonl(path: Path, label: str, problems: list[Problem], root: Path) -> list[Document]:
    try:
        text = _read_text(path, JSONL_LIMIT, root)
    except ValueError as e:
        problems.append(Problem(label, str(e)))
        return []
    documents = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = parse_json(line)
        except ValueError as e:
            problems.append(Problem(label, str(e), number))
            continue
        if not isinstance(record, dict):
            problems.append(Problem(label, "line is not a JSON object", number))
            continue
        doc_id, body = record.get("id"), record.get("text")
        if not isinstance(doc_id, (str, int)) or str(doc_id).strip() == "":
            problems.append(Problem(label, 'missing field "id"', number))
            continue
        why = name_problem(str(doc_id).strip(), "document id")
        if why:
            problems.append(Problem(label, shown(why), number))
            continue
        if any(isinstance(v, str) and SURROGATES.search(v) for v in record.values()):
            problems.append(Problem(label, "a field holds a broken \\u escape (lone surrogate)", number))
            continue
        if not isinstance(body, str) or not body.strip():
            problems.append(Problem(label, 'missing or empty field "text"', number))
            continue
        meta, notes = declared(record)
        if meta.get("lang") not in (None, *LANGUAGES):
            problems.append(Problem(label, f'field "lang" is {meta["lang"]!r}, not one of {LANGUAGES}', number))
            continue
        problems += [Problem(label, note, number) for note in notes]
        documents.append(make_document(str(doc_id).strip(), body, f"{label}:{number}", meta))
    return documents


def _load_text_file(path: Path, label: str, doc_id: str, problems: list[Problem], root: Path) -> list[Document]:
    try:
        text = _read_text(path, TEXT_LIMIT, root)
    except ValueError as e:
        problems.append(Problem(label, str(e)))
        return []
    meta = _read_sidecar(path, problems, label, root)
    if meta.get("lang") not in (None, *LANGUAGES):
        problems.append(Problem(label, f'metadata "lang" is {meta["lang"]!r}, not one of {LANGUAGES}'))
        return []
    return [make_document(doc_id, text, label, meta, markdown=path.suffix == ".md")]


def corpus_files(root: Path) -> list[Path]:
    """Document files below `root`, sorted; hidden files, sidecars, READMEs and folders left out.

    A FIFO, device, socket or link with a document's name is kept, so that it is reported.
    """
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or (path.is_dir() and not path.is_symlink()):
            continue
        if path.name.lower() in NOT_DOCUMENTS or path.name.endswith(META_SUFFIX):
            continue
        if path.suffix.lower() in DOCUMENT_SUFFIXES:
            found.append(path)
    return found


def load_corpus(location: Path | str) -> Corpus:
    """Every readable document of a corpus folder or a single .jsonl file.

    Unreadable files and lines are skipped and listed in `Corpus.problems`; a duplicate doc id
    keeps the first document. Raises CorpusError only when the location itself is unusable.
    """
    location = Path(location)
    problems: list[Problem] = []
    if location.is_file():
        if location.suffix.lower() != ".jsonl":
            raise CorpusError(f"{location}: a corpus file must be .jsonl; give a folder for .txt/.md files")
        root, files = location.parent, [location]
    elif location.is_dir():
        root, files = location, corpus_files(location)
    elif location.exists():
        raise CorpusError(f"corpus {location} is neither a folder nor a regular .jsonl file")
    else:
        raise CorpusError(f"corpus {location} does not exist")

    documents: list[Document] = []
    seen: dict[str, str] = {}
    for path in files:
        label = path.relative_to(root).as_posix()
        why = name_problem(label, "file name")
        if why:
            problems.append(Problem(shown(label), shown(why)))
            continue
        if path.suffix.lower() == ".jsonl":
            loaded = _load_jsonl(path, label, problems, root)
        else:
            loaded = _load_text_file(path, label, label[: -len(path.suffix)], problems, root)
        for doc in loaded:
            if doc.doc_id in seen:
                problems.append(Problem(doc.origin, f"duplicate document id {doc.doc_id!r} (first in {seen[doc.doc_id]})"))
                continue
            seen[doc.doc_id] = doc.origin
            documents.append(doc)
    return Corpus(documents, problems)
