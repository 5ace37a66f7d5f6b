"""BM25 over passages (bm25s: sparse scores precomputed at index time, saved as plain .npy/.json)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.search.analysis import passage_terms, query_term_sets
from rag.ingest.chunking import Passage


class LexicalIndex:
    def __init__(self, bm25, stemmer: str = "snowball") -> None:
        self._bm25 = bm25
        self.stemmer = stemmer  # queries must be analysed as the passages were

    @classmethod
    def build(cls, passages: list[Passage], stemmer: str = "snowball", show_progress: bool = False) -> "LexicalIndex":
        import bm25s

        bm25 = bm25s.BM25()  # Lucene's BM25 variant, k1=1.5, b=0.75
        bm25.index([passage_terms(p.text, p.lang, stemmer) for p in passages], show_progress=show_progress)
        return cls(bm25, stemmer)

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, stemmer: str = "snowball") -> "LexicalIndex":
        import bm25s

        return cls(bm25s.BM25.load(str(directory), show_progress=False), stemmer)

    @property
    def size(self) -> int:
        return int(self._bm25.scores["num_docs"])

    def document_frequencies(self) -> dict[str, int]:
        """How many passages hold each analysed term (bm25s keeps a term's postings as one
        column of its sparse matrix: the column's length)."""
        indptr = np.asarray(self._bm25.scores["indptr"])
        lengths = np.diff(indptr)
        return {term: int(lengths[i]) for term, i in self._bm25.vocab_dict.items() if i < len(lengths) and lengths[i]}

    def postings(self) -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray]:
        """(term -> column, column starts, passage numbers, BM25 scores): bm25s's precomputed
        per-term scores, which the postgres backend stores so both rank alike."""
        scores = self._bm25.scores
        return (dict(self._bm25.vocab_dict), np.asarray(scores["indptr"], dtype=np.int64),
                np.asarray(scores["indices"], dtype=np.int32), np.asarray(scores["data"], dtype=np.float32))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage. Each question word counts once: its stems in both
        languages are alternatives, and the better-scoring one counts."""
        total = np.zeros(self.size, dtype=np.float32)
        for terms in dict.fromkeys(frozenset(t) for t in query_term_sets(query, self.stemmer)):
            ids = self._bm25.get_tokens_ids(sorted(terms))
            if ids:
                total += np.max([self._bm25.get_scores_from_ids([i]) for i in ids], axis=0)
        return total

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(passage number, BM25 score), best first; passages sharing no term are left out, and
        with `allowed` (a boolean mask over passages) those it excludes. Excluded passages score
        0 before the top k is taken (bm25s's own weight_mask does the same, per term), so k
        allowed passages come back whenever k share a term; IDF and lengths stay the corpus's."""
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        if not scores.any():
            return []
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        # Ties broken by passage order so results are the same on every run.
        top = sorted(top, key=lambda i: (-scores[i], i))
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
