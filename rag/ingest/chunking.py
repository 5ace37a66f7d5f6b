"""Passages: documents cut with langchain-text-splitters, each with verified character offsets.

langchain's own `start_index` is found with `str.find` from a guessed position and is wrong
when text repeats (langchain issue #21475), so offsets are located here under a stricter rule
and checked: `doc.text[p.start:p.end] == p.text` for every passage, or ChunkingError.

Repeated text is collapsed before it can be shown twice: a line that repeats an earlier line
of the same document (news sites often repeat a quote in other words) and boilerplate lines
("ADVERTISEMENT", "Baca juga: ...") are left out of every passage, and a passage whose text
already appears in an earlier document is dropped.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

from rag.ingest.corpus import Document

SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]
_BOILERPLATE = re.compile(
    r"^\s*(advertisement|scroll to continue with content|baca juga\s*:.*|read also\s*:.*)\s*$",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+", re.UNICODE)
# A line repeats an earlier one when 70% of its distinct words are in it; lines under 8 words
# (headings, list items) are never collapsed, they are too short to judge.
_REPEAT_SHARE = 0.7
_REPEAT_MIN_WORDS = 8
# A line is compared only with earlier lines holding two of its rarest words (_EarlierLines),
# looking back over the last 200 lines that hold each: the same answer as comparing with every
# earlier line for any text of up to 200 long lines (any article), and beyond that while a line's
# rarest words are rarer than that. It bounds the work a line, so 50,000 lines take seconds.
_REPEAT_WINDOW = 200


class ChunkingError(ValueError):
    """A passage could not be placed in its document: a bug, never silently tolerated."""


@dataclass(frozen=True)
class Passage:
    doc_id: str
    chunk_id: str
    start: int
    end: int
    text: str
    lang: str

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end or self.end - self.start != len(self.text):
            raise ChunkingError(f"passage {self.chunk_id}: offsets {self.start}:{self.end} do not fit its text")

    def to_json(self) -> dict:
        return {"doc_id": self.doc_id, "chunk_id": self.chunk_id, "start": self.start,
                "end": self.end, "text": self.text, "lang": self.lang}

    @classmethod
    def from_json(cls, record: dict) -> "Passage":
        return cls(**{k: record[k] for k in ("doc_id", "chunk_id", "start", "end", "text", "lang")})


def _words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


class _EarlierLines:
    """The long lines kept so far, indexed by word, to find one that a new line repeats.

    A line of n distinct words repeats an earlier one when they share t = ceil(0.7 n) words or
    more, so the earlier one lacks at most n - t of them and holds at least two of any
    n - t + 2. Only earlier lines holding two of the new line's n - t + 2 rarest words are
    compared (prefix filtering): the same answer as comparing with every earlier line, at a cost
    that grows with how common those words are, not with how many lines came before.
    """

    def __init__(self, window: int = _REPEAT_WINDOW) -> None:
        self.lines: list[set[str]] = []
        self.holding: dict[str, list[int]] = {}  # word -> numbers of the lines holding it, ascending
        self.window = window
        self.compared = 0  # lines compared, for tests

    def repeats(self, words: set[str]) -> bool:
        needed = math.ceil(_REPEAT_SHARE * len(words))  # the same test as shared >= 0.7 * n
        rarest = sorted(words, key=lambda w: (len(self.holding.get(w, ())), w))[: len(words) - needed + 2]
        once: set[int] = set()
        twice: set[int] = set()
        for word in rarest:
            holders = set(self.holding.get(word, ())[-self.window:])
            twice |= once & holders
            once |= holders
        for number in sorted(twice, reverse=True):  # a repeat is usually near what it repeats
            self.compared += 1
            if len(words & self.lines[number]) >= needed:
                return True
        return False

    def add(self, words: set[str]) -> None:
        for word in words:
            self.holding.setdefault(word, []).append(len(self.lines))
        self.lines.append(words)


def kept_segments(text: str, earlier: _EarlierLines | None = None) -> list[tuple[int, int]]:
    """Runs of lines (start, end offsets) left after boilerplate and repeated lines are removed.

    >>> t = "A one two three four five six seven.\\nADVERTISEMENT\\nB."
    >>> [t[s:e] for s, e in kept_segments(t)]
    ['A one two three four five six seven.\\n', 'B.']
    """
    segments: list[tuple[int, int]] = []
    earlier = _EarlierLines() if earlier is None else earlier
    run_start = None
    position = 0
    for line in text.splitlines(keepends=True):
        start, position = position, position + len(line)
        words = _words(line)
        repeated = len(words) >= _REPEAT_MIN_WORDS and earlier.repeats(words)
        if _BOILERPLATE.match(line) or repeated:
            if run_start is not None:
                segments.append((run_start, start))
                run_start = None
            continue
        if len(words) >= _REPEAT_MIN_WORDS:
            earlier.add(words)
        if run_start is None:
            run_start = start
    if run_start is not None:
        segments.append((run_start, len(text)))
    return [(s, e) for s, e in segments if text[s:e].strip()]


def locate_chunks(text: str, chunks: Iterable[str]) -> list[tuple[int, int]]:
    """Offsets of consecutive splitter chunks in `text`.

    Each chunk starts after the previous one starts and ends after the previous one ends, so
    the search begins at max(previous start + 1, previous end - len(chunk) + 1); that skips an
    earlier copy of repeated text, which plain `text.find(chunk)` would return.

    >>> locate_chunks("ab ab ab", ["ab ab", "ab ab"])
    [(0, 5), (3, 8)]
    """
    offsets = []
    prev_start, prev_end = -1, 0
    for chunk in chunks:
        begin = max(prev_start + 1, prev_end - len(chunk) + 1, 0)
        start = text.find(chunk, begin)
        if start < 0:
            raise ChunkingError(f"chunk not found in its text after offset {begin}: {chunk[:60]!r}")
        prev_start, prev_end = start, start + len(chunk)
        offsets.append((prev_start, prev_end))
    return offsets


def make_splitter(chunk_size: int, chunk_overlap: int):
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    # keep_separator="end": a sentence keeps its full stop, the next chunk starts on a word.
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=chunk_overlap, separators=SEPARATORS,
        keep_separator="end", strip_whitespace=True,
    )


def split_document(doc: Document, splitter) -> list[Passage]:
    """The passages of one document, offsets verified against `doc.text`."""
    passages = []
    for seg_start, seg_end in kept_segments(doc.text):
        segment = doc.text[seg_start:seg_end]
        chunks = splitter.split_text(segment)
        for (start, end), chunk in zip(locate_chunks(segment, chunks), chunks):
            start, end = seg_start + start, seg_start + end
            if doc.text[start:end] != chunk:  # the invariant every citation rests on
                raise ChunkingError(f"{doc.doc_id}: passage at {start}:{end} differs from the document")
            passages.append(Passage(doc.doc_id, f"{doc.doc_id}#{len(passages)}", start, end, chunk, doc.lang))
    return passages


def normalised(text: str) -> str:
    """Text compared for duplicates: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def chunk_corpus(documents: Iterable[Document], chunk_size: int, chunk_overlap: int) -> list[Passage]:
    """All passages of a corpus, in document order, with duplicates across documents dropped."""
    splitter = make_splitter(chunk_size, chunk_overlap)
    seen: set[str] = set()
    passages = []
    for doc in documents:
        for passage in split_document(doc, splitter):
            key = normalised(passage.text)
            if key in seen:
                continue
            seen.add(key)
            passages.append(passage)
    return passages
