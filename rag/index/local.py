"""The local backend (rag.search.backend): one verified build from index/ held in memory, FAISS for
vectors and bm25s for words. Filters become a boolean mask over passages, so each side searches
only allowed passages (not its top k filtered afterwards, which could leave fewer than k)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rag.ingest.chunking import Passage
from rag.ingest.corpus import Document
from rag.messages import Notice
from rag.search.dense import DenseIndex
from rag.search.filters import Filters
from rag.search.lexical import LexicalIndex


class Allowed(NamedTuple):
    """What a filter lets through: how many documents, and a boolean mask over passages."""
    documents: int
    passages: np.ndarray


@dataclass(eq=False)
class LoadedIndex:
    path: Path
    manifest: dict
    documents: dict[str, Document]
    passages: list[Passage]
    lexical: LexicalIndex
    dense: DenseIndex | None
    # Set when this build is served although a newer one was wanted and could not be written
    # (rag.index.ensure): what went wrong and what to do, said on stderr and in the page's status.
    notice: Notice | None = None
    backend: str = field(default="local", init=False)

    def __post_init__(self) -> None:
        # The same few filters come back request after request (a newsroom's outlets and months);
        # each costs a pass over the documents, so their masks are kept: 16 of one byte per
        # passage, 16 MB at a million passages.
        self.allowed = lru_cache(maxsize=16)(self._allowed)

    @property
    def label(self) -> str:
        return self.path.name

    @property
    def has_vectors(self) -> bool:
        return self.dense is not None

    @cached_property
    def _passage_documents(self) -> tuple[list[Document], np.ndarray]:
        """The documents, and each passage's position among them."""
        documents = list(self.documents.values())
        position = {d.doc_id: i for i, d in enumerate(documents)}
        return documents, np.fromiter((position[p.doc_id] for p in self.passages), dtype=np.int64,
                                      count=len(self.passages))

    def _allowed(self, filters: Filters) -> Allowed:
        documents, passage_document = self._passage_documents
        keep = np.fromiter((filters.matches({**d.metadata(), "doc_id": d.doc_id}) for d in documents), dtype=bool,
                           count=len(documents))
        return Allowed(int(keep.sum()), keep[passage_document])

    def _mask(self, filters: Filters | None) -> np.ndarray | None:
        return self.allowed(filters).passages if filters is not None and filters.active else None

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        return self.dense.search(vector, k, self._mask(filters))

    def lexical_search(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        return self.lexical.search(query, k, self._mask(filters))

    def fetch_passages(self, numbers) -> list[Passage]:
        return [self.passages[i] for i in numbers]

    def allowed_documents(self, filters: Filters) -> int:
        return self.allowed(filters).documents

    def sources(self) -> list[str]:
        return [d.source for d in self.documents.values() if d.source and d.source.strip()]

    def term_statistics(self) -> tuple[int, dict[str, int]]:
        return len(self.passages), self.lexical.document_frequencies()

    def reusable_vectors(self) -> dict[str, np.ndarray]:
        if self.dense is None:
            return {}
        vectors = self.dense.vectors()
        return {p.text: vectors[i] for i, p in enumerate(self.passages)}

    def close(self) -> None:
        pass
