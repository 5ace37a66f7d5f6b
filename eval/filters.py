"""python -m eval.filters [--passages N]: filtered dense search on HNSW, against exact search.

A filter (rag.search.filters) lets a share of the passages through; DenseIndex searches only
those. For flat indexes that is exact by construction. For HNSW this measures, per share,
recall@10 against the exact top 10 among the allowed passages, and the time per query, for:

* "hnsw": the graph walk with an ID selector at the tuned efSearch (the walk keeps only
  allowed nodes, so at small shares it meets few of them);
* "hnsw/share": efSearch divided by the share (what DenseIndex does when the allowed passages
  outnumber HNSW_WALK_COST x that breadth, with an exact retry for a row that comes back short);
* "exact": the graph's flat storage scanned with the selector (what it does otherwise);
* "warta": DenseIndex.search with the mask, i.e. whichever of the two it picks.

Two kinds of filter: "random" passages (an outlet whose articles cover everything), and
"clustered" ones, the passages nearest to a random point, asked about from outside that
cluster (a filter that cuts against the question: the hard case for a graph walk).
Synthetic clustered vectors (eval.synthetic), one OpenMP thread, as queries run.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

SHARES = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.001)
K = 10
MAX_BREADTH = 20_000  # efSearch beyond which "hnsw/share" is not timed


def _recall(found: list[list[tuple[int, float]]], exact: list[list[tuple[int, float]]]) -> float:
    hits = sum(len({i for i, _ in f[:K]} & {i for i, _ in e[:K]}) for f, e in zip(found, exact))
    return hits / max(1, sum(min(K, len(e)) for e in exact))


def _timed(search, queries: np.ndarray) -> tuple[list, float]:
    """Results of searching each query alone, and the median milliseconds per query."""
    rows, times = [], []
    for q in queries:
        t = time.perf_counter()
        rows.append(search(q.reshape(1, -1))[0])
        times.append((time.perf_counter() - t) * 1000)
    return rows, float(np.median(times))


def measure(passages: int = 100_000, queries: int = 100, seed: int = 0) -> list[dict]:
    import faiss

    from eval.synthetic import dense_corpus
    from rag.search.dense import DenseIndex, _rows, paraphrases

    faiss.omp_set_num_threads(1)
    vectors = dense_corpus(passages, seed=seed)
    dense = DenseIndex.build(vectors, kind="hnsw", report=print)
    index, storage = dense._index, faiss.downcast_index(dense._index.storage)
    rng = np.random.default_rng(seed)
    results = []
    for kind in ("random", "clustered"):
        for share in SHARES:
            count = max(K, int(share * passages))
            if kind == "random":
                allowed_ids = rng.choice(passages, size=count, replace=False)
                asked = paraphrases(vectors[rng.integers(0, passages, size=queries)], rng=rng)
            else:
                centre = vectors[rng.integers(0, passages)]
                order = np.argsort(-(vectors @ centre))
                allowed_ids, outside = order[:count], order[count:]
                asked = paraphrases(vectors[rng.choice(outside, size=queries, replace=False)], rng=rng)
            mask = np.zeros(passages, dtype=bool)
            mask[allowed_ids] = True
            selector = faiss.IDSelectorBitmap(np.packbits(mask, bitorder="little"))
            exact_params = faiss.SearchParameters(sel=selector)
            breadth = int(np.ceil(dense.ef_search * passages / mask.sum()))
            runs = {
                "exact": lambda q: _rows(*storage.search(q, K, params=exact_params)),
                "hnsw": lambda q: _rows(*index.search(q, K, params=faiss.SearchParametersHNSW(
                    sel=selector, efSearch=dense.ef_search))),
                "hnsw/share": lambda q: _rows(*index.search(q, K, params=faiss.SearchParametersHNSW(
                    sel=selector, efSearch=breadth))),
                "warta": lambda q: [dense.search(q[0], K, mask)],
            }
            if breadth > MAX_BREADTH:
                del runs["hnsw/share"]  # seconds per query: nothing to learn but that
            exact, _ = _timed(runs["exact"], asked)
            row = {"filter": kind, "share": share, "allowed": int(mask.sum())}
            for name, search in runs.items():
                found, ms = _timed(search, asked)
                row[name] = {"recall": round(_recall(found, exact), 4), "ms": round(ms, 3),
                             "short": sum(len(f) < K for f in found)}
            results.append(row)
            print(_line(row), flush=True)
    unfiltered = _timed(lambda q: _rows(*index.search(q, K)), paraphrases(vectors[:queries], rng=rng))[1]
    print(f"unfiltered HNSW: {unfiltered:.3f} ms per query (efSearch {dense.ef_search})")
    return results


def _line(row: dict) -> str:
    cells = " | ".join("—" if name not in row else f"{row[name]['recall']:.3f} / {row[name]['ms']:.2f} ms"
                       + (f" ({row[name]['short']} short)" if row[name]["short"] else "")
                       for name in ("hnsw", "hnsw/share", "exact", "warta"))
    return f"| {row['filter']} | {row['share']} ({row['allowed']}) | {cells} |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args(argv)
    print("| filter | share (passages) | hnsw: recall@10 / p50 | hnsw/share | exact | warta |")
    print("| --- | --- | --- | --- | --- | --- |")
    measure(args.passages, args.queries)


if __name__ == "__main__":
    main()
