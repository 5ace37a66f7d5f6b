"""python -m eval.bench_backends: the two search backends (rag.search.backend) side by side at 10k /
100k / 1M synthetic passages: "local" (FAISS + bm25s in memory, rag.index.store) and "postgres"
(pgvector + bm25s's own postings in SQL, rag.index.postgres).

    python -m eval.bench_backends [--sizes 10000 100000 1000000] [--queries N] [--pg-dsn DSN]
                                  [--backends local postgres] [--out DIR] [--keep] [--quiet]

Per size, one synthetic corpus for both (eval.synthetic): Zipf text and 384-d embedding-like
vectors, PASSAGES_PER_DOCUMENT passages per document, documents spread over a few outlets, two
years of dates and both languages. One bm25s index is built (timed once) and written by each
backend's write_build with a manifest shaped like rag.index.builder's; the local build picks its
dense index by its own rule (FAISS flat up to settings.hnsw_threshold, HNSW above), the postgres
one is forced to pgvector HNSW at every size (settings.dense_index "hnsw"), ef_search tuned at
build to the target recall. Then, one query at a time, warm, k=10:

* dense: dense_search; recall@10 against the exact top 10 (rag.search.dense.exact_top_k);
* lexical: lexical_search; top-10 overlap with bm25s in memory (LexicalIndex.search), and the
  same under the outlet filter;
* hybrid: rag.search.retrieval.Retriever.retrieve(mode="hybrid"), convex fusion with dense share
  0.6, as Warta runs it: both sides' 50 candidates, fusion, and the 10 hits' passages and
  documents read; the query's vector stands in for the embedding model (not timed here);
* filtered hybrid: the same with one outlet (about 1/len(OUTLETS) of the documents).

Memory: local, the process's peak RSS while writing and the build's files; postgres, this
process's RSS growth while writing, the server's table and index sizes, and the peak RSS of the
server's processes for the build's database (sampled; on this machine only, shared buffers
included). The server: --pg-dsn, else WARTA_PG_DSN, else a private one from rag.index.pgserver
(started for the run, stopped after; eval.postgres.server). Each
size gets a database of its own, dropped after unless --keep.

Markdown tables are printed; the figures go to DIR/bench_backends.json (default eval/out/), where
a size run again replaces that size's rows and other sizes' rows are kept.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from eval import synthetic
from eval.bench import (DEFAULT_OUT, K, _dir_bytes, _fmt, _found, _mb, _r, _size_label, environment,
                        latency_summary, peak_rss, reset_peak_rss, status_bytes, time_queries)
from eval.report import table
from rag.index.pg_index import error_line

SIZES = (10_000, 100_000, 1_000_000)
BACKENDS = ("local", "postgres")
PASSAGES_PER_DOCUMENT = 10
OUTLETS = ("Kompas", "Tempo", "Antara", "Detik", "Republika", "CNN Indonesia", "The Jakarta Post", "Reuters")
FILTER_OUTLET = OUTLETS[0]
ENGLISH_SHARE = 0.3  # of documents; the rest are Indonesian
FIRST_DAY, DAYS = date(2024, 1, 1), 730
DENSE_SHARE = 0.6  # rag.config's default fusion: convex, dense share 0.6
LEXICAL_LIMIT_MS = 100  # the bound on the keyword side's p95 at 1M
OVERLAP_QUERIES = 100  # filtered lexical overlap (untimed) over this many queries
SLOWEST = 5  # slowest lexical queries described per postgres row
WATCH_SECONDS = 1.0  # the server watcher's sampling period
WATCH_REPORT_SECONDS = 30.0  # and how often it prints where the build is


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- the corpus

class Corpus:
    """Documents, passages, vectors and queries of one size (shared by both backends)."""

    def __init__(self, n: int, n_queries: int, seed: int, vocab: list[str]) -> None:
        from rag.ingest.chunking import Passage
        from rag.ingest.corpus import Document

        texts = synthetic.text_corpus(n, seed=seed, vocab=vocab)
        rng = np.random.default_rng([seed, 7])
        n_docs = -(-n // PASSAGES_PER_DOCUMENT)
        outlets = rng.integers(0, len(OUTLETS), size=n_docs)
        english = rng.random(n_docs) < ENGLISH_SHARE
        days = rng.integers(0, DAYS, size=n_docs)
        self.documents, self.passages = [], []
        for d in range(n_docs):
            doc_id, lang = f"bench-{d:07d}", "en" if english[d] else "id"
            chunk = texts[d * PASSAGES_PER_DOCUMENT:(d + 1) * PASSAGES_PER_DOCUMENT]
            start = 0
            for j, text in enumerate(chunk):
                self.passages.append(Passage(doc_id, f"{doc_id}#{j}", start, start + len(text), text, lang))
                start += len(text) + 2
            self.documents.append(Document(doc_id, f"Synthetic article {d}", "\n\n".join(chunk), lang,
                                           source=OUTLETS[outlets[d]],
                                           date=(FIRST_DAY + timedelta(days=int(days[d]))).isoformat(),
                                           origin="eval.bench_backends"))
        self.vectors = synthetic.dense_corpus(n, seed=seed)
        self.dense_queries = synthetic.dense_queries(self.vectors, n_queries, seed=seed)
        self.text_queries = synthetic.text_queries(texts, n_queries, seed=seed)
        # Passage i belongs to document i // PASSAGES_PER_DOCUMENT.
        self.filter_mask = np.repeat(outlets == OUTLETS.index(FILTER_OUTLET), PASSAGES_PER_DOCUMENT)[:n]
        self.size = n


def manifest(store, corpus: Corpus, settings) -> dict:
    """A manifest as rag.index.builder.build_index writes one, for vectors made by eval.synthetic."""
    from rag.index.builder import chunk_settings, lexical_settings
    from rag.index.store import FORMAT_VERSION

    per_doc = Counter(p.doc_id for p in corpus.passages)
    n = len(corpus.passages)
    return {"format_version": FORMAT_VERSION, "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "backend": store.backend, "retrieval_modes": ["dense", "lexical", "hybrid"],
            "embedding": {"model": "synthetic (eval.synthetic.dense_corpus)", "dimension": corpus.vectors.shape[1],
                          "normalized": True, "metric": "inner product on L2-normalised vectors (= cosine)",
                          "query_prefix": "", "passage_prefix": ""},
            "dense": None, "encoder": None, "model_free_reason": None, "chunking": chunk_settings(settings),
            "lexical": lexical_settings(settings),
            "documents": {d.doc_id: {"sha256": d.content_hash, "passages": per_doc[d.doc_id], "origin": d.origin}
                          for d in corpus.documents},
            "counts": {"documents": len(corpus.documents), "passages": n, "vectors": n, "embedded": n, "reused": 0},
            "skipped": [], "build_seconds": None}


class QueryVectors:
    """Stands in for the embedding model in Retriever: each text query's paired synthetic vector."""

    def __init__(self, corpus: Corpus) -> None:
        self._by_text = dict(zip(corpus.text_queries, corpus.dense_queries))

    def embed_batch(self, texts, kind: str, show_progress: bool = False) -> np.ndarray:
        return np.stack([self._by_text[t] for t in texts])


