"""What is measured of each candidate answer sentence: features that mean the same on any corpus.

Every sentence of the retrieved passages is a candidate. Its features, in `FEATURES` order:

- `cos`, `cos_gap`: the multilingual embedding similarity of question and sentence, and how far
  it is below the best candidate's (0 for the best). This is what lets an English question find
  its answer in an Indonesian sentence. 0 in model-free mode.
- `cov_gap`: how far the IDF-weighted share of the question's words in the sentence is below the
  best candidate's.
- `cov_context`: that share over the sentence and the sentence before it: a sentence that refers
  back ("It was founded in 1998") inherits its paragraph's subject.
- `cov_passage`: the share in the whole passage.
- `pairs`: the share of the question's adjacent word pairs that stand adjacent in the sentence.
- `missing_rare`: how rare the rarest question word missing from the passage is, relative to the
  question's rarest word: 0 when none is missing.
- `missing_names`: the share of the question's names and numbers the passage does not contain.
- `refers_back`: the sentence opens with a pronoun or "X itu/tersebut".
- `asks_known`, `holds_number`, `holds_date`, `holds_name`, `lacks`: the question asks for a
  number, date, person, place or name; the sentence holds the kind asked for (one feature per
  kind); it does not.
- `first`, `rank`, `score`: the sentence opens its passage; 1 / the passage's retrieval rank; the
  passage's retrieval score over the best passage's.
- `length`: log of the sentence's word count.

Lexical features compare words, which only means something within one language; a candidate in
another language than the question is scored by the model fitted without them (rag.answer.model).
Document titles are left out: the public QA sets the models are fitted on have none. The share
itself and the previous sentence's similarity were measured too and left out: collinear with
`cov_gap`, `cov_context` and `cos`, and the models did as well without them on validation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rag.evidence.kinds import NEEDS, holds_asked
from rag.evidence.records import Evidence, SentenceRecord
from rag.evidence.weights import QuestionWords, TermWeights, coverage, rarest_missing
from rag.search.retrieval import Hit

FEATURES = ("cos", "cos_gap", "cov_gap", "cov_context", "cov_passage", "pairs", "missing_rare", "missing_names",
            "refers_back", "asks_known", "holds_number", "holds_date", "holds_name", "lacks", "first", "rank",
            "score", "length")
SEMANTIC = ("cos", "cos_gap")
LEXICAL = ("cov_gap", "cov_context", "cov_passage", "pairs", "missing_rare")


@dataclass(frozen=True, eq=False)
class Candidate:
    hit: Hit
    record: SentenceRecord
    features: np.ndarray  # in FEATURES order
    probability: float = 0.0  # of holding the answer, once a model has scored it (rag.answer.extractive)

    @property
    def start(self) -> int:
        return self.record.start

    @property
    def end(self) -> int:
        return self.record.end

    @property
    def text(self) -> str:
        return self.record.text


def adjacent_pairs(question: QuestionWords, words: tuple[str, ...]) -> float:
    """Share of the question's adjacent word pairs found adjacent (in order) in `words`."""
    pairs = list(zip(question.stems, question.stems[1:]))
    if not pairs:
        return 0.0
    found = sum(1 for a, b in pairs if any(x in a and y in b for x, y in zip(words, words[1:])))
    return found / len(pairs)


def candidates(question: QuestionWords, question_vector: np.ndarray | None, hits: list[Hit],
               evidence: Evidence, weights: TermWeights) -> list[Candidate]:
    """The retrieved passages' sentences (headings left out), with their features."""
    rows: list[tuple[Hit, SentenceRecord, list[float]]] = []
    shares: list[float] = []
    sentences: list[SentenceRecord] = []
    top_score = max((h.score for h in hits), default=0.0)
    need = NEEDS.get(question.asks)
    for hit in hits:
        records = evidence.of(hit)
        cov_passage = coverage(question, records.terms, weights)
        rare = rarest_missing(question, records.terms, weights)
        text = hit.passage.text.casefold()
        names_missing = (sum(1 for n in question.names if n not in text) / len(question.names)
                         if question.names else 0.0)
        previous = frozenset()
        for record in records.sentences:
            if not record.heading:
                holds = holds_asked(question.asks, record.kinds)
                shares.append(coverage(question, record.terms, weights))
                rows.append((hit, record, [
                    0.0, 0.0, 0.0, coverage(question, record.terms | previous, weights), cov_passage,
                    adjacent_pairs(question, record.words), rare, names_missing, float(record.refers_back),
                    float(holds is not None), float(need == "number" and holds is True),
                    float(need == "date" and holds is True), float(need == "name" and holds is True),
                    float(holds is False), float(record.index == 0), 1.0 / hit.rank,
                    hit.score / top_score if top_score > 0 else 0.0, math.log1p(len(record.text.split()))]))
                sentences.append(record)
            previous = record.terms
    if not rows:
        return []
    matrix = np.array([r[2] for r in rows], dtype=np.float64)
    if question_vector is not None:
        vectors = evidence.embeddings(sentences)
        if vectors is not None:
            matrix[:, 0] = vectors @ question_vector.astype(np.float32)
    matrix[:, 1] = matrix[:, 0] - matrix[:, 0].max()
    matrix[:, 2] = np.array(shares) - max(shares)
    return [Candidate(hit, record, row) for (hit, record, _), row in zip(rows, matrix)]
