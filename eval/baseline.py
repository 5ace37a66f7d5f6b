"""The naive pipeline every run is compared with: what a RAG tutorial builds.

Fixed 1,000-character chunks (no overlap, cut anywhere), BM25 over lower-cased whitespace tokens
(no stop words, no stemming, no number normalisation) or dense-only search when a model is given,
and the first sentence of the first retrieved chunk as the answer.
"""
from __future__ import annotations

import re

import numpy as np

CHUNK = 1000
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


class NaivePipeline:
    def __init__(self, documents, embedder=None) -> None:
        import bm25s

        self.chunks = [(doc.doc_id, start, doc.text[start:start + CHUNK])
                       for doc in documents for start in range(0, len(doc.text), CHUNK)
                       if doc.text[start:start + CHUNK].strip()]
        self.bm25 = bm25s.BM25()
        self.bm25.index([self._tokens(text) for _, _, text in self.chunks], show_progress=False)
        self.embedder = embedder
        self.vectors = None
        if embedder is not None:
            self.vectors = embedder.embed_batch([text for _, _, text in self.chunks], "passage")

    @staticmethod
    def _tokens(text: str) -> list[str]:
        return text.lower().split()

    @property
    def mode(self) -> str:
        return "dense" if self.embedder is not None else "lexical"

    def retrieve(self, question: str, k: int = 10) -> list[tuple[str, str]]:
        """(doc_id, chunk text) best first."""
        if self.embedder is not None:
            scores = self.vectors @ self.embedder.embed_batch([question], "query")[0]
        else:
            ids = self.bm25.get_tokens_ids(self._tokens(question))
            if not ids:
                return []
            scores = self.bm25.get_scores(ids)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.chunks[i][0], self.chunks[i][2]) for i in order if scores[i] > 0 or self.embedder]

    def answer(self, question: str) -> str:
        """The first sentence of the best chunk ('' when nothing is retrieved)."""
        hits = self.retrieve(question, k=1)
        if not hits:
            return ""
        sentences = [s for s in _SENTENCE_END.split(hits[0][1]) if s.strip()]
        return sentences[0].strip() if sentences else ""
