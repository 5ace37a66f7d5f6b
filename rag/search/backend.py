"""What the retriever, the answerer and the fact checker ask of an index, whichever holds it.

Two backends implement it:

* "local" (rag.index.local.LoadedIndex): FAISS + bm25s files under index/, read into memory.
* "postgres" (rag.index.postgres.PgIndex): pgvector and Warta's BM25 postings in a PostgreSQL
  schema; passages and documents are fetched by id when a hit needs them.

Passages are numbered 0..n-1 in build order on both, and every search returns
(passage number, score) pairs, best first, so fusion and everything after it cannot tell them
apart. The lexical side scores with the same analysed terms and the same BM25 (bm25s's Lucene
variant) on both: the postgres build stores bm25s's own per-term scores.
"""
from __future__ import annotations

from typing import Mapping, Protocol, Sequence

import numpy as np

from rag.ingest.chunking import Passage
from rag.ingest.corpus import Document
from rag.search.filters import Filters

Ranked = list[tuple[int, float]]


class SearchBackend(Protocol):
    backend: str  # "local" or "postgres"
    manifest: dict  # what the build was made from (rag.index.builder); the same keys on both
    notice: object  # a rag.messages.Notice when an older build is served, else None

    @property
    def label(self) -> str:
        """The build's name, for status lines."""

    @property
    def has_vectors(self) -> bool:
        """Whether dense search can run (the build has embeddings)."""

    @property
    def documents(self) -> Mapping[str, Document]:
        """The documents by id (the postgres backend reads them on demand)."""

    @property
    def passages(self) -> Sequence[Passage]:
        """All passages by number (the postgres backend reads them on demand)."""

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> Ranked:
        """Nearest passages by cosine to a unit query vector, of allowed documents only."""

    def lexical_search(self, query: str, k: int, filters: Filters | None = None) -> Ranked:
        """BM25 over Warta's analysed terms; passages sharing no term are left out."""

    def fetch_passages(self, numbers: Sequence[int]) -> list[Passage]:
        """The passages with these numbers, in the order asked."""

    def allowed_documents(self, filters: Filters) -> int:
        """How many documents pass the filters."""

    def sources(self) -> list[str]:
        """Every document's outlet as written (None and blanks left out), for the source filter."""

    def term_statistics(self) -> tuple[int, Mapping[str, int]]:
        """(number of passages, document frequency of each analysed term)."""

    def reusable_vectors(self) -> dict[str, np.ndarray]:
        """Passage text -> its stored vector, for a build that embeds only what changed."""

    def close(self) -> None:
        """Release connections (nothing for the local backend)."""
