"""Benchmark metrics: small pure functions, each with a worked example.

Relevance: a passage is relevant to a question when it contains one of the question's evidence
snippets (compared after `normalise_text`), or when its document is one of `gold_passage_ids`.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from typing import Iterable, Sequence

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "′": "'", "“": '"', "”": '"', "„": '"', "″": '"',
                         "–": "-", "—": "-", "\u00a0": " "})


def normalise_text(text: str) -> str:
    """NFKC, case-folded, curly quotes and dashes made plain, whitespace collapsed.

    >>> normalise_text("Indonesia’s  entry—through\\n a")
    "indonesia's entry-through a"
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return " ".join(text.split())


def evidence_found(passage_text: str, evidence: Sequence[str]) -> list[int]:
    """Indices of the evidence snippets that `passage_text` contains.

    >>> evidence_found("Direktur Hebei MPA Fengshan Wang, serta", ["direktur hebei mpa fengshan wang", "x"])
    [0]
    """
    haystack = normalise_text(passage_text)
    return [i for i, snippet in enumerate(evidence) if normalise_text(snippet) in haystack]


# --- retrieval ---------------------------------------------------------------------------------
def recall_at_k(found: Sequence[set], k: int, needed: int) -> float:
    """Share of the `needed` evidence units found in the first k results; `found[i]` holds the
    units result i contains.

    >>> recall_at_k([set(), {0}, {0, 1}], k=2, needed=2)   # unit 0 by rank 2, unit 1 only at 3
    0.5
    """
    if needed == 0:
        return 0.0
    covered = set().union(*found[:k]) if found[:k] else set()
    return len(covered) / needed


def recall_within_chars(found: Sequence[set], lengths: Sequence[int], budget: int, needed: int) -> float:
    """Recall over the leading results that fit in `budget` characters (always at least one):
    compares chunkings fairly, since a larger chunk holds more evidence but costs more context.

    >>> recall_within_chars([{0}, {1}], [600, 600], budget=1000, needed=2)   # only the first fits
    0.5
    """
    taken, used = 0, 0
    for length in lengths:
        if taken and used + length > budget:
            break
        taken, used = taken + 1, used + length
    return recall_at_k(found, taken, needed)


def mrr_at_k(relevant: Sequence[bool], k: int = 10) -> float:
    """1 / rank of the first relevant result within k, else 0.

    >>> mrr_at_k([False, False, True, True])
    0.3333333333333333
    """
    for rank, is_relevant in enumerate(relevant[:k], start=1):
        if is_relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(relevant: Sequence[bool], k: int, total_relevant: int) -> float:
    """Binary-gain nDCG@k; the ideal ranking puts all `total_relevant` relevant passages first.

    >>> round(ndcg_at_k([False, True], k=10, total_relevant=1), 4)   # 1/log2(3) / 1
    0.6309
    """
    if total_relevant == 0:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank, r in enumerate(relevant[:k], start=1) if r)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(k, total_relevant) + 1))
    return dcg / ideal


# --- answers -----------------------------------------------------------------------------------
_SCALES = {"ribu": 1e3, "thousand": 1e3, "rb": 1e3, "juta": 1e6, "million": 1e6, "jt": 1e6,
           "miliar": 1e9, "milyar": 1e9, "billion": 1e9, "triliun": 1e12, "trillion": 1e12}
_NUMBER = re.compile(r"(\d+(?:[.,]\d+)*)(\s*(?:%s)\b)?" % "|".join(_SCALES), re.IGNORECASE)


def _number_value(digits: str) -> float:
    """'700,000' and '700.000' -> 700000; '9.3' and '9,3' -> 9.3 (one separator before 1-2 digits
    or 4+ digits is a decimal mark; before exactly three digits, a thousands separator)."""
    groups = re.split(r"[.,]", digits)
    if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
        return float("".join(groups))
    if len(groups) == 2:
        return float(groups[0] + "." + groups[1])
    return float("".join(groups))


def canonical_numbers(text: str) -> str:
    """Numbers rewritten as plain values so formats compare equal.

    >>> canonical_numbers("700 ribu unit"), canonical_numbers("700.000 units"), canonical_numbers("9,3 juta")
    ('700000 unit', '700000 units', '9300000')
    """
    def plain(match: re.Match) -> str:
        value = _number_value(match[1])
        if match[2]:
            value *= _SCALES[match[2].strip().lower()]
        return f"{value:.6f}".rstrip("0").rstrip(".")

    return _NUMBER.sub(plain, text)