# ----------------------------------------------------------------------------- the postgres server

def _is_local(dsn: str) -> bool:
    from psycopg.conninfo import conninfo_to_dict

    host = conninfo_to_dict(dsn).get("host") or ""
    return host in ("", "127.0.0.1", "localhost", "::1") or host.startswith("/")


class ServerWatch(threading.Thread):
    """Samples, while a build runs, the peak RSS of the server's processes on one database (read
    from /proc: a server on this machine only) and prints every WATCH_REPORT_SECONDS where the
    build is (COPY rows, CREATE INDEX phase, the running statement)."""

    def __init__(self, dsn: str, database: str, label: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.database, self.label = dsn, database, label
        self.local = _is_local(dsn)
        self.peak: int | None = None
        self.stopping = threading.Event()
        self.started_at = time.perf_counter()

    def run(self) -> None:
        import psycopg

        last = time.perf_counter()
        try:
            with psycopg.connect(self.dsn, autocommit=True, application_name="warta-bench-watch") as conn:
                while not self.stopping.wait(WATCH_SECONDS):
                    if self.local:
                        for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s",
                                                   [self.database]).fetchall():
                            self.peak = max(self.peak or 0, status_bytes("VmHWM", pid) or 0) or self.peak
                    if time.perf_counter() - last >= WATCH_REPORT_SECONDS:
                        last = time.perf_counter()
                        say(f"{self.label}: {time.perf_counter() - self.started_at:.0f} s, {self.where(conn)}")
        except psycopg.Error as e:  # the figures are optional; the build reports its own failure
            say(f"{self.label}: server watch stopped ({error_line(e)})")

    def where(self, conn) -> str:
        parts = []
        # The build's tables are not visible outside its transaction: no names, only counts.
        for (rows,) in conn.execute("SELECT tuples_processed FROM pg_stat_progress_copy WHERE datname = %s",
                                    [self.database]).fetchall():
            parts.append(f"COPY {rows:,} rows")
        for phase, done, total, blocks, blocks_total in conn.execute(
                "SELECT phase, tuples_done, tuples_total, blocks_done, blocks_total FROM pg_stat_progress_create_index "
                "WHERE datname = %s", [self.database]).fetchall():
            parts.append(f"CREATE INDEX {phase}" + (f", {done:,}/{total:,} tuples" if total else "")
                         + (f", {blocks:,}/{blocks_total:,} blocks" if blocks_total else ""))
        if not parts:
            for query, seconds in conn.execute(
                    "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 70), extract(epoch FROM now() - query_start) "
                    "FROM pg_stat_activity WHERE datname = %s AND application_name = 'warta' AND state = 'active'",
                    [self.database]).fetchall():
                parts.append(f"running for {seconds:.0f} s: {query}")
        peak = f"; server processes' peak RSS {_mb(self.peak):,.0f} MB" if self.peak else ""
        return ("; ".join(parts) or "between statements") + peak

    def stop(self) -> int | None:
        self.stopping.set()
        self.join(10)
        return self.peak


