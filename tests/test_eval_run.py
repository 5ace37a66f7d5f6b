"""python -m eval.run end to end, on our set and on an external one (docs/design.md, "Benchmark files" and "Benchmark output")."""
import json
import os
import subprocess
import sys

from tests.conftest import MISSING_MODEL, ROOT

DATA = ROOT / "tests" / "data"


def _run(*args, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WARTA_EMBEDDING_MODEL": MISSING_MODEL}
    return subprocess.run([sys.executable, "-m", "eval.run", *args, "--out", str(tmp_path / "out")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)


def _index_state():
    index = ROOT / "index"
    return sorted((p.relative_to(index).as_posix(), p.stat().st_mtime_ns) for p in index.rglob("*")) if index.exists() else []


def test_external_corpus_and_questions(tmp_path):
    before = _index_state()
    out = _run("--corpus", str(DATA / "external_corpus.jsonl"), "--questions", str(DATA / "external_questions.jsonl"),
               tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert _index_state() == before  # index/ is never touched
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["counts"] == {"questions": 6, "answerable": 5, "documents": 6, "passages": 6}
    rows = {r["id"]: r for r in report["per_question"]["warta lexical"]}
    # gold_passage_ids name the JSONL ids, and each question in its passage's language finds it
    # first. x3 asks in Indonesian about an English passage: model-free retrieval does not translate
    # (README, "How answers are chosen"); the multilingual model's retrieval is tested in
    # tests/test_bundled_model.py.
    assert {q: rows[q]["recall@1"] for q in ("x1", "x2", "x4", "x5")} == dict.fromkeys(("x1", "x2", "x4", "x5"), 1.0)
    assert "recall@1" in rows["x3"]
    assert "recall@1" not in rows["x6"]  # unanswerable: no retrieval score
    baseline = {r["id"]: r for r in report["per_question"]["baseline lexical"]}
    assert baseline["x3"]["recall@1"] == 0.0
    quotes = report["answers"]["warta extractive (lexical)"]["all"]["quote_fidelity"]
    assert quotes == 1.0
    assert "| warta lexical" in out.stdout and "| baseline lexical" in out.stdout
    assert (tmp_path / "out" / "report.md").read_text().startswith("# Warta benchmark")
    assert (tmp_path / "out" / "recall.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_our_set_in_model_free_mode(tmp_path):
    out = _run(tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert {n for n, b in report["retrieval"].items() if "all" in b} == {"warta lexical", "baseline lexical"}
    assert {n for n, b in report["retrieval"].items() if "unavailable" in b} == {"warta dense", "warta hybrid",
                                                                                 "baseline dense"}
    assert any("dense and hybrid retrieval not run: model-free mode" in n for n in report["notes"])
    assert report["answer_retrieval"]["used"] == "lexical" and report["claims"]["by_lang"]["all"]["n"] > 0
    kinds = set(report["retrieval"]["warta lexical"])
    assert {"all", "id-id", "en-en", "en-id", "id-en", "multi"} <= kinds
    assert report["comparison"] == ["warta lexical", "baseline lexical"]
    assert "## warta lexical against the baseline lexical" in out.stdout


def test_invalid_questions_file_is_named(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q1", "question": "x", "lang": "id"}\n', encoding="utf-8")
    out = _run("--questions", str(bad), tmp_path=tmp_path)
    assert out.returncode == 1
    assert f'{bad}:1: missing field "answers"' in out.stderr
