"""Public QA sets as they come (../shared/devdata shape, built here: tests never read /work/shared):
passages {"id","title","text","lang"}, questions without `evidence` or `kind`, gold documents cut
into several passages, unanswerable questions."""
import doctest
import json
import math
import os
import subprocess
import sys

import pytest

import eval.datasets
import eval.evaluate
import eval.metrics
from eval.datasets import fill_kinds, load_questions
from eval.evaluate import score_retrieval
from eval.metrics import ndcg_at_k
from tests.conftest import ROOT

# Three paragraphs of about 450 characters: the 500-character chunker cuts this document in three.
LONG = "\n\n".join([
    "Pelabuhan Tanjung Emas di Semarang melayani kapal barang dari seluruh Jawa Tengah. " * 5,
    "Pemerintah kota membangun tanggul laut sepanjang tiga kilometer untuk menahan banjir rob. " * 5,
    "Gubernur meresmikan terminal penumpang baru yang mampu menampung dua ribu orang setiap hari. " * 5,
])
PASSAGES = [
    {"id": "dev-p-long", "title": "", "text": LONG, "lang": "id"},
    {"id": "dev-p-1", "title": "", "lang": "id",
     "text": "Candi Borobudur dibangun pada abad kedelapan oleh wangsa Syailendra di Magelang."},
    {"id": "dev-p-2", "title": "", "lang": "id",
     "text": "Danau Toba di Sumatera Utara terbentuk dari letusan gunung api purba."},
    {"id": "dev-p-en", "title": "", "lang": "en",
     "text": "The Komodo dragon is the largest living lizard and lives on the island of Komodo."},
]
QUESTIONS = [
    {"id": "dev:1", "question": "Siapa yang membangun Candi Borobudur?", "lang": "id", "answers": ["wangsa Syailendra"],
     "gold_passage_ids": ["dev-p-1"], "answerable": True, "source_passage_id": "dev-p-1"},
    {"id": "dev:2", "question": "Berapa orang yang mampu ditampung terminal penumpang baru?", "lang": "id",
     "answers": ["dua ribu orang"], "gold_passage_ids": ["dev-p-long"], "answerable": True,
     "source_passage_id": "dev-p-long"},
    {"id": "dev:3", "question": "Kapan Candi Borobudur dipugar oleh UNESCO?", "lang": "id", "answers": [],
     "gold_passage_ids": [], "answerable": False, "source_passage_id": "dev-p-1"},
    {"id": "dev:4", "question": "Berapa kedalaman Danau Toba?", "lang": "id", "answers": [],
     "gold_passage_ids": [], "answerable": False, "source_passage_id": "dev-p-2"},
    {"id": "dev:5", "question": "Where does the Komodo dragon live?", "lang": "en", "answers": ["Komodo"],
     "gold_passage_ids": ["dev-p-en"], "answerable": True, "source_passage_id": "dev-p-en"},
]


@pytest.fixture
def devdata(tmp_path):
    folder = tmp_path / "dev_valid"
    folder.mkdir()
    for name, rows in (("passages", PASSAGES), ("questions", QUESTIONS)):
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                              encoding="utf-8")
    return folder


def _run(folder, tmp_path, *args, model="none"):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WARTA_EMBEDDING_MODEL": model, "WARTA_GENERATOR_MODEL": "none"}
    out = subprocess.run([sys.executable, "-m", "eval.run", "--corpus", str(folder / "passages.jsonl"),
                          "--questions", str(folder / "questions.jsonl"), "--out", str(tmp_path / "out"), *args],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return out, json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))


def test_the_files_load_unchanged(devdata):
    questions = load_questions(devdata / "questions.jsonl")
    assert [q["id"] for q in questions] == [q["id"] for q in QUESTIONS]
    assert all(q["evidence"] == [] and q["kind"] is None for q in questions)
    missing = fill_kinds(questions, {p["id"]: p["lang"] for p in PASSAGES})
    assert missing == []
    assert [q["kind"] for q in questions] == ["id-id", "id-id", "id-id", "id-id", "en-en"]


def test_a_gold_document_counts_once_in_ndcg():
    """The gold document is cut into three passages, ranked 2nd, 3rd and 4th."""
    question = {"id": "q", "question": "?", "lang": "id", "kind": "id-id", "answerable": True,
                "evidence": [], "gold_passage_ids": ["g"]}
    ranking = [("x", "other"), ("g", "part 1"), ("g", "part 2"), ("g", "part 3")]
    row, = score_retrieval(lambda text: (ranking, {}), [question], ranking)
    # Document level: one hit at rank 2, one relevant item: nDCG = (1/log2 3) / 1.
    assert row["ndcg@10"] == pytest.approx(1 / math.log2(3))
    # Counting every passage would give (1/log2 3 + 1/2 + 1/log2 5) / (1 + 1/log2 3 + 1/2) = 0.733.
    per_passage = ndcg_at_k([False, True, True, True], 10, 3)
    assert per_passage == pytest.approx(0.733, abs=1e-3) and row["ndcg@10"] != pytest.approx(per_passage)
    assert (row["mrr@10"], row["recall@1"], row["recall@3"]) == (0.5, 0.0, 1.0)


def test_evaluation_modules_doctests():
    for module in (eval.datasets, eval.evaluate, eval.metrics):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_devdata_shaped_set_end_to_end(devdata, tmp_path):
    out, report = _run(devdata, tmp_path)
    assert report["counts"] == {"questions": 5, "answerable": 3, "documents": 4, "passages": 6}
    # the user's view comes first, and counts the unanswerable questions per language
    first_table = next(line for line in out.stdout.splitlines() if line.startswith("|"))
    assert "answers right" in first_table and "unanswerable answered" in first_table
    outcomes = report["outcomes"]["warta extractive (lexical)"]
    assert {lang: (o["answerable"], o["unanswerable"]) for lang, o in outcomes.items()} == {
        "all": (3, 2), "id": (2, 2), "en": (1, 0)}
    assert outcomes["en"]["abstention_recall"] is None and outcomes["id"]["abstention_recall"] is not None
    # dense and hybrid are named, with the reason they did not run
    assert report["retrieval"]["warta hybrid"] == {"unavailable": "the embedding model is turned off "
                                                                   "(WARTA_EMBEDDING_MODEL=none)"}
    assert "| warta dense " in out.stdout and "unavailable: the embedding model is turned off" in out.stdout
    lexical = {r["id"]: r for r in report["per_question"]["warta lexical"]}
    assert lexical["dev:2"]["recall@10"] == 1.0 and "recall@1" not in lexical["dev:3"]
    for rows in report["per_question"].values():
        assert all(row["question"] for row in rows)
    assert "answers:" in out.stderr and "warta lexical:" in out.stderr  # progress bars, on stderr


def test_mode_applies_to_answers(devdata, tmp_path, tiny_model):
    out, report = _run(devdata, tmp_path, "--mode", "dense", "--limit", "4", "--seed", "1", model=str(tiny_model))
    assert report["answer_retrieval"] == {"requested": "dense", "used": "dense", "reason": None}
    assert set(report["retrieval"]) == {"warta dense", "baseline lexical", "baseline dense"}
    assert report["counts"]["questions"] == 4 and report["sample"] == "a random 4 of 5 (seed 1)"
    stages = report["latency"]["warta extractive (dense) (ask)"]
    assert "dense" in stages and "lexical" not in stages  # the answers' own retrieval was dense
    assert "answers and claims use dense retrieval" in out.stdout
