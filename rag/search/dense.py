"""Vectors in FAISS. Embeddings are L2-normalised, so inner product is cosine similarity.

Two index types, chosen by size (`choose_kind`):

* "flat" -- `IndexFlatIP`, exact search; the default up to `hnsw_threshold` passages (150,000:
  one flat search over 150k x 384 floats measured ~50 ms on this 2-core machine while it was
  busy with other work, still small beside a question's time budget).
* "hnsw" -- `IndexHNSWFlat(d, M=32, METRIC_INNER_PRODUCT)` above it. The search breadth efSearch
  is chosen when the index is built: the smallest of EF_SEARCH_CANDIDATES whose recall@10
  against exact search reaches the target (0.95), measured with stored passages moved a
  little as queries (see `build`). The choice and the measured recall go into the manifest
  (`describe()`), and `load()` sets efSearch from it. The graph is saved in the index file
  (faiss writes efConstruction and efSearch too); it is never rebuilt on loading.

HNSW in FAISS can add vectors but not remove them, so a build with a changed document builds
the graph again -- from the previous build's vectors (`vectors()` reads them back from the
HNSW storage); only the changed passages are embedded (rag.index.builder).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

KINDS = ("auto", "flat", "hnsw")
HNSW_M = 32
# efConstruction 80: at 100k x 384 the graph took ~20 s on two cores (128: ~35 s); on clustered
# synthetic vectors its noisy held-in queries reached recall@10 0.98 at efSearch 32 and 1.0 at 64
# (128 gained nothing measurable). A one-document update rebuilds the graph, so this is paid then.
HNSW_EF_CONSTRUCTION = 80
EF_SEARCH_CANDIDATES = (32, 64, 96, 128, 192, 256, 384, 512)
RECALL_K = 10
RECALL_QUERIES = 200
# A question is near its best passage, not on it: tuning queries are stored passages moved by
# isotropic noise of this norm, renormalised (cosine ~0.89 to the passage, about what e5 gives a
# question and its answer). The bench's queries are made the same way (eval.synthetic).
QUERY_NOISE = 0.5
RECALL_SEED = 0
# Filtered HNSW search (`_search_allowed`) walks the graph with efSearch divided by the share of
# allowed passages, so the walk meets about as many allowed nodes as an unfiltered one would. It
# computes about this many distances per unit of efSearch (M=32): when the allowed passages are
# fewer than the walk would compute, scanning them exactly is cheaper, and exact. On synthetic
# passages exact was faster below ~8% allowed (100k) and ~10% (300k), and the walk kept
# recall@10 >= 0.96 above (`python -m eval.filters`, README "Filters").
HNSW_WALK_COST = 10


def paraphrases(rows: np.ndarray, noise: float = QUERY_NOISE, rng=None) -> np.ndarray:
    """`rows` (unit vectors) moved by Gaussian noise of norm ~`noise`, L2-normalised again."""
    rng = np.random.default_rng(RECALL_SEED) if rng is None else rng
    dim = rows.shape[1]
    moved = np.asarray(rows, dtype=np.float32) + rng.standard_normal(rows.shape, dtype=np.float32) * (noise / np.sqrt(dim))
    moved /= np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-12)
    return np.ascontiguousarray(moved, dtype=np.float32)


def choose_kind(kind: str, size: int, hnsw_threshold: int) -> str:
    """"flat" or "hnsw" for an index of `size` vectors: `kind` unless it is "auto"."""
    if kind not in KINDS:
        raise ValueError(f"dense index type {kind!r} is not one of {', '.join(KINDS)}")
    if kind != "auto":
        return kind
    return "hnsw" if size > hnsw_threshold else "flat"


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of the exact top k by inner product, best first (an `IndexFlatIP` search)."""
    import faiss

    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return flat.search(queries, k)


def recall_at_k(found_ids: np.ndarray, found_scores: np.ndarray, exact_ids: np.ndarray,
                exact_scores: np.ndarray) -> float:
    """Share of the exact top k that was found. A found vector that ties the k-th exact score
    counts as found (duplicate vectors make the exact top k one arbitrary choice among equals)."""
    k = exact_ids.shape[1]
    hits = 0
    for f_ids, f_scores, e_ids, e_scores in zip(found_ids, found_scores, exact_ids, exact_scores):
        wanted = set(int(i) for i in e_ids if i >= 0)
        kth = e_scores[len(wanted) - 1] if wanted else np.inf
        hits += sum(1 for i, s in zip(f_ids[:k], f_scores[:k])
                    if i >= 0 and (int(i) in wanted or s >= kth - 1e-6))
    return hits / max(1, exact_ids.shape[0] * k)


