"""Documents added to the corpus folder (python -m rag add, the page's upload panel): each file is
read with its kind's size limit, its text extracted (rag.ingest.extract) and stored as NAME.txt
with a NAME.meta.json sidecar of what the file says about itself (title, outlet, date, address;
author and original name kept for the record), so the corpus reader, its checks and the index
builder do the rest. .txt, .md and .jsonl files are corpus files already and are copied as they are
(a .jsonl without the lines that are unreadable or already in the corpus).

Each file gets one Outcome: added, or skipped and why (unsupported type, too large, could not
read, refused, extraction failed, empty text, duplicate of a document already in the corpus).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import CorpusError
from rag.ingest import extract as extraction
from rag.ingest.corpus import META_SUFFIX, load_corpus, _read_sidecar
from rag.ingest.declared import MAX_TEXT_FIELD, declared, visible
from rag.ingest.placing import free_stem, publish, safe_stem
from rag.ingest.untrusted import JSONL_LIMIT, TEXT_LIMIT, read_limited
from rag.terminal import shown


@dataclass
class Outcome:
    name: str  # the file as the user gave it
    added: bool = False
    reason: str = ""  # why it was skipped, or what was left out of a .jsonl
    doc_ids: list[str] = field(default_factory=list)
    title: str = ""
    stored: list[str] = field(default_factory=list)  # files written, relative to the corpus folder
    notes: list[str] = field(default_factory=list)  # metadata dropped or cleaned

    def line(self) -> str:
        """One line for a terminal or the page (escaped: names and titles come from outside)."""
        if not self.added:
            return shown(f"skipped {self.name}: {self.reason}")
        what = f'"{self.title}"' if self.title else f"{len(self.doc_ids)} documents"
        extra = "".join(f"; {n}" for n in [self.reason, *self.notes] if n)
        return shown(f"added {self.name} as {', '.join(self.stored)}: {what}{extra}")

    def to_json(self) -> dict:
        return {"name": self.name, "added": self.added, "reason": self.reason or None, "doc_ids": self.doc_ids,
                "title": self.title or None, "stored": self.stored, "notes": self.notes}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Adder:
    """Adds files to one corpus folder, remembering what it holds so duplicates are caught, also
    among the files of one run."""

    def __init__(self, corpus_dir: Path, budget_s: float = extraction.TIME_BUDGET_S) -> None:
        self.folder = Path(corpus_dir)
        if not self.folder.is_dir():
            raise CorpusError(f"documents can only be added to a corpus folder; {self.folder} is not one")
        corpus = load_corpus(self.folder)
        self.ids = {d.doc_id for d in corpus.documents}
        self.hashes = {d.content_hash: d.doc_id for d in corpus.documents}
        self.budget_s = budget_s

    def add(self, path: Path, name: str | None = None, inside: Path | None = None) -> Outcome:
        """Add the file at `path`, shown as `name` (a browser's file name); `inside`: the folder a
        link must stay in (a folder the user named), None for a file the user named."""
        path = Path(path)
        outcome = Outcome(visible(name or path.name)[:200] or "(no name)")
        suffix = Path(name or path.name).suffix.lower()
        try:
            if suffix not in extraction.SUFFIXES:
                raise _Skip(f"unsupported type {suffix or '(no suffix)'!r}; Warta takes "
                            f"{', '.join(extraction.SUFFIXES)}")
            if inside is not None and path.is_symlink() and not path.resolve().is_relative_to(inside.resolve()):
                raise _Skip(f"a symbolic link out of the folder {visible(str(inside))[:200]}")
            limit = extraction.FILE_LIMITS.get(suffix, JSONL_LIMIT if suffix == ".jsonl" else TEXT_LIMIT)
            try:
                data = read_limited(path, limit, inside=inside)
            except ValueError as e:
                raise _Skip(str(e) if str(e).startswith("too large") else f"could not read: {e}") from None
            stem = safe_stem(name or path.name)
            if suffix == ".jsonl":
                self._add_jsonl(data, stem, outcome)
            elif suffix in (".txt", ".md"):
                self._add_text(path, data, stem, suffix, outcome)
            else:
                self._add_extracted(data, stem, suffix, outcome)
        except _Skip as e:
            outcome.reason = str(e)
        return outcome

    def add_all(self, paths: list[Path]) -> list[Outcome]:
        """Add each named file, and each file below each named folder."""
        return [self.add(path, inside=inside) for path, inside in files_to_add(paths)]

    def _add_extracted(self, data: bytes, stem: str, suffix: str, outcome: Outcome) -> None:
        try:
            found = extraction.extract(data, suffix, self.budget_s)
        except extraction.Unreadable as e:
            raise _Skip(f"could not read: {e}") from None
        except extraction.Refused as e:
            raise _Skip(f"refused: {e}") from None
        except extraction.Failed as e:
            raise _Skip(f"extraction failed: {e}") from None
        meta, outcome.notes = declared(found.meta)
        meta.pop("lang", None)  # detected from the text by the corpus reader
        record = {**meta, "author": visible(found.meta.get("author", ""))[:MAX_TEXT_FIELD] or None,
                  "original_name": outcome.name, "extracted_with": found.extractor}
        sidecar = json.dumps({k: v for k, v in record.items() if v}, ensure_ascii=False, indent=2) + "\n"
        self._store(found.text, stem, ".txt", outcome, sidecar, meta.get("title", ""))

    def _add_text(self, path: Path, data: bytes, stem: str, suffix: str, outcome: Outcome) -> None:
        text = _utf8(data)
        problems: list = []
        meta = _read_sidecar(path, problems, path.name, path.parent) if path.parent.is_dir() else {}
        outcome.notes = [p.reason for p in problems]
        sidecar = json.dumps(meta, ensure_ascii=False, indent=2) + "\n" if meta else None
        self._store(text, stem, suffix, outcome, sidecar, meta.get("title", ""))

    def _store(self, text: str, stem: str, suffix: str, outcome: Outcome, sidecar: str | None, title: str) -> None:
        if not text.strip():
            raise _Skip("empty text (nothing to index; a scanned PDF needs OCR first)")
        body = text.encode("utf-8")
        if len(body) > TEXT_LIMIT:
            raise _Skip(f"too large (the text is {len(body):,} bytes; the limit is {TEXT_LIMIT:,})")
        if (digest := _sha(text)) in self.hashes:
            raise _Skip(f"duplicate of {self.hashes[digest]} (the same text is in the corpus)")
        while True:  # the sidecar first: the reader sees a document only once its text is there
            doc_id = free_stem(self.folder, stem, self.ids)
            self.ids.add(doc_id)
            written = None
            try:
                if sidecar is not None:
                    written = publish(self.folder, doc_id + META_SUFFIX, sidecar.encode("utf-8"))
                publish(self.folder, doc_id + suffix, body)
                break
            except FileExistsError:  # taken by another adder between the check and the write: next name
                if written is not None:
                    os.unlink(written)
        self.hashes[digest] = doc_id
        outcome.added, outcome.doc_ids, outcome.title = True, [doc_id], title or _first_line(text)
        outcome.stored = [doc_id + suffix] + ([doc_id + META_SUFFIX] if sidecar is not None else [])

    def _add_jsonl(self, data: bytes, stem: str, outcome: Outcome) -> None:
        lines = _utf8(data).splitlines()
        with tempfile.TemporaryDirectory(prefix="warta-add-") as tmp:  # the corpus reader's own checks
            (Path(tmp) / "added.jsonl").write_bytes(data)
            corpus = load_corpus(Path(tmp) / "added.jsonl")
        left_out = [f"line {p.line}: {p.reason}" for p in corpus.problems]
        kept, ids = [], []
        for doc in corpus.documents:
            number = int(doc.origin.rsplit(":", 1)[1])
            if doc.doc_id in self.ids:
                left_out.append(f"line {number}: the id {doc.doc_id!r} is in the corpus already")
            elif doc.content_hash in self.hashes:
                left_out.append(f"line {number}: duplicate of {self.hashes[doc.content_hash]}")
            else:
                kept.append(lines[number - 1])
                ids.append(doc.doc_id)
                self.hashes[doc.content_hash] = doc.doc_id
        if not kept:
            raise _Skip("no new document in it (" + "; ".join(left_out[:3]) + ")" if left_out else "empty file")
        name = free_stem(self.folder, stem, self.ids)
        publish(self.folder, name + ".jsonl", ("\n".join(kept) + "\n").encode("utf-8"))
        self.ids.update(ids)
        outcome.added, outcome.doc_ids, outcome.stored = True, ids, [name + ".jsonl"]
        if left_out:
            outcome.reason = f"{len(left_out)} line(s) left out: " + "; ".join(left_out[:3])


class _Skip(Exception):
    pass


def _utf8(data: bytes) -> str:
    if b"\x00" in data:
        raise _Skip("could not read: binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _Skip(f"could not read: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})") from None


def _first_line(text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line[:120]


def files_to_add(paths: list[Path]) -> list[tuple[Path, Path | None]]:
    """(file, the folder its links must stay in) for each named file, and each file below each
    named folder (sorted; hidden files and sidecars left out: a sidecar travels with its text)."""
    found = []
    for path in map(Path, paths):
        if not path.is_dir():
            found.append((path, None))
            continue
        for folder, dirs, files in os.walk(path):  # links to folders are not followed
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith(".") and not name.endswith(META_SUFFIX):
                    found.append((Path(folder) / name, path))
    return found


