"""Claims against the corpus: supported, contradicted, or not found, with the evidence quoted.

The claim is compared with the retrieved sentences that share most of its subject (IDF-weighted,
in both languages, its figures left out). On the best of them:
  - figures (numbers, money, percentages, years, dates; rag.quantities) must agree,
  - names must be there (glossary-aware: Tiongkok = China),
  - a negation on one side only is a contradiction.
A sentence on the claim's subject that gives another figure, another name in the same place, or
the negated statement contradicts it; one that agrees on everything supports it; a subject the
corpus does not cover, or a figure it never gives, is "not found". An NLI model, when configured,
adds entailment and contradiction scores to that judgement (rag.nli).

>>> claim_names("Kepala BPOM bertemu Commissioner NMPA Li Li di Shanghai.")
['BPOM', 'Commissioner NMPA Li Li', 'Shanghai']
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rag.analysis import passage_terms, query_term_sets
from rag.answer import Citation, cite
from rag.evidence import QuestionWords, TermWeights, coverage
from rag.quantities import Quantity, conflicts, extract_quantities, unmatched
from rag.retrieval import Hit
from rag.sentences import split_sentences
from rag import stopwords

# Share of the claim's subject (its words, figures left out) a sentence must hold ...
FOUND = 0.5  # ... to count as about the claim at all,
AGREES = 0.6  # ... to support it when every figure and name agrees.
# The claim's figures are part of what it is about: a sentence giving all of them (9.3 million,
# 2030) is about the claim even where its words differ ("projects" for "menargetkan").
FIGURE_SHARE = 0.3
ROLE_SLACK = 0.15  # ... less, when a differing figure stands where the claim's stands
CANDIDATES = 5  # sentences compared in full, best subject coverage first
_NEGATION = re.compile(r"\b(tidak|tak|belum|bukan|tanpa|not|no|never|without|n't|yet to)\b", re.I)
_NAME = re.compile(r"[A-Z][\w&'’.-]*(?:\s+(?:[A-Z][\w&'’.-]*|&))*")


@dataclass
class Comparison:
    """One evidence sentence held against the claim."""

    hit: Hit
    start: int
    end: int
    text: str
    subject: float  # share of the claim's subject the sentence holds
    figure_conflicts: list[tuple[Quantity, Quantity]] = field(default_factory=list)
    missing_figures: list[Quantity] = field(default_factory=list)
    missing_names: list[str] = field(default_factory=list)
    other_names: list[str] = field(default_factory=list)
    negation_differs: bool = False
    # A differing figure in the same role ("mengekspor ... pada tahun 2021" / "entered export
    # markets in 2023"): the sentence speaks of what the claim states, though it shares few words.
    same_role: bool = False

    @property
    def agrees(self) -> bool:
        return not (self.figure_conflicts or self.missing_figures or self.missing_names or self.negation_differs)


def claim_names(text: str, common: set[str] = frozenset()) -> list[str]:
    """Capitalised word runs, minus a sentence-initial word that is a common word: a function
    word, or one of `common` (words the texts also write in lower case, like "Kedua", "Heavy")."""
    names = []
    for match in _NAME.finditer(text):
        words = match.group().rstrip(".,").split()
        before = text[:match.start()].rstrip()
        if (not before or before[-1] in ".!?\"“(") and words[0].casefold() in common:
            words = words[1:]
        while words and words[0].casefold() in stopwords.ALL | _WEEKDAYS:
            words = words[1:]
        if words and any(ch.isalpha() for ch in words[0]):
            names.append(" ".join(words))
    return names


_WEEKDAYS = {"senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu", "monday", "tuesday", "wednesday",
             "thursday", "friday", "saturday", "sunday"}
_LOWER_WORD = re.compile(r"(?<![\w-])[a-z][a-z'-]+")


@lru_cache(maxsize=1024)
def _lower_words(document) -> frozenset:
    """Words the article writes in lower case: capitalised, they start a sentence, not a name."""
    return frozenset(_LOWER_WORD.findall(document.text))


@lru_cache(maxsize=1024)
def _article_terms(document) -> frozenset:
    return frozenset(passage_terms(document.text, document.lang))


def _name_found(name: str, terms: set[str]) -> bool:
    """Every content word of the name (or its glossary translation) is among the sentence's terms."""
    sets = [s for s in query_term_sets(name) if s]
    return bool(sets) and all(s & terms for s in sets)


def _without_figures(text: str, figures: list[Quantity]) -> str:
    for q in sorted(figures, key=lambda q: -q.start):
        text = text[:q.start] + " " + text[q.end:]
    return text


