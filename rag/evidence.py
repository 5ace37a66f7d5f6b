"""How well a sentence answers a question: the IDF-weighted share of the question's content
words it contains, with a bonus when it holds the kind of thing asked for (a number for "berapa",
a year for "kapan", a name for "siapa").

Words are compared after the lexical analysis (rag.analysis), each question word in both its
Indonesian and its English stem, so "ekspor" meets "export" and names and numbers meet as written.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from rag.analysis import passage_terms, query_term_sets

_ASKS_NUMBER = re.compile(r"\b(berapa|jumlah|persen|how (many|much)|what (percentage|share|value|number)|"
                          r"market share|pangsa pasar)\b", re.I)
_ASKS_DATE = re.compile(r"\b(kapan|tanggal|tahun berapa|when|what (year|date|day|month))\b", re.I)
_ASKS_PERSON = re.compile(r"\b(siapa|who|whom)\b", re.I)
_HAS_NUMBER = re.compile(r"\d")
_HAS_YEAR_OR_DATE = re.compile(r"\b(19|20)\d\d\b|\b\d{1,2}/\d{1,2}/\d{4}\b")
_HAS_NAME = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)+\b")
TYPE_BONUS = 0.15
# A question word the corpus never uses counts half: it may be the other language's word for
# something the corpus says, or the very thing the corpus is silent on.
UNSEEN_WEIGHT = 0.5


class TermWeights:
    """Inverse document frequency of analysed terms over the indexed passages."""

    def __init__(self, passages) -> None:
        df: Counter = Counter()
        for p in passages:
            df.update(set(passage_terms(p.text, p.lang)))
        self.n = max(1, len(passages))
        self._df = df
        self.unseen = self._idf(0) * UNSEEN_WEIGHT

    def _idf(self, df: int) -> float:
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def weight(self, stems: set[str]) -> float:
        seen = [self._df[s] for s in stems if self._df.get(s)]
        return self._idf(max(seen)) if seen else self.unseen


@dataclass(frozen=True)
class QuestionWords:
    """A question's content words, each as the set of terms that stand for it (stems in both
    languages and glossary translations)."""

    stems: tuple[frozenset, ...]
    asks: str | None  # "number", "date", "person" or None

    @classmethod
    def of(cls, question: str) -> "QuestionWords":
        unique = tuple(dict.fromkeys(frozenset(terms) for terms in query_term_sets(question)))
        asks = ("date" if _ASKS_DATE.search(question) else "number" if _ASKS_NUMBER.search(question)
                else "person" if _ASKS_PERSON.search(question) else None)
        return cls(unique, asks)


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


_HOLDS = {"number": _HAS_NUMBER, "date": _HAS_YEAR_OR_DATE, "person": _HAS_NAME}


def holds_what_is_asked(question: QuestionWords, sentence: str) -> bool:
    """A "how many"/"berapa" question needs a number and a "when"/"kapan" question a date or
    year: a sentence without one cannot answer it, however many words it shares."""
    if question.asks in ("number", "date"):
        return bool(_HOLDS[question.asks].search(sentence))
    return True


def type_bonus(question: QuestionWords, sentence: str) -> float:
    pattern = _HOLDS.get(question.asks)
    return TYPE_BONUS if pattern is not None and pattern.search(sentence) else 0.0


def sentence_score(question: QuestionWords, sentence: str, lang: str, weights: TermWeights) -> tuple[float, float]:
    """(coverage, coverage + type bonus) of one sentence; (0, 0) when it cannot hold the answer."""
    if not holds_what_is_asked(question, sentence):
        return 0.0, 0.0
    cov = coverage(question, set(passage_terms(sentence, lang)), weights)
    return cov, cov + (type_bonus(question, sentence) if cov > 0 else 0.0)
