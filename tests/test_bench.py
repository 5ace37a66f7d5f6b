"""eval.bench and its synthetic corpora: behaviour, not timings."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from eval import bench, synthetic
from tests.conftest import ROOT


def test_dense_corpus_is_deterministic_normalised_and_shaped():
    a = synthetic.dense_corpus(1200, seed=3)
    assert a.shape == (1200, synthetic.DIM) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a, synthetic.dense_corpus(1200, seed=3))
    assert not np.allclose(a, synthetic.dense_corpus(1200, seed=4))
    # the first rows do not depend on how many are asked for
    assert np.array_equal(a[:100], synthetic.dense_corpus(100, seed=3))
    q = synthetic.dense_queries(a, 50, seed=3)
    assert q.shape == (50, synthetic.DIM) and q.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(q, synthetic.dense_queries(a, 50, seed=3))
    # queries are near passages, and the corpus is not isotropic noise (low-rank topics)
    assert (q @ a.T).max(axis=1).min() > 0.8
    assert np.linalg.svd(a[:1000], compute_uv=False)[:synthetic.TOPICS + 1].sum() ** 2 > \
        0.5 * (np.linalg.svd(a[:1000], compute_uv=False) ** 2).sum()


def test_text_corpus_is_deterministic_zipf_and_uses_real_words():
    texts = synthetic.text_corpus(300, seed=1)
    assert texts == synthetic.text_corpus(300, seed=1) and texts != synthetic.text_corpus(300, seed=2)
    assert synthetic.text_corpus(5000, seed=1)[:300] == texts
    lengths = [len(t.split()) for t in texts]
    assert min(lengths) >= 40 and max(lengths) <= 80 and 55 <= np.mean(lengths) <= 65
    real = set(synthetic.real_words()[:200])
    tokens = [w for t in texts for w in t.split()]
    assert sum(w in real for w in tokens) > 0.3 * len(tokens)
    vocab = synthetic.vocabulary(5000, seed=1)
    assert len(vocab) == len(set(vocab)) == 5000
    queries = synthetic.text_queries(texts, 20, seed=1)
    assert queries == synthetic.text_queries(texts, 20, seed=1)
    assert all(len(q.split()) == 5 and any(set(q.split()) <= set(t.split()) for t in texts) for q in queries)


def test_command_line_tiny_run_writes_json(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "eval.bench", "--sizes", "2000", "--queries", "20", "--no-real",
                           "--no-generation", "--quiet", "--out", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "bench.json").read_text())
    assert set(bench.JSON_KEYS) <= set(result)
    env_info = result["environment"]
    assert env_info["cores"] >= 1 and env_info["faiss_threads"] >= 1 and env_info["versions"]["faiss-cpu"]
    indexes = [r["index"] for r in result["dense"]]
    assert indexes[0] == "Flat (exact)" and any(i.startswith("HNSW") for i in indexes)
    assert "SQ8 (exhaustive)" in indexes and "numpy brute force (peer)" in indexes
    assert sum(1 for r in result["dense"] if r.get("ours")) == 1
    for row in result["dense"]:
        assert row["latency_ms"]["n"] == 20 and row["latency_ms"]["p50"] > 0 and 0 <= row["recall@10"] <= 1
        assert row["index_bytes"] > 0
    assert next(r for r in result["dense"] if r["index"] == "Flat (exact)")["recall@10"] == 1.0
    assert [r["system"].split(":")[0] for r in result["lexical"]] == ["ours", "peer"]
    assert {(c["size"], c["kind"]) for c in result["peers"]} == {(2000, "dense"), (2000, "lexical")}
    assert result["real_corpus"] == result["thread_policy"] == result["first_start"] == {"skipped": "--no-real"}
    assert result["generation"]["status"] == "skipped"
    assert "## Dense" in done.stdout and "## Ours against the naive peers" in done.stdout
    assert list(result["stage_seconds"]) == ["dense 2k", "lexical 2k"] and "(dense 2k " in done.stdout
    assert "Flat (exact)" in done.stdout and "rank-bm25" in done.stdout


def test_rank_bm25_is_skipped_above_its_limit_and_quick_has_no_generation(monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "PEER_LEXICAL_MAX", 1000)
    args = bench.parse_args(["--quick", "--sizes", "1500", "--queries", "10", "--no-dense", "--no-real", "--quiet"])
    result = bench.run(args)
    assert result["settings"]["mode"] == "quick" and result["generation"]["status"] == "skipped"
    assert "skipped" in result["lexical"][1]
    comparison = result["peers"][0]
    assert comparison["peer_p50"] is None and comparison["ours_p50"] > 0
    assert "not run at this size" in bench.render(result)
    assert bench.parse_args(["--quick"]).sizes == [10_000, 100_000]
    assert bench.parse_args([]).sizes == [10_000, 100_000, 1_000_000]


def test_real_corpus_end_to_end_model_free(monkeypatch):
    monkeypatch.setenv("WARTA_EMBEDDING_MODEL", "none")
    monkeypatch.setenv("WARTA_GENERATOR_MODEL", "none")
    real = bench.bench_real(quiet=True)
    assert real["mode"]["model_free"] and real["mode"]["retrieval"] == "lexical"
    assert real["mode"]["answerer"] == "extractive"
    assert real["search_ms"]["n"] == real["ask_ms"]["n"] == real["questions"] > 50
    assert real["search_ms"]["p50"] <= real["search_ms"]["p95"]
    assert real["build_s"] > 0 and real["open_and_build_s"] > 0 and not real["open_includes_onnx_export"]
    assert [g["goal"] for g in real["goals"]] == ["search p50 ≤ 20 ms"] and "encoder" not in real


def test_real_corpus_with_an_encoder_runs_hybrid_and_is_rendered_beside_the_model_free_run(monkeypatch, tiny_model):
    monkeypatch.setenv("WARTA_EMBEDDING_MODEL", "none")
    monkeypatch.setenv("WARTA_GENERATOR_MODEL", "none")
    runs = [bench.bench_real(quiet=True),
            bench.bench_real(True, "tiny encoder, torch", encoder_rounds=1, embedding_model=str(tiny_model),
                             encoder="torch")]
    encoded = runs[1]
    assert encoded["label"] == "tiny encoder, torch" and not encoded["mode"]["model_free"]
    assert encoded["mode"]["retrieval"] == "hybrid" and encoded["mode"]["encoder"] == "torch"
    assert encoded["search_ms"]["n"] == encoded["ask_ms"]["n"] == encoded["questions"]
    assert [g["goal"] for g in encoded["goals"]] == ["ask p50 ≤ 60 ms", "index from nothing ≤ 20 s"]
    assert encoded["encoder"]["query_ms"]["n"] == encoded["questions"]
    assert encoded["encoder"]["passages"] >= bench.THROUGHPUT_PASSAGES and encoded["encoder"]["passages_per_s"] > 0
    text = bench.render({"environment": bench.environment(), "settings": {"mode": "quick", "sizes": [], "queries": 0,
                                                                         "seed": 0, "load_before": None},
                         "notes": [], "dense": [], "lexical": [], "peers": [], "real_corpus": runs,
                         "thread_policy": None, "first_start": {"skipped": "--quick"},
                         "generation": {"status": "skipped", "why": "--quick"}, "wall_seconds": 1.0})
    rows = [line for line in text.splitlines() if line.startswith("| configured") or line.startswith("| tiny")]
    assert len(rows) == 3 and "lexical (model-free)" in rows[0] and "| hybrid" in rows[1] and "| torch" in rows[1]
    assert "search p50 ≤ 20 ms: " in rows[0] and "ask p50 ≤ 60 ms: " in rows[1]
    assert "### The embedding model alone" in text and rows[2].startswith("| tiny encoder, torch | torch")
    assert "## First start" in text and "skipped (--quick)" in text


def test_generation_hook_runs_the_four_configurations_or_says_why_it_failed(monkeypatch):
    from eval import generation_speed

    calls = []

    def fake(prompt_tokens, new_tokens, dtype, cached_prefix, **kwargs):
        calls.append((dtype, cached_prefix))
        return {"ttft_s": 1.0, "tokens_per_s": 10.0, "dtype": dtype, "cached_prefix": cached_prefix}

    monkeypatch.setattr(generation_speed, "measure_generation", fake)
    hook = bench.generation_hook(quiet=True)
    assert hook["status"] == "ok" and len(hook["figures"]) == len(calls) == 4
    assert set(calls) == {("fp32", False), ("fp32", True), ("bf16", False), ("bf16", True)}

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(generation_speed, "measure_generation", broken)
    assert bench.generation_hook(quiet=True) == {"status": "failed",
                                                 "why": "measure_generation raised RuntimeError: out of memory"}


def test_busy_core_is_a_separate_process_killed_on_exit():
    from eval.thread_policy import busy_core

    with busy_core(60) as pid:
        assert pid != os.getpid() and os.path.exists(f"/proc/{pid}")
    assert not os.path.exists(f"/proc/{pid}")


def test_thread_policy_worker_runs_the_bundled_model_with_the_policy_and_threads_asked_for(bundled_model):
    from eval.thread_policy import measure

    row = measure("PASSIVE", 1, True, queries=4)
    assert row["query_ms"]["n"] == 4 and row["query_ms"]["p50"] > 0, row
    assert row["omp_wait_policy"] == "PASSIVE" and row["torch_threads"] == 1 and row["competitor"]
    failed = {"policy": "ACTIVE", "threads": 2, "competitor": True, "failed": "no result within 300 s"}
    text = "\n".join(bench.render_threads([row, failed]))
    assert "| PASSIVE" in text and "failed: no result within 300 s" in text