def compare(claim: str, hits: list[Hit], weights: TermWeights) -> list[Comparison]:
    """The retrieved sentences most about the claim, each compared with it; best first.

    How much a sentence is about the claim mixes the sentence with its passage: news sentences
    say "the company" where the paragraph named MiLab; names are looked for in the whole article.
    """
    figures = extract_quantities(claim)
    subject = QuestionWords.of(_without_figures(claim, figures))
    documents = {hit.document.doc_id: hit.document for hit in hits}
    common = set(_LOWER_WORD.findall(claim)).union(*(_lower_words(d) for d in documents.values()))
    names = claim_names(claim, common)
    name_terms = [set(passage_terms(n, "id")) | set(passage_terms(n, "en")) for n in names]
    claim_negated = bool(_NEGATION.search(claim))
    name_words = {w.casefold() for n in names for w in n.split()}
    scored = []
    for hit in hits:
        passage_share = coverage(subject, set(passage_terms(hit.passage.text, hit.passage.lang)), weights)
        for s in split_sentences(hit.passage.text, offset=hit.passage.start):
            terms = set(passage_terms(s.text, hit.passage.lang))
            share = (coverage(subject, terms, weights) + passage_share) / 2
            found = extract_quantities(s.text)
            if figures:
                given = len(figures) - len(unmatched(figures, found))
                share = (1 - FIGURE_SHARE) * share + FIGURE_SHARE * given / len(figures)
            scored.append((share, -hit.rank, s, hit, found))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    out = []
    for share, _, s, hit, found in scored[:CANDIDATES]:
        sentence_names = claim_names(s.text, common)
        role = _role(claim, s.text, hit.passage.lang, name_words | {w.casefold() for n in sentence_names for w in n.split()})
        clashes = conflicts(figures, found, role=role)
        clashing = {claimed for claimed, _ in clashes}
        missing = [n for n in names if not _name_found(n, _article_terms(hit.document))]
        others = [n for n in sentence_names
                  if not any(set(passage_terms(n, hit.passage.lang)) & terms for terms in name_terms)]
        # Names in the same role were tried too (2026-11-22): on eval/claims.jsonl they turned as
        # many "not found" claims into false contradictions as they caught, so figures only.
        same_role = any(role(a, b) for a, b in clashes)
        out.append(Comparison(hit, s.start, s.end, s.text, share, clashes,
                              [q for q in unmatched(figures, found) if q not in clashing],
                              missing, others, claim_negated != bool(_NEGATION.search(s.text)), same_role))
    return out


ROLE_WORDS = 4  # words before a figure that say what it counts ("annual exports of")


def _role(claim: str, sentence: str, lang: str, names: set[str] = frozenset()):
    """How many of the words just before a claim figure (or name) also come just before an evidence
    one. Names are left out of that context: "Kalbe Farma will produce HPV" and "antara Kalbe Farma
    dan CSPC" share a company, not a role."""
    def before(text: str, q: Quantity) -> str:
        words = [w for w in text[:q.start].split() if w.strip(",.()“”\"'").casefold() not in names]
        return " ".join(words[-ROLE_WORDS:])

    def score(claimed: Quantity, found: Quantity) -> int:
        evidence_terms = set(passage_terms(before(sentence, found), lang))
        return sum(1 for terms in query_term_sets(before(claim, claimed)) if terms & evidence_terms)
    return score


@dataclass
class Judgement:
    verdict: str  # supported | contradicted | not_found
    confidence: float
    evidence: list[Comparison]
    reason: str  # which rule decided: "agrees", "figure", "name", "negation", "nli", "missing_figure", "off_topic"


def judge(comparisons: list[Comparison], nli: list[dict] | None = None) -> Judgement:
    """The verdict from the compared sentences (and NLI scores for them, when a model is set)."""
    about = [c for c in comparisons if c.subject >= FOUND]
    if not about and not any(c.same_role and c.subject >= FOUND - ROLE_SLACK for c in comparisons):
        best = comparisons[:1]
        return Judgement("not_found", round(1 - (best[0].subject if best else 0.0), 3), best, "off_topic")
    in_role = [c for c in comparisons if c.same_role and c.subject >= FOUND - ROLE_SLACK]
    agreeing = [c for c in about if c.agrees and c.subject >= AGREES]
    nli_by_text = {id(c): s for c, s in zip(comparisons, nli or [])}
    best = (about or in_role or comparisons)[0]
    if agreeing:
        scores = nli_by_text.get(id(agreeing[0]))
        if not (scores and scores["contradiction"] > max(scores["entailment"], 0.5)):
            return Judgement("supported", round(agreeing[0].subject, 3), agreeing[:1], "agrees")
    for rule, holds in (("figure", lambda c: c.figure_conflicts), ("negation", lambda c: c.negation_differs),
                        ("name", lambda c: c.missing_names and c.other_names and c.subject >= AGREES)):
        against = [c for c in about + in_role if holds(c)]
        if against:
            return Judgement("contradicted", round(against[0].subject, 3), against[:1], rule)
    if nli:
        scored = [(nli_by_text[id(c)], c) for c in about if id(c) in nli_by_text]
        for label, verdict in (("contradiction", "contradicted"), ("entailment", "supported")):
            strong = [(s, c) for s, c in scored if s[label] >= 0.5 and s[label] == max(s.values())]
            if strong:
                return Judgement(verdict, round(strong[0][0][label], 3), [strong[0][1]], "nli")
    if best.missing_figures:
        return Judgement("not_found", round(best.subject, 3), [best], "missing_figure")
    return Judgement("not_found", round(1 - best.subject, 3), [best], "unconfirmed")


def citations(judgement: Judgement) -> list[Citation]:
    return [cite(n, c.hit, c.start, c.end, c.text) for n, c in enumerate(judgement.evidence, start=1)]
