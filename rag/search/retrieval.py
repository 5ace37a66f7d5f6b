"""retrieve(query, k, mode, filters) -> [Hit]: dense, lexical, or both fused (scaled scores, or
reciprocal ranks), over the passages of the documents the filters let through. The index is
any rag.search.backend.SearchBackend (local files or PostgreSQL); this module cannot tell which."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from rag.ingest.chunking import Passage
from rag.config import RETRIEVAL_MODES
from rag.ingest.corpus import Document
from rag.search.backend import SearchBackend
from rag.search.embedding import Embedder
from rag.search.filters import Filters
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


def reciprocal_rank_fusion(rankings: dict[str, list[int]], weights: dict[str, float], k: int = 60) -> list[tuple[int, float]]:
    """Fuse ranked lists of ids: score(id) = sum of weight / (k + rank), ranks from 1.

    >>> reciprocal_rank_fusion({"a": [7, 3], "b": [3]}, {"a": 1.0, "b": 1.0}, k=60)
    [(3, 0.03252247488101534), (7, 0.01639344262295082)]
    """
    fused: dict[int, float] = {}
    for name, ids in rankings.items():
        for rank, item in enumerate(ids, start=1):
            fused[item] = fused.get(item, 0.0) + weights[name] / (k + rank)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


def convex_fusion(rankings: dict[str, list[tuple[int, float]]], shares: dict[str, float]) -> list[tuple[int, float]]:
    """Fuse scored lists: score(id) = sum of share x the list's score min-max scaled over that
    list's candidates (0 where the list lacks the id), best first, ties by id.

    Unlike reciprocal ranks, scaled scores keep how far apart the candidates are: a lexical list
    whose best passage barely beats its fiftieth (a question in another language than the
    passages, matching only a name) moves the fused ranking little. `python -m eval.fusion`
    chose this, with dense share 0.6, over weighted RRF (README, "How retrieval works").

    >>> convex_fusion({"dense": [(1, 0.9), (2, 0.5)], "lexical": [(2, 8.0), (3, 2.0)]},
    ...               {"dense": 0.6, "lexical": 0.4})
    [(1, 0.6), (2, 0.4), (3, 0.0)]
    """
    fused: dict[int, float] = {}
    for name, scored in rankings.items():
        if not scored:
            continue
        low, high = min(s for _, s in scored), max(s for _, s in scored)
        for item, score in scored:
            scaled = (score - low) / (high - low) if high > low else 1.0
            fused[item] = fused.get(item, 0.0) + shares[name] * scaled
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


class Retriever:
    """Searches one loaded index; `embedder` is None in model-free mode."""

    def __init__(self, index: SearchBackend, embedder: Embedder | None, fusion: str = "convex",
                 dense_share: float = 0.6, rrf_k: int = 60, weights: dict[str, float] | None = None) -> None:
        self.index = index
        self.embedder = embedder if index.has_vectors else None
        self.fusion = fusion
        self.dense_share = dense_share
        self.rrf_k = rrf_k
        self.weights = weights or {"dense": 1.0, "lexical": 1.0}

    def fuse(self, rankings: dict[str, list[tuple[int, float]]]) -> list[tuple[int, float]]:
        """The hybrid ranking of the dense and lexical candidates (settings.fusion)."""
        if self.fusion == "rrf":
            return reciprocal_rank_fusion({n: [i for i, _ in r] for n, r in rankings.items()}, self.weights, self.rrf_k)
        return convex_fusion(rankings, {"dense": self.dense_share, "lexical": 1.0 - self.dense_share})

    def effective_mode(self, requested: str) -> str:
        """The mode that will run: dense and hybrid need vectors and a model, else lexical."""
        if requested not in RETRIEVAL_MODES:
            raise ValueError(f"mode {requested!r} is not one of {', '.join(RETRIEVAL_MODES)}")
        return requested if self.embedder is not None else "lexical"

    def retrieve(self, query: str, k: int = 5, mode: str = "hybrid", timings: dict | None = None,
                 filters: Filters | None = None) -> list[Hit]:
        """The k best passages for `query`; with `filters`, of allowed documents only. Each side
        searches only allowed passages (not its top k filtered afterwards, which could leave
        fewer than k), so fusion sees only allowed candidates."""
        mode = self.effective_mode(mode)
        timings = {} if timings is None else timings
        pin_this_thread()  # OpenMP (faiss) keeps thread counts per thread: once per new thread
        pool = max(k, 50)  # each retriever's candidates before fusion
        if filters is not None and filters.active:
            t = time.perf_counter()
            allowed = self.index.allowed_documents(filters)
            timings["filter"] = _ms(t)
            if not allowed:
                return []
        rankings: dict[str, list[tuple[int, float]]] = {}
        if mode in ("dense", "hybrid"):
            t = time.perf_counter()
            vector = self.embedder.embed_batch([query], "query")[0]
            timings["embed"] = _ms(t)
            t = time.perf_counter()
            rankings["dense"] = self.index.dense_search(vector, pool, filters)
            timings["dense"] = _ms(t)
        if mode in ("lexical", "hybrid"):
            t = time.perf_counter()
            rankings["lexical"] = self.index.lexical_search(query, pool, filters)
            timings["lexical"] = _ms(t)
        if mode == "hybrid":
            t = time.perf_counter()
            ranked = self.fuse(rankings)
            timings["fuse"] = _ms(t)
        else:
            ranked = rankings[mode]
        own = {name: {i: (rank, score) for rank, (i, score) in enumerate(r, start=1)}
               for name, r in rankings.items()}
        top = ranked[:k]
        hits = []
        for rank, ((i, score), passage) in enumerate(zip(top, self.index.fetch_passages([i for i, _ in top])), start=1):
            detail = {name: {"rank": own[name][i][0], "score": round(own[name][i][1], 6)}
                      for name in own if i in own[name]}
            hits.append(Hit(passage, self.index.documents[passage.doc_id], rank, score, detail))
        return hits


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
