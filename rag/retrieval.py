"""retrieve(query, k, mode) -> [Hit]: dense, lexical, or both fused by reciprocal rank."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from rag.chunking import Passage
from rag.config import RETRIEVAL_MODES
from rag.corpus import Document
from rag.embedding import Embedder
from rag.store import LoadedIndex
from rag.threads import pin_this_thread


@dataclass(frozen=True)
class Hit:
    passage: Passage
    document: Document
    rank: int
    score: float
    # Each retriever's own score and rank, for explaining a fused result.
    scores: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        p, d = self.passage, self.document
        return {"rank": self.rank, "doc_id": p.doc_id, "chunk_id": p.chunk_id, "score": round(self.score, 6),
                "start": p.start, "end": p.end, "text": p.text, "title": d.title, "source": d.source,
                "date": d.date, "lang": p.lang, "scores": self.scores}


def reciprocal_rank_fusion(rankings: dict[str, list[int]], weights: dict[str, float], k: int = 60,
                           boost: Callable[[str, int], float] | None = None) -> list[tuple[int, float]]:
    """Fuse ranked lists of ids: score(id) = sum of weight x boost(list, id) / (k + rank), ranks from 1.

    >>> reciprocal_rank_fusion({"a": [7, 3], "b": [3]}, {"a": 1.0, "b": 1.0}, k=60)
    [(3, 0.03252247488101534), (7, 0.01639344262295082)]
    """
    fused: dict[int, float] = {}
    for name, ids in rankings.items():
        for rank, item in enumerate(ids, start=1):
            weight = weights[name] * (boost(name, item) if boost else 1.0)
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


def language_boost(passage_langs: Sequence[str], query_lang: str, other_language_dense: float) -> Callable[[str, int], float]:
    """The dense side's weight for a passage in another language than the question.

    Lexical search barely sees a passage written in another language than the question (only
    names and figures match), so such a passage can earn only its dense share of the fused
    score and loses to same-language passages that merely share words. Counting its dense
    rank `other_language_dense` times (2: as if the lexical side had ranked it the same) puts it
    back on equal terms; `python -m eval.fusion` measured the choice.
    """
    def boost(name: str, item: int) -> float:
        return other_language_dense if name == "dense" and passage_langs[item] != query_lang else 1.0

    return boost


class Retriever:
    """Searches one loaded index; `embedder` is None in model-free mode."""

    def __init__(self, index: LoadedIndex, embedder: Embedder | None, rrf_k: int = 60,
                 weights: dict[str, float] | None = None, other_language_dense: float = 1.0) -> None:
        self.index = index
        self.embedder = embedder if index.dense is not None else None
        self.rrf_k = rrf_k
        self.weights = weights or {"dense": 1.0, "lexical": 1.0}
        self.other_language_dense = other_language_dense
        self.passage_langs = [p.lang for p in index.passages]

    def effective_mode(self, requested: str) -> str:
        """The mode that will run: dense and hybrid need vectors and a model, else lexical."""
        if requested not in RETRIEVAL_MODES:
            raise ValueError(f"mode {requested!r} is not one of {', '.join(RETRIEVAL_MODES)}")
        return requested if self.embedder is not None else "lexical"

    def retrieve(self, query: str, k: int = 5, mode: str = "hybrid", timings: dict | None = None) -> list[Hit]:
        mode = self.effective_mode(mode)
        timings = {} if timings is None else timings
        pin_this_thread()  # OpenMP (faiss) keeps thread counts per thread: once per new thread
        pool = max(k, 50)  # each retriever's candidates before fusion
        rankings: dict[str, list[tuple[int, float]]] = {}
        if mode in ("dense", "hybrid"):
            t = time.perf_counter()
            vector = self.embedder.embed_batch([query], "query")[0]
            timings["embed"] = _ms(t)
            t = time.perf_counter()
            rankings["dense"] = self.index.dense.search(vector, pool)
            timings["dense"] = _ms(t)
        if mode in ("lexical", "hybrid"):
            t = time.perf_counter()
            rankings["lexical"] = self.index.lexical.search(query, pool)
            timings["lexical"] = _ms(t)
        if mode == "hybrid":
            t = time.perf_counter()
            boost = None
            if self.other_language_dense != 1.0:
                from rag.language import detect_language

                boost = language_boost(self.passage_langs, detect_language(query), self.other_language_dense)
            ranked = reciprocal_rank_fusion({n: [i for i, _ in r] for n, r in rankings.items()},
                                            self.weights, self.rrf_k, boost)
            timings["fuse"] = _ms(t)
        else:
            ranked = rankings[mode]
        own = {name: {i: (rank, score) for rank, (i, score) in enumerate(r, start=1)}
               for name, r in rankings.items()}
        hits = []
        for rank, (i, score) in enumerate(ranked[:k], start=1):
            passage = self.index.passages[i]
            detail = {name: {"rank": own[name][i][0], "score": round(own[name][i][1], 6)}
                      for name in own if i in own[name]}
            hits.append(Hit(passage, self.index.documents[passage.doc_id], rank, score, detail))
        return hits


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