def server_sizes(index) -> dict:
    """Bytes on the server: each table with its TOAST and indexes, the HNSW graph alone, the database."""
    rows = index.query("SELECT c.relname, pg_total_relation_size(c.oid), pg_indexes_size(c.oid) FROM pg_class c "
                       "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
                       [index.schema])
    graph = index.query("SELECT pg_relation_size(to_regclass(%s))", [f"{index.schema}.passages_embedding_hnsw"])
    return {"tables": {name: {"total_bytes": int(total), "indexes_bytes": int(indexes)}
                       for name, total, indexes in rows},
            "total_bytes": int(sum(total for _, total, _ in rows)), "hnsw_bytes": int(graph[0][0] or 0),
            "database_bytes": int(index.query("SELECT pg_database_size(current_database())")[0][0])}


# ----------------------------------------------------------------------------- building

def build_local(corpus: Corpus, lexical, folder: Path, report):
    from rag.config import Settings
    from rag.index.store import IndexStore

    settings = Settings()
    store = IndexStore(folder / "index")
    gc.collect()
    before = status_bytes("VmRSS")
    reset_peak_rss()
    started = time.perf_counter()
    index = store.write_build(corpus.documents, corpus.passages, corpus.vectors, lexical,
                              manifest(store, corpus, settings), settings, report, started)
    write_s = time.perf_counter() - started
    return index, {"write_s": _r(write_s, 2), "dense": index.manifest["dense"],
                   "memory": {"rss_before_bytes": before, "peak_rss_bytes": peak_rss(),
                              "peak_growth_bytes": _growth(peak_rss(), before),
                              "index_bytes": _dir_bytes(index.path)}}


def build_postgres(corpus: Corpus, lexical, dsn: str, database: str, maintenance_dsn: str, report):
    from rag.config import Settings
    from rag.index.postgres import PgStore

    settings = Settings(dense_index="hnsw")
    store = PgStore(dsn)
    watch = ServerWatch(maintenance_dsn, database, f"postgres {_size_label(corpus.size)}")
    gc.collect()
    before = status_bytes("VmRSS")
    reset_peak_rss()
    watch.start()
    started = time.perf_counter()
    try:
        index = store.write_build(corpus.documents, corpus.passages, corpus.vectors, lexical,
                                  manifest(store, corpus, settings), settings, report, started)
    finally:
        server_peak = watch.stop()
    write_s = time.perf_counter() - started
    return index, {"write_s": _r(write_s, 2), "dense": index.manifest["dense"],
                   "memory": {"rss_before_bytes": before, "peak_rss_bytes": peak_rss(),
                              "peak_growth_bytes": _growth(peak_rss(), before),
                              "server_peak_rss_bytes": server_peak, "server": server_sizes(index)}}


def _growth(after: int | None, before: int | None) -> int | None:
    return None if after is None or before is None else after - before


# ----------------------------------------------------------------------------- measuring