def normalise_answer(text: str) -> str:
    """For answer matching: normalised text, numbers canonical, punctuation dropped."""
    text = canonical_numbers(normalise_text(text))
    text = re.sub(r"[^\w\s%.]", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # a full stop goes, a decimal point stays
    return " ".join(text.split())


def gold_containment(answer: str, golds: Iterable[str]) -> bool:
    """Does the answer contain any acceptable answer, after normalisation?

    >>> gold_containment("Ekspor mencapai hampir 700 ribu unit [1]", ["700,000"])
    True
    """
    answer_norm = f" {normalise_answer(answer)} "
    return any(f" {normalise_answer(g)} " in answer_norm for g in golds if g.strip())


def token_f1(answer: str, golds: Iterable[str]) -> float:
    """Best token-overlap F1 against any acceptable answer (SQuAD style).

    >>> round(token_f1("Fengshan Wang, Direktur Hebei MPA", ["Fengshan Wang"]), 3)
    0.571
    """
    predicted = normalise_answer(answer).split()
    best = 0.0
    for gold in golds:
        expected = normalise_answer(gold).split()
        common = sum((Counter(predicted) & Counter(expected)).values())
        if common:
            precision, recall = common / len(predicted), common / len(expected)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def abstention_scores(abstained: Sequence[bool], answerable: Sequence[bool]) -> dict:
    """Precision: of the abstentions, the share on unanswerable questions. Recall: of the
    unanswerable questions, the share abstained on.

    >>> abstention_scores([True, True, False], [False, True, False])
    {'precision': 0.5, 'recall': 0.5}
    """
    pairs = list(zip(abstained, answerable))
    right = sum(1 for a, ok in pairs if a and not ok)
    said = sum(1 for a, _ in pairs if a)
    should = sum(1 for _, ok in pairs if not ok)
    return {"precision": right / said if said else None, "recall": right / should if should else None}


def citation_precision(cited_passage_texts: Sequence[str], evidence: Sequence[str]) -> float | None:
    """Share of citations whose passage contains an evidence snippet (None without citations)."""
    if not cited_passage_texts:
        return None
    return sum(1 for text in cited_passage_texts if evidence_found(text, evidence)) / len(cited_passage_texts)


def quote_fidelity(citations: Sequence[dict], documents: dict[str, str]) -> float | None:
    """Share of citations whose quote is the document text at its offsets, character for character.

    >>> quote_fidelity([{"doc_id": "d", "start": 0, "end": 3, "quote": "abc"}], {"d": "abcdef"})
    1.0
    """
    if not citations:
        return None
    ok = sum(1 for c in citations if documents.get(c["doc_id"], "")[c["start"]:c["end"]] == c["quote"])
    return ok / len(citations)


# --- claims ------------------------------------------------------------------------------------
VERDICTS = ("supported", "contradicted", "not_found")


def confusion_matrix(expected: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, int]]:
    """matrix[expected][predicted] = count.

    >>> confusion_matrix(["supported", "not_found"], ["supported", "supported"])["not_found"]["supported"]
    1
    """
    matrix = {e: {p: 0 for p in VERDICTS} for e in VERDICTS}
    for e, p in zip(expected, predicted):
        matrix[e][p] += 1
    return matrix


def accuracy(expected: Sequence[str], predicted: Sequence[str]) -> float | None:
    pairs = list(zip(expected, predicted))
    return sum(e == p for e, p in pairs) / len(pairs) if pairs else None


def evidence_matches(gold: Sequence[str], quotes: Sequence[str]) -> bool:
    """Whether a cited quote holds a gold evidence snippet, or lies inside one (normalised)."""
    quotes = [normalise_text(q) for q in quotes]
    return any(g in q or q in g for g in map(normalise_text, gold) for q in quotes if q)


# --- latency and breakdowns --------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile, q in [0, 100].

    >>> percentile([10, 20, 30, 40], 50), percentile([10, 20, 30, 40], 95)
    (25.0, 38.5)
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def groups(rows: Sequence[dict], key: str) -> dict[str, list[dict]]:
    """Rows by the value of `key`, after an 'all' group of every row."""
    out = defaultdict(list)
    for row in rows:
        out["all"].append(row)
        out[row[key]].append(row)
    return dict(out)


def by_kind(rows: Sequence[dict], metric_names: Sequence[str], key: str = "kind") -> dict[str, dict[str, float | None]]:
    """Mean of each metric per `kind` (or another `key`), plus 'all'; None values (not applicable) are left out."""
    return {kind: {"n": len(group), **{m: mean(r.get(m) for r in group) for m in metric_names}}
            for kind, group in groups(rows, key).items()}


def answer_outcomes(rows: Sequence[dict]) -> dict:
    """What users meet, from answer rows ({"answerable", "abstained", "gold_containment"}): the
    share of answerable questions answered right (holding an acceptable answer), of answerable
    ones declined, of unanswerable ones answered anyway, the balanced accuracy of answering or
    abstaining, and abstention precision and recall
    (None where the rows hold no unanswerable question, as both then mean nothing).

    >>> answer_outcomes([{"answerable": True, "abstained": False, "gold_containment": 1.0},
    ...                  {"answerable": True, "abstained": True, "gold_containment": 0.0},
    ...                  {"answerable": False, "abstained": False}])["unanswerable_answered"]
    1.0
    """
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    share = lambda group, test: sum(1 for r in group if test(r)) / len(group) if group else None
    scores = abstention_scores([r["abstained"] for r in rows], [r["answerable"] for r in rows])
    declined = share(answerable, lambda r: r["abstained"])
    answered = share(unanswerable, lambda r: not r["abstained"])
    return {"n": len(rows), "answerable": len(answerable), "unanswerable": len(unanswerable),
            "right": mean(r["gold_containment"] for r in answerable) if answerable else None,
            "answerable_declined": declined, "unanswerable_answered": answered,
            # answer/abstain decided right, each half weighted alike whatever their sizes
            "balanced_accuracy": ((1 - declined) + (1 - answered)) / 2 if answerable and unanswerable else None,
            "abstention_precision": scores["precision"] if unanswerable else None,
            "abstention_recall": scores["recall"]}
