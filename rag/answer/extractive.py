"""The extractive answerer: needs no language model. It quotes the retrieved sentences that best
answer the question, verbatim and numbered, framed in the question's language; when the fitted
abstention model says the passages do not answer it, it abstains.

Which sentence answers, and whether any does, is decided by the models `python -m eval.fit`
fitted on public QA sets (rag.answer.model) from features that mean the same on any corpus
(rag.answer.features); nothing here is tuned to Warta's own articles or questions.
"""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from rag.answer.features import Candidate, candidates
from rag.answer.model import AnswerModel, abstain_row, load
from rag.answer.record import Citation, cite
from rag.evidence.records import Evidence
from rag.evidence.weights import QuestionWords, TermWeights
from rag.messages import MESSAGES, say
from rag.search.retrieval import Hit

MAX_SENTENCES = 3
MAX_LIST_ITEMS = 8
_LIST_ITEM = re.compile(r"\n[ \t]*(?:[-•*–]|\d{1,2}[.)])[ \t]+[^\n]+")


def scored(question: str, lang: str, hits: list[Hit], evidence: Evidence, weights: TermWeights,
           question_vector: np.ndarray | None, model: AnswerModel) -> tuple[list[Candidate], list[str]]:
    """Every candidate sentence with its probability of holding the answer, best first (the
    retriever's order breaks ties), and the model variant that scored each."""
    found = candidates(QuestionWords.of(question), question_vector, hits, evidence, weights)
    if not found:
        return [], []
    variants = [("full" if c.record.lang == lang else "semantic") if question_vector is not None else "lexical"
                for c in found]
    probabilities = model.sentence_probabilities(np.stack([c.features for c in found]), variants)
    order = sorted(range(len(found)), key=lambda i: -probabilities[i])
    return ([replace(found[i], probability=float(probabilities[i])) for i in order], [variants[i] for i in order])


def answerable(ranked: list[Candidate], variants: list[str], model: AnswerModel) -> float:
    """The abstention model's probability that the best candidate answers the question."""
    best = ranked[0]
    row = abstain_row(best.features, best.probability, ranked[1].probability if len(ranked) > 1 else None, variants[0])
    return float(model.abstain[variants[0]].probability(row[None, :])[0])


def select(ranked: list[Candidate], variants: list[str], model: AnswerModel) -> list[Candidate]:
    """The sentences to quote (best first), or [] to abstain. A further sentence is quoted when
    the model finds it nearly as likely to hold the answer as the best one (`model.follow`)."""
    if not ranked or answerable(ranked, variants, model) < model.thresholds[variants[0]]:
        return []
    chosen = [ranked[0]]
    for c in ranked[1:]:
        if len(chosen) == MAX_SENTENCES or c.probability < model.follow * chosen[0].probability:
            break
        overlaps = any(c.hit.passage.doc_id == o.hit.passage.doc_id and c.start < o.end and o.start < c.end
                       for o in chosen)
        if not overlaps and all(c.text != o.text for o in chosen):
            chosen.append(c)
    return chosen


def with_list(candidate: Candidate) -> Candidate:
    """A sentence that announces a list ("...four main areas:") is quoted with the list's items,
    taken from the document (the list may run past the passage)."""
    if not candidate.text.endswith(":"):
        return candidate
    text = candidate.hit.document.text
    end = candidate.end
    for _ in range(MAX_LIST_ITEMS):
        item = _LIST_ITEM.match(text, end)
        if not item:
            break
        end = item.end()
    if end == candidate.end:
        return candidate
    return replace(candidate, record=replace(candidate.record, end=end, text=text[candidate.start:end]))


_LIST_MARK = re.compile(r"^\s*(?:[-•*–]|\d{1,2}[.)])\s+")


def quoted_lines(quote: str) -> list[str]:
    """Each line of a quote in quotation marks, a list item's marker outside them: "- Lima" is
    shown as the bullet ‘“Lima”’, not ‘“- Lima”’.

    >>> quoted_lines("Dua langkah:\n- Pertama, registrasi.\n2. Kedua, investasi.")
    ['“Dua langkah:”', '“Pertama, registrasi.”', '“Kedua, investasi.”']
    """
    return [f"“{_LIST_MARK.sub('', line).strip()}”" for line in quote.splitlines() if line.strip()] or [f"“{quote}”"]


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, weights: TermWeights, evidence: Evidence, model: AnswerModel | None = None) -> None:
        self.weights = weights
        self.evidence = evidence
        self.model = model or load()

    def rank(self, question: str, lang: str, hits: list[Hit]) -> tuple[list[Candidate], list[str]]:
        return scored(question, lang, hits, self.evidence, self.weights, self.evidence.question_vector(question),
                      self.model)

    def select(self, question: str, lang: str, hits: list[Hit]) -> list[Candidate]:
        """The sentences to quote; [] means the corpus does not answer (abstain)."""
        return select(*self.rank(question, lang, hits), self.model)

    def answer(self, question: str, lang: str, hits: list[Hit]) -> tuple[str, list[Citation]] | None:
        """(answer text with [n] markers, citations), or None to abstain."""
        chosen = self.select(question, lang, hits)
        return self.compose(chosen, lang) if chosen else None

    def compose(self, chosen: list[Candidate], lang: str) -> tuple[str, list[Citation]]:
        """The answer text quoting `chosen` (lists whole), framed in `lang`."""
        chosen = [with_list(c) for c in chosen]
        citations = [cite(n, c.hit, c.start, c.end, c.text) for n, c in enumerate(chosen, start=1)]
        lines = [say("corpus_says", lang)]
        for citation, c in zip(citations, chosen):
            note = MESSAGES["quoted_in"][lang].get(c.hit.passage.lang, "")
            first, *items = quoted_lines(citation.quote)
            lines.append(f"- {first} [{citation.n}]" + (f" {note}" if note else ""))
            lines.extend(f"  - {item}" for item in items)  # a quoted list stays under its bullet
        return "\n".join(lines), citations