class Reference:
    """What each backend is compared with: the exact dense top 10, and bm25s in memory."""

    def __init__(self, corpus: Corpus, lexical) -> None:
        from rag.search.dense import exact_top_k

        self.exact_scores, self.exact_ids = exact_top_k(corpus.vectors, corpus.dense_queries, K)
        self.lexical = [lexical.search(q, K) for q in corpus.text_queries]
        few = corpus.text_queries[:OVERLAP_QUERIES]
        self.filtered_lexical = [lexical.search(q, K, corpus.filter_mask) for q in few]
        frequencies = lexical.document_frequencies()
        self.frequencies, self.stemmer = frequencies, lexical.stemmer
        self.postings = [sum(frequencies.get(t, 0) for t in query_terms(q, lexical.stemmer))
                         for q in corpus.text_queries]


def query_terms(query: str, stemmer: str) -> list[str]:
    """The analysed terms whose postings a query reads (rag.index.pg_index.PgIndex.lexical_search)."""
    from rag.search.analysis import query_term_sets

    return sorted(set().union(*map(set, query_term_sets(query, stemmer)))) if query.strip() else []


def postings_fetch(index, terms: list[str], repeats: int = 3) -> dict:
    """The SQL part of a postgres keyword search alone: the terms' postings read (best of
    `repeats`, warm) and their bytes; the rest of the query's time is scoring them in numpy."""
    best, rows = float("inf"), []
    for _ in range(repeats):
        started = time.perf_counter()
        rows = index.query("SELECT term, pids, scores FROM terms WHERE term = ANY(%s)", [terms], binary=True)
        best = min(best, (time.perf_counter() - started) * 1000)
    return {"fetch_ms": _r(best), "fetched_bytes": sum(len(pids) + len(scores) for _, pids, scores in rows)}


def overlap(found: list[list[tuple[int, float]]], reference: list[list[tuple[int, float]]],
            ties: bool = True) -> float | None:
    """Mean share of the reference's top 10 that was found (1.0 when both are empty). With `ties`,
    a found passage that scores as the reference's 10th counts as found: both engines cut the top
    10 with argpartition, which keeps any one of passages tied at the cut."""
    shares = []
    for f, r in zip(found, reference):
        if not r:
            shares.append(float(not f))
            continue
        kept = {i for i, _ in r}
        hits = sum(i in kept or (ties and len(r) == K and s >= r[-1][1] - 1e-6) for i, s in f)
        shares.append(min(hits, len(r)) / len(r))
    return _r(np.mean(shares), 4) if shares else None


def measure(index, corpus: Corpus, reference: Reference, label: str, quiet: bool) -> dict:
    from rag.search.dense import recall_at_k
    from rag.search.filters import Filters
    from rag.search.retrieval import Retriever

    retriever = Retriever(index, QueryVectors(corpus), fusion="convex", dense_share=DENSE_SHARE)
    outlet = Filters(sources=(FILTER_OUTLET,))
    out = {}
    say(f"{label}: dense queries")
    times, found = time_queries(lambda v: index.dense_search(v, K), corpus.dense_queries, f"{label} dense", quiet=quiet)
    out["dense_ms"] = latency_summary(times)
    out["recall@10"] = _r(recall_at_k(*_found(found, corpus.vectors, corpus.dense_queries), reference.exact_ids,
                                      reference.exact_scores), 4)
    say(f"{label}: lexical queries")
    times, found = time_queries(lambda q: index.lexical_search(q, K), corpus.text_queries, f"{label} lexical",
                                quiet=quiet)
    out["lexical_ms"] = latency_summary(times)
    out["lexical_overlap_with_bm25s"] = overlap(found, reference.lexical)
    out["lexical_overlap_with_bm25s_ties_apart"] = overlap(found, reference.lexical, ties=False)
    out["slowest_lexical"] = [{"query": corpus.text_queries[i], "ms": _r(times[i]), "postings": reference.postings[i],
                               "terms": {t: reference.frequencies.get(t, 0)
                                         for t in query_terms(corpus.text_queries[i], reference.stemmer)}}
                              for i in np.argsort(times)[::-1][:SLOWEST]]
    if index.backend == "postgres":
        for slow in out["slowest_lexical"]:
            slow.update(postings_fetch(index, list(slow["terms"])))
    filtered = [index.lexical_search(q, K, outlet) for q in corpus.text_queries[:OVERLAP_QUERIES]]
    out["filtered_lexical_overlap_with_bm25s"] = overlap(filtered, reference.filtered_lexical)
    for name, filters in (("hybrid", None), ("filtered_hybrid", outlet)):
        say(f"{label}: {name.replace('_', ' ')} queries")
        parts: list[dict] = []

        def hybrid(q: str) -> list:
            timings: dict = {}
            hits = retriever.retrieve(q, K, "hybrid", timings, filters)
            parts.append(timings)
            return hits

        times, _ = time_queries(hybrid, corpus.text_queries, f"{label} {name}", quiet=quiet)
        timed = parts[-len(times):]
        out[f"{name}_ms"] = latency_summary(times)
        out[f"{name}_parts_p50_ms"] = {part: latency_summary([t[part] for t in timed if part in t])["p50"]
                                       for part in ("filter", "embed", "dense", "lexical", "fuse") if part in timed[0]}
    out["peak_rss_bytes"] = peak_rss()
    return out


