"""Citation verification for generated answers: every [n] must point to a retrieved passage that
supports its sentence. Numbers, years and names in the sentence must appear in the cited
passage (700,000 is not 900,000; 2025 is not 2023), and most of its words must too. Citations
that fail are removed and the sentence is marked unverified; the result counts what held.

Links, images and HTML are taken out first (rag.generation.strip_links). A sentence that carried
any and has no citation that holds is dropped, not marked: the system prompt forbids links, so
such a sentence follows some other instruction (an injected one) and has nothing worth keeping.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rag import stopwords
from rag.analysis import normalise_number
from rag.glossary import translations
from rag.answer import Citation, cite
from rag.evidence import QuestionWords, TermWeights, sentence_score
from rag.generation import REMOVED, mark_links
from rag.messages import say
from rag.retrieval import Hit
from rag.sentences import split_sentences

_MARKER = re.compile(r"\s*\[(\d{1,3})\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALISED = re.compile(r"(?<![\w])[A-Z][\w’'-]+")
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


def names(text: str) -> set[str]:
    """Capitalised words, the sentence's first one only when it is no function word.

    >>> sorted(names("The Direktur Hebei MPA met Fengshan Wang"))
    ['Direktur', 'Fengshan', 'Hebei', 'MPA', 'Wang']
    """
    found = set()
    for match in _CAPITALISED.finditer(text):
        word = match.group()
        if match.start() == len(text) - len(text.lstrip()) and word.casefold() in stopwords.ALL:
            continue
        found.add(word)
    return found


def _named_in(word: str, folded_passage: str) -> bool:
    """The name, or its glossary translation ("Tiongkok" for "China"), is in the passage."""
    variants = {word.casefold()} | {" ".join(w) for _, _, w, _ in translations([word.casefold()])}
    return any(re.search(rf"(?<!\w){re.escape(v)}(?!\w)", folded_passage) for v in variants)


def supports(claim: str, hit: Hit, weights: TermWeights) -> tuple[bool, tuple[int, int, str] | None]:
    """Does the cited passage back the claim? And the passage sentence that backs it best."""
    passage = hit.passage.text
    folded = passage.casefold()
    if not numbers(claim) <= numbers(passage):
        return False, None
    if not all(_named_in(name, folded) for name in names(claim)):
        return False, None
    words = QuestionWords.of(claim)
    best, best_score = None, -1.0
    for s in split_sentences(passage, offset=hit.passage.start):
        cov, _ = sentence_score(QuestionWords(words.stems, None), s.text, hit.passage.lang, weights)
        if cov > best_score:
            best, best_score = (s.start, s.end, s.text), cov
    whole, _ = sentence_score(QuestionWords(words.stems, None), passage, hit.passage.lang, weights)
    return whole >= SUPPORT, best


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


def verify(answer: str, hits: list[Hit], lang: str, weights: TermWeights) -> Verified:
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
            ok, quote = supports(claim, hits[n - 1], weights) if 1 <= n <= len(hits) else (False, None)
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
