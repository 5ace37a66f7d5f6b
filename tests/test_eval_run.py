"""python -m eval.run end to end, on our set and on an external one (docs/design.md, "Benchmark files" and "Benchmark output")."""
import json
import os
import subprocess
import sys

from tests.conftest import MISSING_MODEL, ROOT
from tests.design_doc import names, row_keys

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
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert markdown.startswith("# Warta benchmark")
    # answer quality is what the reader meets first, in the tables and in the pictures
    assert markdown.index("## Answers: what a user gets") < markdown.index("## Retrieval")
    assert markdown.index("(answers.png)") < markdown.index("(recall.png)")
    for picture in ("answers.png", "recall.png"):
        assert (tmp_path / "out" / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


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
    sections = [line for line in out.stdout.splitlines() if line.startswith("## ")]
    assert sections[:4] == ["## Answers: what a user gets", "## Answers by kind", "## Claims",
                            "## Retrieval (answerable questions)"]
    _report_is_as_documented(report)


def _report_is_as_documented(report: dict) -> None:
    """report.json has the keys docs/design.md ("Benchmark output") lists, and every
    per-question row the text it scores, as in the input files."""
    assert list(report) == names("Benchmark output", "`report.json` top-level keys:")
    outcome_keys = set(names("Benchmark output", "`outcomes[answerer][language]` keys:"))
    assert all(set(o) == outcome_keys for by_lang in report["outcomes"].values() for o in by_lang.values())
    texts = {field: {r["id"]: r[field] for r in map(json.loads, (ROOT / "eval" / f"{field}s.jsonl").read_text(
             encoding="utf-8").splitlines())} for field in ("question", "claim")}
    for system, rows in report["per_question"].items():
        kind = "claim rows" if system == "claims" else "answer rows" if "answer" in rows[0] else "retrieval rows"
        always, sometimes = row_keys(kind)
        field = "claim" if system == "claims" else "question"
        for row in rows:
            assert always <= set(row) <= always | sometimes, (system, set(row) ^ always)
            assert row[field] == texts[field][row["id"]], (system, row["id"])


def test_invalid_questions_file_is_named(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q1", "question": "x", "lang": "id"}\n', encoding="utf-8")
    out = _run("--questions", str(bad), tmp_path=tmp_path)
    assert out.returncode == 1
    assert f'{bad}:1: missing field "answers"' in out.stderr


def test_answers_plot_marks_what_means_nothing(tmp_path):
    """A set without unanswerable questions (FacQA), in one language: a share that means nothing
    (None) is drawn as 'n/a', not as a bar of 0 that would read as perfect, and does not break the plot."""
    import doctest

    from eval import plots, report

    assert doctest.testmod(report).failed == 0
    outcome = {"n": 3, "answerable": 3, "unanswerable": 0, "right": 2 / 3, "answerable_declined": 0.0,
               "unanswerable_answered": None}
    result = {"set": "facqa_valid/questions", "outcomes": {"warta": {"all": outcome, "id": outcome},
                                                           "baseline": {"all": outcome, "id": outcome}}}
    path = tmp_path / "answers.png"
    plots.answers(result, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
