"""How much of a question a text covers: the IDF-weighted share of the question's content words
it contains.

Words are compared after the lexical analysis (rag.search.analysis), each question word in both
its Indonesian and its English stem, so "ekspor" meets "export" and names and numbers meet as
written. What kind of answer the question asks for comes from rag.evidence.kinds.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rag.evidence.kinds import asked_kind, capitalised_words, without_question_words
from rag.search.analysis import query_term_sets

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A question word the corpus never uses counts half: it may be the other language's word for
# something the corpus says, or the very thing the corpus is silent on.
UNSEEN_WEIGHT = 0.5


class TermWeights:
    """Inverse document frequency of analysed terms over the indexed passages, from the index's
    own term statistics (rag.search.backend: `term_statistics()`)."""

    def __init__(self, passages: int, document_frequencies) -> None:
        self.n = max(1, passages)
        self._df = document_frequencies
        self.unseen = self._idf(0) * UNSEEN_WEIGHT

    def _idf(self, df: int) -> float:
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def weight(self, stems: set[str]) -> float:
        seen = [self._df[s] for s in stems if self._df.get(s)]
        return self._idf(max(seen)) if seen else self.unseen


@dataclass(frozen=True)
class QuestionWords:
    """A question's content words (question words taken out), each as the set of terms that
    stand for it (its stems in both languages)."""

    stems: tuple[frozenset, ...]
    asks: str | None  # one of rag.evidence.kinds.KINDS, or None
    names: tuple[str, ...] = ()  # its capitalised words and numbers, case-folded

    @classmethod
    def of(cls, question: str, translate: bool = False) -> "QuestionWords":
        """`translate`: each word also stands for its glossary translations (the fact checker's
        comparison of a claim with evidence in the other language)."""
        content = without_question_words(question)
        unique = tuple(dict.fromkeys(frozenset(terms) for terms in query_term_sets(content, translate=translate)))
        names = {w.casefold() for w in capitalised_words(content)} | set(_NUMBER.findall(content))
        return cls(unique, asked_kind(question), tuple(sorted(names)))


def coverage(question: QuestionWords, sentence_terms: set[str], weights: TermWeights) -> float:
    """IDF-weighted share of the question's words found in the sentence, in [0, 1]."""
    if not question.stems:
        return 0.0
    total = found = 0.0
    for stems in question.stems:
        w = weights.weight(stems)
        total += w
        if stems & sentence_terms:
            found += w
    return found / total


def rarest_missing(question: QuestionWords, terms: set[str], weights: TermWeights) -> float:
    """How rare the rarest question word missing from `terms` is, as a share of the rarest
    question word's weight (0 when none is missing): a passage that lacks the question's most
    specific word is seldom about what it asks."""
    weights_of = [weights.weight(stems) for stems in question.stems]
    missing = [w for stems, w in zip(question.stems, weights_of) if not stems & terms]
    return max(missing) / max(weights_of) if missing else 0.0
