"""The one record of what a passage says, sentence by sentence, that answers, citation checks and
fact checks all read.

A `SentenceRecord` is a sentence of a passage with its document offsets (`document.text[start:end]
== text`), its analysed terms, the figures and kinds of answer it holds, and whether it refers
back to an earlier sentence ("Kamp itu dibebaskan ...", "It was founded ..."). `Evidence` computes
a passage's records once, on first use, and keeps them (and, with a model, each sentence's
embedding) for the passages retrieved since: computing them at build time would embed every
sentence of the corpus, which `python -m eval.bench` measures at 100k passages (README, "Speed").
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from rag.evidence.kinds import kinds_in
from rag.evidence.quantities import Quantity, extract_quantities
from rag.ingest.sentences import split_sentences
from rag.search.analysis import passage_terms

# A sentence that opens with a pronoun, or names its subject with "itu/ini/tersebut" ("Kamp itu",
# "Perusahaan tersebut"), is about what an earlier sentence named.
_PRONOUN_START = re.compile(r"^[\"“‘(]?(?:ia|dia|beliau|mereka|nya|hal\s+(?:ini|itu|tersebut)|it|its|he|she|his|her|"
                            r"they|their|this|these|that|those|there)\b", re.I)
_DEMONSTRATIVE = re.compile(r"^(?:\S+\s+){1,3}?(?:itu|ini|tersebut)\b", re.I)


@dataclass(frozen=True, eq=False)
class SentenceRecord:
    doc_id: str
    chunk_id: str
    index: int              # position in its passage, from 0
    start: int              # document offsets
    end: int
    text: str
    lang: str
    words: tuple[str, ...]  # analysed terms in order (rag.search.analysis.passage_terms)
    terms: frozenset        # the same, as a set
    kinds: frozenset        # "number", "date", "name" (rag.evidence.kinds)
    quantities: tuple[Quantity, ...]  # offsets within `text`
    heading: bool           # a title ("Key Areas of Cooperation"), not a statement to quote
    refers_back: bool

    @property
    def key(self) -> tuple[str, int]:
        return self.chunk_id, self.index


@dataclass(frozen=True, eq=False)
class PassageRecords:
    sentences: tuple[SentenceRecord, ...]
    terms: frozenset        # the passage's terms


def is_heading(text: str) -> bool:
    return len(text.split()) < 6 and not text.rstrip("”\"'’)").endswith((".", "!", "?", ":"))


def refers_back(text: str) -> bool:
    """Whether a sentence is about what an earlier one named.

    >>> refers_back("Kamp itu dibebaskan pada 1945."), refers_back("It opened in 2020."), refers_back("Jembatan dibangun.")
    (True, True, False)
    """
    return bool(_PRONOUN_START.match(text) or _DEMONSTRATIVE.match(text))


def passage_records(passage) -> PassageRecords:
    lang = passage.lang
    sentences = []
    for i, s in enumerate(split_sentences(passage.text, offset=passage.start)):
        words = tuple(passage_terms(s.text, lang))
        sentences.append(SentenceRecord(passage.doc_id, passage.chunk_id, i, s.start, s.end, s.text, lang, words,
                                        frozenset(words), frozenset(kinds_in(s.text)), tuple(extract_quantities(s.text)),
                                        is_heading(s.text), refers_back(s.text)))
    sentences = tuple(sentences)
    terms = frozenset().union(*(s.terms for s in sentences)) if sentences else frozenset()
    return PassageRecords(sentences, terms)


class Evidence:
    """Records of the passages retrieved so far (most recent `capacity` passages), and embeddings
    of their sentences when a model is loaded. Thread-safe; `embedder` is a callable so a server
    that switches encoders (rag.pipeline) embeds with the current one."""

    def __init__(self, embedder=lambda: None, capacity: int = 20_000) -> None:
        self._embedder = embedder
        self._capacity = capacity
        self._records: OrderedDict = OrderedDict()
        self._vectors: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def of(self, hit) -> PassageRecords:
        """The records of a hit's passage."""
        key = hit.passage.chunk_id
        with self._lock:
            found = self._records.get(key)
            if found is not None:
                self._records.move_to_end(key)
                return found
        made = passage_records(hit.passage)
        with self._lock:
            self._records[key] = made
            while len(self._records) > self._capacity:
                self._records.popitem(last=False)
        return made

    def question_vector(self, question: str) -> np.ndarray | None:
        """The question's unit vector (as a query), or None without a model. The retriever
        embedded it already, so the embedder's query cache answers."""
        embedder = self._embedder()
        return None if embedder is None else embedder.embed_batch([question], "query")[0]

    def phrase_vectors(self, texts: list[str]) -> np.ndarray | None:
        """Unit vectors of short texts compared with each other (a claim, what a figure counts),
        embedded as queries (e5's choice for symmetric comparison), or None without a model."""
        embedder = self._embedder()
        return None if embedder is None or not texts else embedder.embed_batch(list(texts), "query")

    def embeddings(self, records: list[SentenceRecord]) -> np.ndarray | None:
        """Unit vectors of the records' sentences (as passages), or None without a model."""
        embedder = self._embedder()
        if embedder is None or not records:
            return None
        with self._lock:
            known = {r.key: self._vectors.get(r.key) for r in records}
        missing = [r for r in records if known[r.key] is None]
        if missing:
            fresh = embedder.embed_batch([r.text for r in missing], "passage")
            with self._lock:
                for r, vector in zip(missing, fresh):
                    known[r.key] = self._vectors[r.key] = vector
                while len(self._vectors) > self._capacity * 8:
                    self._vectors.popitem(last=False)
        return np.stack([known[r.key] for r in records]).astype(np.float32)
