"""Metrics on hand-computed cases (the arithmetic is in the comments)."""
import math

import pytest

from eval.evaluate import Passages, count_relevant, relevance
from eval.metrics import (abstention_scores, accuracy, by_kind, citation_precision, confusion_matrix,
                          evidence_found, gold_containment, mrr_at_k, ndcg_at_k, percentile, quote_fidelity,
                          recall_at_k, recall_within_chars, token_f1)


def test_recall_counts_evidence_units():
    found = [set(), {0}, set(), {1}]           # unit 0 at rank 2, unit 1 at rank 4; 2 needed
    assert recall_at_k(found, 1, 2) == 0.0
    assert recall_at_k(found, 3, 2) == 0.5     # 1 of 2
    assert recall_at_k(found, 5, 2) == 1.0
    assert recall_at_k([], 5, 1) == 0.0


def test_recall_within_a_character_budget():
    found = [{0}, set(), {1}]
    assert recall_within_chars(found, [900, 900, 900], budget=2000, needed=2) == 0.5  # 900+900 fit, 3rd not
    assert recall_within_chars(found, [400, 400, 400], budget=2000, needed=2) == 1.0
    assert recall_within_chars(found, [2500, 10, 10], budget=2000, needed=2) == 0.5   # the first always counts


def test_mrr():
    assert mrr_at_k([False, True, True]) == 0.5
    assert mrr_at_k([False] * 10 + [True]) == 0.0   # rank 11 is beyond @10
    assert mrr_at_k([]) == 0.0


def test_ndcg():
    # relevant at ranks 1 and 3, 2 relevant overall: DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3)
    expected = 1.5 / (1 + 1 / math.log2(3))
    assert ndcg_at_k([True, False, True], 10, 2) == pytest.approx(expected)
    assert ndcg_at_k([True], 10, 1) == 1.0
    assert ndcg_at_k([False, False], 10, 0) == 0.0


def test_relevance_is_normalised_and_uses_gold_ids():
    question = {"evidence": ["Indonesia’s entry—through a"], "gold_passage_ids": ["doc-9"]}
    assert relevance(("doc-1", "text: Indonesia's  entry-through a locally"), question) == {0}
    assert relevance(("doc-9", "nothing"), question) == {"gold:doc-9"}
    # the gold document once (however many passages it has), and the passage holding the snippet
    passages = Passages([("doc-9", "x"), ("doc-9", "z"), ("doc-2", "Indonesia's entry-through a"), ("doc-3", "y")])
    assert count_relevant(passages, question) == 2


def test_evidence_found_returns_indices():
    assert evidence_found("A  B\nC", ["a b c", "d", "b c"]) == [0, 2]


@pytest.mark.parametrize("answer,golds,expected", [
    ("Nearly 700.000 units [1]", ["700,000"], True),
    ("hampir 700 ribu unit", ["700,000"], True),
    ("9,3 juta unit pada 2030", ["9.3 million"], True),
    ("900,000 units", ["700,000"], False),
    ("In 2023 [1].", ["2023"], True),
    ("12023", ["2023"], False),                    # whole tokens only
    ("Fengshan Wang", ["fengshan wang"], True),
    ("", ["x"], False),
])
def test_gold_containment(answer, golds, expected):
    assert gold_containment(answer, golds) is expected


def test_token_f1():
    # predicted: fengshan wang direktur hebei mpa (5); gold: fengshan wang (2); common 2
    # P = 2/5, R = 1, F1 = 2*0.4*1/1.4 = 0.5714
    assert token_f1("Fengshan Wang, Direktur Hebei MPA", ["Fengshan Wang"]) == pytest.approx(0.5714, abs=1e-4)
    assert token_f1("nothing here", ["Fengshan Wang"]) == 0.0
    assert token_f1("700.000 unit", ["700,000 units", "700 ribu unit"]) == 1.0  # best gold counts


def test_abstention():
    # abstained on q1 (unanswerable, right), q2 (answerable, wrong); q3 unanswerable, answered
    scores = abstention_scores([True, True, False], [False, True, False])
    assert scores == {"precision": 0.5, "recall": 0.5}
    assert abstention_scores([False], [True]) == {"precision": None, "recall": None}


def test_citation_precision_and_quote_fidelity():
    assert citation_precision(["has the evidence here", "nothing"], ["the evidence"]) == 0.5
    assert citation_precision([], ["x"]) is None
    docs = {"d": "Kalbe Farma dan CSPC"}
    citations = [{"doc_id": "d", "start": 0, "end": 11, "quote": "Kalbe Farma"},
                 {"doc_id": "d", "start": 0, "end": 5, "quote": "Kalbe Farma"},
                 {"doc_id": "missing", "start": 0, "end": 1, "quote": "K"}]
    assert quote_fidelity(citations, docs) == pytest.approx(1 / 3)


def test_claim_metrics():
    expected = ["supported", "contradicted", "not_found", "contradicted"]
    predicted = ["supported", "supported", "not_found", "contradicted"]
    assert accuracy(expected, predicted) == 0.75
    matrix = confusion_matrix(expected, predicted)
    assert matrix["contradicted"] == {"supported": 1, "contradicted": 1, "not_found": 0}
    assert sum(sum(row.values()) for row in matrix.values()) == 4


def test_percentiles():
    # sorted 10,20,30,40: p50 at position 1.5 -> 25; p95 at 2.85 -> 30 + 0.85*10 = 38.5
    assert percentile([40, 10, 30, 20], 50) == 25.0
    assert percentile([40, 10, 30, 20], 95) == pytest.approx(38.5)
    assert percentile([], 50) is None


def test_breakdown_by_kind_skips_missing_values():
    rows = [{"kind": "id-id", "m": 1.0}, {"kind": "id-id", "m": 0.0}, {"kind": "en-id", "m": None}]
    result = by_kind(rows, ["m"])
    assert result["id-id"] == {"n": 2, "m": 0.5}
    assert result["en-id"] == {"n": 1, "m": None}
    assert result["all"] == {"n": 3, "m": 0.5}


def test_importing_metrics_does_not_load_torch():
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = "import sys, eval.metrics, eval.datasets; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True).stdout.strip() == "False"