# ----------------------------------------------------------------------------- one size

def bench_size(n: int, args, vocab: list[str], server: tuple[str | None, str]) -> list[dict]:
    from rag.search.lexical import LexicalIndex

    label = _size_label(n)
    say(f"{label}: making {n:,} synthetic passages, their vectors and {args.queries} queries")
    started = time.perf_counter()
    corpus = Corpus(n, args.queries, args.seed, vocab)
    say(f"{label}: corpus ready in {time.perf_counter() - started:.0f} s ({len(corpus.documents):,} documents); "
        "building the BM25 index (bm25s, shared by both backends)")
    started = time.perf_counter()
    lexical = LexicalIndex.build(corpus.passages)
    bm25_s = time.perf_counter() - started
    say(f"{label}: BM25 index in {bm25_s:.0f} s; the references (exact dense top 10, bm25s top 10)")
    reference = Reference(corpus, lexical)
    postings = latency_summary([float(p) for p in reference.postings])
    rows = []
    for backend in args.backends:
        row = {"size": n, "backend": backend, "documents": len(corpus.documents), "bm25_s": _r(bm25_s, 2),
               "postings_per_query": postings, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "load_before": [round(x, 2) for x in os.getloadavg()]}
        try:
            if backend == "local":
                row.update(run_local(corpus, lexical, reference, args))
            else:
                row.update(run_postgres(corpus, lexical, reference, args, server))
        except Exception as e:  # one backend failing keeps the other's figures
            row["failed"] = f"{type(e).__name__}: {error_line(e)}"
            say(f"{label} {backend}: failed: {row['failed']}")
        if "write_s" in row:
            row["build_s"] = _r(bm25_s + row["write_s"], 2)
        rows.append(row)
        gc.collect()
    return rows


def run_local(corpus: Corpus, lexical, reference: Reference, args) -> dict:
    label = f"local {_size_label(corpus.size)}"
    with tempfile.TemporaryDirectory(prefix="warta-bench-local-") as folder:
        say(f"{label}: writing the build (rag.index.store.IndexStore.write_build)")
        index, row = build_local(corpus, lexical, Path(folder), lambda m: say(f"{label}: {m}"))
        say(f"{label}: written in {row['write_s']:.0f} s")
        row.update(measure(index, corpus, reference, label, args.quiet))
        index.dense = None  # the FAISS index's memory goes before the next backend builds
        del index
    return row


def run_postgres(corpus: Corpus, lexical, reference: Reference, args, server: tuple[str | None, str]) -> dict:
    maintenance, how = server
    if maintenance is None:
        return {"skipped": how}
    label = f"postgres {_size_label(corpus.size)}"
    database = f"warta_bench_{_size_label(corpus.size).lower()}_{uuid.uuid4().hex[:8]}"
    from rag.index.pgserver import create_database

    dsn = create_database(maintenance, database)
    index = None
    try:
        say(f"{label}: writing the build into database {database} (rag.index.postgres.PgStore.write_build, "
            "HNSW forced)")
        index, row = build_postgres(corpus, lexical, dsn, database, maintenance, lambda m: say(f"{label}: {m}"))
        say(f"{label}: written in {row['write_s']:.0f} s (graph {row['dense'].get('graph_seconds')} s, "
            f"ef_search {row['dense'].get('efSearch')})")
        row.update(measure(index, corpus, reference, label, args.quiet))
        row["server"] = how
        row["database"] = database if args.keep else None
    finally:
        if index is not None:
            index.close()
        if args.keep:
            say(f"{label}: kept database {database}")
        else:
            from rag.index.pgserver import drop_database

            drop_database(maintenance, database)
    return row


