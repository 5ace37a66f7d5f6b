"""Scores one retrieval function on a question set: a row of figures per question."""
from __future__ import annotations

import time
from typing import Callable, Sequence

from eval.metrics import (evidence_found, mrr_at_k, ndcg_at_k, normalise_text, recall_at_k,
                          recall_within_chars)

K_VALUES = (1, 3, 5, 10)
# The context a generator can afford (a few hundred tokens): recall within it compares chunk sizes.
CONTEXT_BUDGET_CHARS = 2000
RETRIEVAL_METRICS = ("recall@1", "recall@3", "recall@5", "recall@10", "mrr@10", "ndcg@10", "recall@2000c")

# retrieve(question) -> ([(doc_id, passage text), ...] best first, {stage: milliseconds})
RetrieveFn = Callable[[str], tuple[list[tuple[str, str]], dict]]


def relevance(hit: tuple[str, str], question: dict) -> set:
    """Evidence units a hit covers: snippet indices, or 'gold:<doc id>' for gold_passage_ids."""
    doc_id, text = hit
    units = set(evidence_found(text, question.get("evidence", [])))
    if doc_id in set(question.get("gold_passage_ids") or ()):
        units.add(f"gold:{doc_id}")
    return units


def _needed(question: dict) -> int:
    return len(question.get("evidence", [])) + len(set(question.get("gold_passage_ids") or ()))


def count_relevant(all_passages: Sequence[tuple[str, str]], question: dict) -> int:
    """How many passages of the whole index are relevant (for the ideal ranking of nDCG)."""
    snippets = [normalise_text(s) for s in question.get("evidence", [])]
    gold = set(question.get("gold_passage_ids") or ())
    return sum(1 for doc_id, text in all_passages
               if doc_id in gold or any(s in text for s in snippets))


def score_retrieval(retrieve: RetrieveFn, questions: Sequence[dict], all_passages: Sequence[tuple[str, str]],
                    progress: Callable | None = None) -> list[dict]:
    """One row per answerable question: recall@k, MRR@10, nDCG@10 and per-stage latency."""
    normalised_passages = [(doc_id, normalise_text(text)) for doc_id, text in all_passages]
    rows = []
    iterator = progress(questions) if progress else questions
    for question in iterator:
        started = time.perf_counter()
        hits, timings = retrieve(question["question"])
        timings = {**timings, "total": timings.get("total", (time.perf_counter() - started) * 1000)}
        row = {"id": question["id"], "kind": question["kind"], "lang": question["lang"], "timings_ms": timings}
        if question["answerable"]:
            found = [relevance(hit, question) for hit in hits[:10]]
            relevant = [bool(units) for units in found]
            needed = _needed(question)
            for k in K_VALUES:
                row[f"recall@{k}"] = recall_at_k(found, k, needed)
            row["recall@2000c"] = recall_within_chars(found, [len(text) for _, text in hits[:10]],
                                                      CONTEXT_BUDGET_CHARS, needed)
            row["mrr@10"] = mrr_at_k(relevant, 10)
            row["ndcg@10"] = ndcg_at_k(relevant, 10, count_relevant(normalised_passages, question))
        rows.append(row)
    return rows