class DenseIndex:
    def __init__(self, index, info: dict | None = None) -> None:
        # `index` as made (IndexFlatIP, IndexHNSWFlat) or as faiss.read_index returns it (already
        # of its own class). Not faiss.downcast_index: its proxy does not own the index.
        self._index = index
        self.info = dict(info) if info else self._describe_index()

    # --- building ------------------------------------------------------------------------
    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "auto", hnsw_threshold: int = 150_000,
              target_recall: float = 0.95, m: int = HNSW_M, ef_construction: int = HNSW_EF_CONSTRUCTION,
              recall_queries: int = RECALL_QUERIES,
              report: Callable[[str], None] = lambda message: None) -> "DenseIndex":
        """A flat or HNSW index of `vectors` (rows L2-normalised), chosen by `choose_kind`; for
        HNSW, efSearch is tuned here to reach `target_recall` (recall@10 against exact search)."""
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] < 1:
            raise ValueError(f"vectors must be a 2-d array, got shape {vectors.shape}")
        chosen = choose_kind(kind, len(vectors), hnsw_threshold)
        if chosen == "flat":
            index = faiss.IndexFlatIP(vectors.shape[1])  # exact search; cosine on normalised vectors
            index.add(vectors)
            return cls(index)
        started = time.perf_counter()
        report(f"Building the HNSW graph over {len(vectors)} vectors (M={m}, efConstruction={ef_construction})")
        index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.add(vectors)
        graph_seconds = time.perf_counter() - started
        # Tuning queries model questions: a question sits near its answer passage, not on it, so
        # they are stored passages (a fixed random sample) moved a little (`paraphrases`), as the
        # bench's queries are. Tried at 1M synthetic passages, recall@10 at efSearch 256 / 512:
        # noise of norm 1 (cosine ~0.7) 0.85 / 0.92, far off the data and too pessimistic;
        # held-out last passages, as they are or moved, 0.96 / 0.97, optimistic (the bench's
        # queries then got 0.93 at the 256 they chose); this model (the bench's) 0.93 / 0.97.
        rng = np.random.default_rng(RECALL_SEED)
        sample = np.sort(rng.choice(len(vectors), size=min(recall_queries, len(vectors)), replace=False))
        dense = cls(index, {"type": "hnsw"})
        info = dense._tune_ef_search(vectors, paraphrases(vectors[sample], rng=rng), target_recall)
        dense.info = {**info, "graph_seconds": round(graph_seconds, 3)}
        report(f"HNSW efSearch {dense.ef_search}: recall@{RECALL_K} {dense.info['recall_at_10']:.3f} against "
               f"exact search on {dense.info['recall_queries']} queries (target {target_recall})"
               + ("" if dense.info["target_reached"] else " -- target not reached, using the largest efSearch"))
        return dense

    def _tune_ef_search(self, stored: np.ndarray, queries: np.ndarray, target_recall: float) -> dict:
        """Set the smallest efSearch that reaches `target_recall` for `queries` against the
        exact top 10 among `stored`; the record for the manifest."""
        k = min(RECALL_K, len(stored))
        exact_scores, exact_ids = exact_top_k(stored, queries, k)
        measured = {}
        chosen = None
        for ef in EF_SEARCH_CANDIDATES:
            self._index.hnsw.efSearch = ef
            scores, ids = self._index.search(queries, k)
            measured[ef] = recall_at_k(ids, scores, exact_ids, exact_scores)
            if measured[ef] >= target_recall:
                chosen = ef
                break
        reached = chosen is not None
        chosen = chosen if reached else EF_SEARCH_CANDIDATES[-1]
        self._index.hnsw.efSearch = chosen
        info = self._describe_index()
        info.update({"recall_at_10": round(measured[chosen], 4), "target_recall": target_recall,
                     "target_reached": reached, "recall_queries": len(queries),
                     "recall_by_ef_search": {str(ef): round(r, 4) for ef, r in measured.items()}})
        return info

    def _describe_index(self) -> dict:
        import faiss

        if isinstance(self._index, faiss.IndexHNSWFlat):
            return {"type": "hnsw", "faiss": "IndexHNSWFlat", "metric": "inner_product",
                    "M": int(self._index.hnsw.nb_neighbors(1)),
                    "efConstruction": int(self._index.hnsw.efConstruction),
                    "efSearch": int(self._index.hnsw.efSearch)}
        if isinstance(self._index, faiss.IndexFlatIP):
            return {"type": "flat", "faiss": "IndexFlatIP", "metric": "inner_product"}
        raise ValueError(f"unsupported FAISS index {type(self._index).__name__}")

    def describe(self) -> dict:
        """What the manifest records: type, and for HNSW M, efConstruction, efSearch, recall."""
        return dict(self.info)

    # --- files ---------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        import faiss

        # Written by Python, not faiss.write_index: a full disk then raises OSError with its errno,
        # which rag.index.ensure explains (faiss raises a RuntimeError that does not say why).
        with open(path, "wb") as f:
            f.write(faiss.serialize_index(self._index))

    @classmethod
    def load(cls, path: Path, info: dict | None = None) -> "DenseIndex":
        """The index in `path`, graph and all (nothing is rebuilt). `info` is the manifest's
        record: its efSearch is applied to an HNSW index."""
        import faiss

        dense = cls(faiss.read_index(str(path)))
        if info and dense.kind == "hnsw" and info.get("type") == "hnsw":
            dense._index.hnsw.efSearch = int(info["efSearch"])
            dense.info = {**dense._describe_index(), **{k: v for k, v in info.items() if k not in ("M", "efConstruction")}}
        return dense

    # --- reading -------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.info["type"]

    @property
    def ef_search(self) -> int | None:
        return int(self._index.hnsw.efSearch) if self.kind == "hnsw" else None

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def vectors(self) -> np.ndarray:
        """All stored vectors, in passage order (used to reuse them in the next build). For
        HNSW they come from its flat storage, exactly as added."""
        if self.size == 0:
            return np.zeros((0, self.dimension), np.float32)
        return self._index.reconstruct_n(0, self.size)

    def search(self, query_vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(passage number, cosine similarity), best first; with `allowed` (a boolean mask over
        passages) only those. One query runs on one OpenMP thread: waking a second costs more
        than it saves (eval.bench, 2 cores: Flat 100k p50 16 ms with 2 threads, 6-9 ms with 1;
        1M 165 ms vs 59 ms). Builds keep the whole thread budget."""
        import faiss

        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self.search_batch(query_vector.reshape(1, -1), k, allowed)[0]
        finally:
            faiss.omp_set_num_threads(threads)

    def search_batch(self, query_vectors: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[list[tuple[int, float]]]:
        """`search` for several queries at once (one row each)."""
        queries = np.ascontiguousarray(query_vectors, dtype=np.float32)
        if allowed is not None:
            return self._search_allowed(queries, k, allowed)
        return _rows(*self._index.search(queries, min(k, self.size)))

    def _search_allowed(self, queries: np.ndarray, k: int, allowed: np.ndarray) -> list[list[tuple[int, float]]]:
        """The top k among the allowed passages only, so a filter still gets k results when k
        passages pass it. FAISS skips the others while it searches (an ID selector over a
        bitmap), so no candidate is wasted on them: exact for flat. HNSW walks the whole graph
        but keeps only allowed nodes, so its breadth grows as the allowed share shrinks; few
        allowed passages (or a row that came back short) are scanned exactly in the graph's
        flat storage instead."""
        import faiss

        count = int(np.count_nonzero(allowed))
        k = min(k, count)
        if k == 0:
            return [[] for _ in queries]
        selector = faiss.IDSelectorBitmap(np.packbits(allowed, bitorder="little"))
        exact = faiss.SearchParameters(sel=selector)
        if self.kind == "flat":
            return _rows(*self._index.search(queries, k, params=exact))
        storage = faiss.downcast_index(self._index.storage)  # the vectors, exactly as added
        breadth = int(np.ceil(max(self.ef_search, k) * self.size / count))
        if count <= HNSW_WALK_COST * breadth:
            return _rows(*storage.search(queries, k, params=exact))
        rows = _rows(*self._index.search(queries, k, params=faiss.SearchParametersHNSW(sel=selector, efSearch=breadth)))
        short = [i for i, row in enumerate(rows) if len(row) < k]
        if short:  # the walk met fewer than k allowed passages
            for i, row in zip(short, _rows(*storage.search(queries[short], k, params=exact))):
                rows[i] = row
        return rows


def _rows(scores: np.ndarray, ids: np.ndarray) -> list[list[tuple[int, float]]]:
    """FAISS's result arrays as (id, score) lists, without the -1 padding of missing results."""
    return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i >= 0]
            for row_ids, row_scores in zip(ids, scores)]