# ----------------------------------------------------------------------------- report

def dense_kind(row: dict) -> str:
    dense = row.get("dense") or {}
    library = "FAISS" if row["backend"] == "local" else "pgvector"
    if dense.get("type") == "hnsw":
        return f"{library} HNSW M={dense.get('M')} efC={dense.get('efConstruction')} ef={dense.get('efSearch')}"
    return f"{library} {dense.get('type', '?')}"


def _p(summary: dict | None) -> str:
    return "-" if not summary else f"{_fmt(summary['p50'], 1)} / {_fmt(summary['p95'], 1)}"


def render(result: dict, level: int = 1) -> str:
    """Markdown; `level` is the title's heading level (eval.bench nests this under its own)."""
    h = "#" * level
    rows = sorted(result["rows"], key=lambda r: (r["size"], BACKENDS.index(r["backend"])))
    env = result["environment"]
    out = [f"{h} Search backends: local and postgres", "",
           f"- CPU: {env['cpu']} ({env['cores']} cores), {env['memory_gb']} GB; load average after the last run "
           f"{env['load_average']}",
           f"- synthetic corpus (eval.synthetic): {PASSAGES_PER_DOCUMENT} passages per document, "
           f"{len(OUTLETS)} outlets, "
           f"{DAYS} days, {ENGLISH_SHARE:.0%} English documents; 384-d vectors; ~{synthetic.MEAN_WORDS} Zipf words "
           "per passage",
           "- one query at a time, warm, k=10; hybrid = Retriever.retrieve(mode='hybrid'): 50 candidates per side, "
           f"convex fusion (dense share {DENSE_SHARE}), the hits' passages and documents read; filtered = outlet "
           f"{FILTER_OUTLET!r} (~{1 / len(OUTLETS):.0%} of the documents)",
           "- recall@10: dense against the exact top 10; overlap: lexical top 10 against bm25s in memory "
           "(LexicalIndex.search), unfiltered and under the outlet filter; a passage tied with bm25s's 10th score "
           "counts as found (both cut the top 10 with argpartition; the JSON also has the overlap without)",
           ""]
    skipped = [r for r in rows if "skipped" in r or "failed" in r]
    for r in skipped:
        out.append(f"- {_size_label(r['size'])} {r['backend']}: " + (f"skipped ({r['skipped']})" if "skipped" in r
                                                                     else f"failed ({r['failed']})"))
    done = [r for r in rows if "dense_ms" in r]
    if not done:
        return "\n".join(out) + "\n"
    out += ["", f"{h}# Build and memory", "",
            "build s = bm25s index (built once, shared) + the backend's write_build; graph s = the HNSW graph alone "
            "(postgres: CREATE INDEX, without the ef_search tuning); on disk = the local build's files, or the "
            "postgres build's tables with TOAST and indexes (the HNSW graph also alone); client = this process's "
            "RSS growth while writing (peak); server = peak RSS of the server's processes on the build's database "
            "(sampled, shared buffers they touched included).", ""]
    out += table(["size", "backend", "dense index", "build s", "of which bm25s", "graph s", "on disk MB",
                  "HNSW MB", "client peak MB", "server peak MB"],
                 [[_size_label(r["size"]), r["backend"], dense_kind(r), _fmt(r.get("build_s"), 1),
                   _fmt(r.get("bm25_s"), 1), _fmt((r.get("dense") or {}).get("graph_seconds"), 1),
                   _fmt(_mb(r["memory"].get("index_bytes") or r["memory"].get("server", {}).get("total_bytes")), 0),
                   _fmt(_mb(r["memory"].get("server", {}).get("hnsw_bytes")), 0),
                   _fmt(_mb(r["memory"].get("peak_growth_bytes")), 0),
                   _fmt(_mb(r["memory"].get("server_peak_rss_bytes")), 0)] for r in done])
    out += ["", f"{h}# Latency (ms, p50 / p95) and agreement", ""]
    out += table(["size", "backend", "queries", "dense", "lexical", "hybrid", "filtered hybrid", "dense recall@10",
                  "lexical overlap", "filtered lexical overlap"],
                 [[_size_label(r["size"]), r["backend"], r["dense_ms"]["n"], _p(r["dense_ms"]), _p(r["lexical_ms"]),
                   _p(r["hybrid_ms"]), _p(r["filtered_hybrid_ms"]), _fmt(r["recall@10"], 4),
                   _fmt(r["lexical_overlap_with_bm25s"], 4), _fmt(r["filtered_lexical_overlap_with_bm25s"], 4)]
                  for r in done])
    out += ["", f"{h}# The keyword side as the corpus grows", "",
            "postings read = the summed document frequencies of a query's analysed terms (both languages' stems), "
            "what the postgres backend fetches and scores per query.", ""]
    smallest = {}
    lines = []
    for r in done:
        first = smallest.setdefault(r["backend"], r)
        growth = r["lexical_ms"]["p95"] / first["lexical_ms"]["p95"] if first["lexical_ms"]["p95"] else None
        lines.append([_size_label(r["size"]), r["backend"], _fmt(r["postings_per_query"]["p50"], 0),
                      _fmt(r["postings_per_query"]["p95"], 0), _p(r["lexical_ms"]),
                      "-" if r is first or growth is None else f"{growth:.1f}x from {_size_label(first['size'])}",
                      "yes" if r["lexical_ms"]["p95"] < LEXICAL_LIMIT_MS else "no"])
    out += table(["size", "backend", "postings read p50", "postings read p95", "lexical p50 / p95",
                  "p95 growth", f"p95 < {LEXICAL_LIMIT_MS} ms"], lines)
    largest = max(r["size"] for r in done)
    for r in (r for r in done if r["size"] == largest and r["backend"] == "postgres"):
        out += ["", f"Slowest postgres lexical queries at {_size_label(largest)} (term: passages holding it):", ""]
        out += [f"- {q['ms']:.1f} ms"
                + (f" ({q['fetch_ms']:.1f} ms of it reading {_mb(q['fetched_bytes']):.1f} MB of postings)"
                   if "fetch_ms" in q else "")
                + f", {q['postings']:,} postings: "
                + ", ".join(f"{t} {df:,}" for t, df in sorted(q["terms"].items(), key=lambda item: -item[1]))
                for q in r["slowest_lexical"]]
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_backends", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="passages (default 10000 100000 1000000)")
    parser.add_argument("--queries", type=int, default=500, help="queries per size and mode (default 500)")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--pg-dsn", help="the PostgreSQL server (a database is created per size); "
                        "default WARTA_PG_DSN, else a private server from rag.index.pgserver")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="folder for bench_backends.json (default eval/out)")
    parser.add_argument("--keep", action="store_true", help="keep each size's postgres database (for inspection)")
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars (the stage lines and the postgres build's progress still print)")
    args = parser.parse_args(argv)
    if min(args.sizes) < 2 * K or args.queries < 1:
        parser.error(f"sizes must be at least {2 * K} and queries at least 1")
    return args


def run(args: argparse.Namespace, write=None) -> dict:
    """Every size for every backend; `write(result)` after each size (the JSON so far)."""
    started = time.perf_counter()
    vocab = synthetic.vocabulary(seed=args.seed)
    result = {"settings": {"sizes": args.sizes, "queries": args.queries, "backends": args.backends, "seed": args.seed,
                           "k": K, "passages_per_document": PASSAGES_PER_DOCUMENT, "filter_outlet": FILTER_OUTLET},
              "rows": [], "environment": None, "wall_seconds": None}
    needs_server = "postgres" in args.backends
    from eval.postgres import server

    with server(args.pg_dsn) if needs_server else contextlib.nullcontext((None, "not asked")) as server:
        if needs_server and server[0] is None:
            say(f"postgres skipped: {server[1]}")
        for n in args.sizes:
            result["rows"] += bench_size(n, args, vocab, server)
            result["environment"] = environment()
            result["wall_seconds"] = round(time.perf_counter() - started, 1)
            if write:
                write(result)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "bench_backends.json"
    try:  # a size run again replaces its rows; other sizes' rows are kept
        base = json.loads(path.read_text(encoding="utf-8")).get("rows", [])
    except (OSError, ValueError):
        base = []

    def write(result: dict) -> None:
        keys = {(r["size"], r["backend"]) for r in result["rows"]}
        full = {**result, "rows": [r for r in base if (r["size"], r["backend"]) not in keys] + result["rows"]}
        path.write_text(json.dumps(full, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(render(full), flush=True)

    run(args, write)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
