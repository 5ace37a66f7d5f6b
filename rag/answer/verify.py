"""Citation verification for generated answers: every [n] must point to a retrieved passage that
supports its sentence. Numbers, years and names in the sentence must appear in the cited
passage (700,000 is not 900,000; 2025 is not 2023), and most of its words must too. Citations
that fail are removed and the sentence is marked unverified; the result counts what held.

Links, images and HTML are taken out first (rag.answer.generation.strip_links). A sentence that carried
any and has no citation that holds is dropped, not marked: the system prompt forbids links, so
such a sentence follows some other instruction (an injected one) and has nothing worth keeping.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rag.search.analysis import normalise_number
from rag.search.glossary import translations
from rag.answer.record import Citation, cite
from rag.evidence.kinds import capitalised_words as names
from rag.evidence.records import Evidence
from rag.evidence.weights import QuestionWords, TermWeights, coverage
from rag.answer.generation import REMOVED, mark_links
from rag.messages import say
from rag.search.retrieval import Hit
from rag.ingest.sentences import split_sentences

_MARKER = re.compile(r"\s*\[(\d{1,3})\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Share of a sentence's words (IDF-weighted) its cited passage must contain.
SUPPORT = 0.5


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    sentences: int
    verified: int
    removed: int
    dropped: int = 0  # unsupported sentences that carried links or markup

    def summary(self) -> dict:
        out = {"sentences": self.sentences, "verified": self.verified, "removed_citations": self.removed}
        return {**out, "dropped_sentences": self.dropped} if self.dropped else out


def numbers(text: str) -> set[str]:
    return {normalise_number(n) for n in _NUMBER.findall(text)}


def _named_in(word: str, folded_passage: str) -> bool:
    """The name, or its glossary translation ("Tiongkok" for "China"), is in the passage."""
    variants = {word.casefold()} | {" ".join(w) for _, _, w, _ in translations([word.casefold()])}
    return any(re.search(rf"(?<!\w){re.escape(v)}(?!\w)", folded_passage) for v in variants)


def supports(claim: str, hit: Hit, weights: TermWeights, evidence: Evidence) -> tuple[bool, tuple[int, int, str] | None]:
    """Does the cited passage back the claim? And the passage sentence that backs it best."""
    passage = hit.passage.text
    folded = passage.casefold()
    if not numbers(claim) <= numbers(passage):
        return False, None
    if not all(_named_in(name, folded) for name in names(claim)):
        return False, None
    words = QuestionWords.of(claim, translate=True)  # a generated sentence may cite the other language
    records = evidence.of(hit)
    best, best_score = None, -1.0
    for s in records.sentences:
        cov = coverage(words, s.terms, weights)
        if cov > best_score:
            best, best_score = (s.start, s.end, s.text), cov
    return coverage(words, records.terms, weights) >= SUPPORT, best


def _without_links(answer: str) -> tuple[str, list[int]]:
    """The answer with links, images and HTML taken out, and where (offsets in what is left).

    >>> _without_links("A <b>B</b>. See ![x](http://e/x.png) now.")
    ('A B. See  now.', [2, 3, 9])
    """
    text, removals = [], []
    for c in mark_links(answer.replace(REMOVED, "")):
        if c == REMOVED:
            removals.append(len(text))
        else:
            text.append(c)
    return "".join(text), removals


def verify(answer: str, hits: list[Hit], lang: str, weights: TermWeights, evidence: Evidence) -> Verified:
    """Check every [n] of a generated answer against the passages numbered 1..len(hits)."""
    numbering: dict[tuple, int] = {}
    citations: list[Citation] = []
    out, verified, removed, total, dropped = [], 0, 0, 0, 0
    text, removals = _without_links(answer)
    sentences = split_sentences(text)
    # Something taken out between two sentences belongs to the one after it.
    with_links = {next((i for i, s in enumerate(sentences) if s.end >= at), len(sentences) - 1) for at in removals}
    for i, sentence in enumerate(sentences):
        carried_links = i in with_links
        markers = [int(m) for m in _MARKER.findall(sentence.text)]
        claim = _MARKER.sub("", sentence.text).strip()
        if not claim:
            continue
        total += 1
        kept = []
        for n in dict.fromkeys(markers):
            ok, quote = supports(claim, hits[n - 1], weights, evidence) if 1 <= n <= len(hits) else (False, None)
            if not ok:
                removed += 1
                continue
            key = (hits[n - 1].passage.doc_id, *quote[:2])
            if key not in numbering:
                numbering[key] = len(numbering) + 1
                citations.append(cite(numbering[key], hits[n - 1], *quote))
            kept.append(numbering[key])
        if kept:
            verified += 1
            body, stop = (claim[:-1], claim[-1]) if claim[-1] in ".!?" else (claim, "")
            out.append(body + "".join(f" [{n}]" for n in kept) + stop)
        elif carried_links:
            dropped += 1
        else:
            out.append(f"{claim} {say('unverified', lang)}")
    return Verified(" ".join(out), citations, total, verified, removed, dropped)
