"""The extractive answerer: needs no language model. It quotes the retrieved sentences that best
answer the question, verbatim and numbered, framed in the question's language; when none
covers enough of the question it abstains."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.answer import Citation, cite
from rag.evidence import QuestionWords, TermWeights, sentence_score
from rag.messages import MESSAGES, say
from rag.retrieval import Hit
from rag.sentences import split_sentences

MAX_SENTENCES = 3
# Where an article first names what is asked about, it usually says what it is ("Kawasan yang
# diusulkan bernama Biotown ini ..."): that sentence gets a small edge over later mentions.
FIRST_MENTION_BONUS = 0.05
MAX_LIST_ITEMS = 8
_LIST_ITEM = re.compile(r"\n[ \t]*(?:[-•*–]|\d{1,2}[.)])[ \t]+[^\n]+")
# A further sentence is quoted only when it scores near the best one.
FOLLOWER_SHARE = 0.75


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    start: int
    end: int
    text: str
    coverage: float
    score: float


def candidates(question: str, hits: list[Hit], weights: TermWeights) -> list[Candidate]:
    """Every sentence of the retrieved passages, scored, best first (earlier rank breaks ties)."""
    words = QuestionWords.of(question)
    found = []
    firsts: dict[str, set[int]] = {}
    for hit in hits:
        if hit.document.doc_id not in firsts:
            firsts[hit.document.doc_id] = first_mentions(words, hit.document)
        for s in split_sentences(hit.passage.text, offset=hit.passage.start):
            if _is_heading(s.text):
                continue
            cov, score = sentence_score(words, s.text, hit.passage.lang, weights)
            if cov > 0 and any(s.start <= first < s.end for first in firsts[hit.document.doc_id]):
                score += FIRST_MENTION_BONUS
            # a small prior for the retriever's order, well below one question word's weight
            found.append(Candidate(hit, s.start, s.end, s.text, cov, score + 0.01 / hit.rank))
    return sorted(found, key=lambda c: -c.score)


@lru_cache(maxsize=4096)
def _sentence_terms(document) -> tuple[tuple[int, frozenset], ...]:
    """(start, analysed terms) of each sentence of a document, computed once per document."""
    from rag.analysis import passage_terms

    return tuple((s.start, frozenset(passage_terms(s.text, document.lang))) for s in split_sentences(document.text))


def first_mentions(words: QuestionWords, document) -> set[int]:
    """Start offsets of the sentences where the document first uses each of the question's words."""
    starts, pending = set(), set(words.stems)
    for start, terms in _sentence_terms(document):
        if not pending:
            break
        hit = {stems for stems in pending if stems & terms}
        if hit:
            starts.add(start)
            pending -= hit
    return starts


def _is_heading(text: str) -> bool:
    """'Key Areas of Cooperation', '📰 Beyond the Headlines': a title, not a statement to quote."""
    return len(text.split()) < 6 and not text.rstrip("”\"'’)").endswith((".", "!", "?", ":"))


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
    return Candidate(candidate.hit, candidate.start, end, text[candidate.start:end], candidate.coverage, candidate.score)


def select(found: list[Candidate], lang: str, thresholds: tuple[float, float]) -> list[Candidate]:
    """The sentences to quote (best first), or [] to abstain.

    `thresholds` = (same language, other language): the coverage a sentence needs when it is in
    the question's language, and when it is not -- translation leaves words unmatched, so a
    cross-lingual match is held to a lower bar.
    """
    def enough(c: Candidate) -> bool:
        return c.coverage >= thresholds[0 if c.hit.passage.lang == lang else 1]

    eligible = [c for c in found if enough(c)]
    if not eligible:
        return []
    chosen = [eligible[0]]
    for c in eligible[1:]:
        if len(chosen) == MAX_SENTENCES:
            break
        overlaps = any(c.hit.passage.doc_id == o.hit.passage.doc_id and c.start < o.end and o.start < c.end
                       for o in chosen)
        if c.score >= FOLLOWER_SHARE * chosen[0].score and not overlaps and all(c.text != o.text for o in chosen):
            chosen.append(c)
    return chosen


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, weights: TermWeights, thresholds: tuple[float, float]) -> None:
        self.weights = weights
        self.thresholds = thresholds

    def select(self, question: str, lang: str, hits: list[Hit]) -> list[Candidate]:
        """The sentences to quote; [] means the corpus does not answer (abstain)."""
        return select(candidates(question, hits, self.weights), lang, self.thresholds)

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
            quote = citation.quote.replace("\n", "\n  ")  # list items stay inside the bullet
            lines.append(f"- “{quote}” [{citation.n}]" + (f" {note}" if note else ""))
        return "\n".join(lines), citations
