"""Scores one retrieval function on a question set: a row of figures per question."""
from __future__ import annotations

import time
from functools import cached_property
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
    units = set(evidence_found(text, question["evidence"])) if question["evidence"] else set()
    if doc_id in question["gold_passage_ids"]:
        units.add(f"gold:{doc_id}")
    return units


def _needed(question: dict) -> int:
    return len(question["evidence"]) + len(set(question["gold_passage_ids"]))


def gains(hits: Sequence[tuple[str, str]], question: dict) -> list[bool]:
    """Binary gain per hit for MRR and nDCG. A gold document is one relevant item however many
    passages it was cut into: its best-ranked passage is the hit, its other passages gain nothing
    (and are not in the ideal ranking, see count_relevant). Elsewhere a passage is relevant when it
    holds an evidence snippet, passage by passage, as our own set has always been scored.

    >>> q = {"evidence": [], "gold_passage_ids": ["g"]}
    >>> gains([("x", "a"), ("g", "b"), ("g", "c")], q)
    [False, True, False]
    """
    gold, credited, out = set(question["gold_passage_ids"]), set(), []
    for doc_id, text in hits:
        if doc_id in gold:
            out.append(doc_id not in credited)
            credited.add(doc_id)
        else:
            out.append(bool(question["evidence"] and evidence_found(text, question["evidence"])))
    return out


class Passages:
    """All passages a system can return, as the ideal ranking of nDCG needs them."""

    def __init__(self, passages: Sequence[tuple[str, str]]) -> None:
        self.passages = passages
        self.doc_ids = {doc_id for doc_id, _ in passages}

    @cached_property
    def normalised(self) -> list[tuple[str, str]]:
        # only sets with evidence snippets pay for this (a scan per question, fine at our size)
        return [(doc_id, normalise_text(text)) for doc_id, text in self.passages]


def count_relevant(passages: Passages, question: dict) -> int:
    """Relevant items in the whole index (for the ideal ranking of nDCG): each gold document
    present once, plus each passage of another document that holds an evidence snippet."""
    gold = set(question["gold_passage_ids"])
    count = len(gold & passages.doc_ids)
    if question["evidence"]:
        snippets = [normalise_text(s) for s in question["evidence"]]
        count += sum(1 for doc_id, text in passages.normalised
                     if doc_id not in gold and any(s in text for s in snippets))
    return count


def score_retrieval(retrieve: RetrieveFn, questions: Sequence[dict], all_passages: Sequence[tuple[str, str]],
                    progress: Callable | None = None) -> list[dict]:
    """One row per question: recall@k, MRR@10 and nDCG@10 when it is answerable; per-stage latency."""
    passages = Passages(all_passages)
    rows = []
    iterator = progress(questions) if progress else questions
    for question in iterator:
        started = time.perf_counter()
        hits, timings = retrieve(question["question"])
        timings = {**timings, "total": timings.get("total", (time.perf_counter() - started) * 1000)}
        row = {"id": question["id"], "question": question["question"], "kind": question["kind"],
               "lang": question["lang"], "timings_ms": timings}
        if question["answerable"]:
            found = [relevance(hit, question) for hit in hits[:10]]
            needed = _needed(question)
            for k in K_VALUES:
                row[f"recall@{k}"] = recall_at_k(found, k, needed)
            row["recall@2000c"] = recall_within_chars(found, [len(text) for _, text in hits[:10]],
                                                      CONTEXT_BUDGET_CHARS, needed)
            relevant = gains(hits[:10], question)
            row["mrr@10"] = mrr_at_k(relevant, 10)
            row["ndcg@10"] = ndcg_at_k(relevant, 10, count_relevant(passages, question))
        rows.append(row)
    return rows
