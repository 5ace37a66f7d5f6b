"""Claims against the corpus: supported, contradicted, or not found, with the evidence quoted.

The claim is compared with the retrieved sentences that share most of its subject (IDF-weighted,
in both languages, its figures left out). On the best of them:
  - figures (numbers, money, percentages, years, dates; rag.evidence.quantities) must agree,
  - names must be there (glossary-aware: Tiongkok = China),
  - a negation on one side only is a contradiction.
A sentence on the claim's subject that gives another figure, another name in the same place, or
the negated statement contradicts it; one that agrees on everything supports it; a subject the
corpus does not cover, or a figure it never gives, is "not found". An NLI model, when configured,
adds entailment and contradiction scores to that judgement (rag.factcheck.nli).

>>> claim_names("Kepala BPOM bertemu Commissioner NMPA Li Li di Shanghai.", common={"kepala"})
['BPOM', 'Commissioner NMPA Li Li', 'Shanghai']
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rag.search.analysis import passage_terms, query_term_sets
from rag.answer.record import Citation, cite
from rag.evidence.records import Evidence
from rag.evidence.weights import QuestionWords, TermWeights, coverage
from rag.evidence.quantities import Quantity, conflicts, extract_quantities, unmatched
from rag.search.retrieval import Hit
from rag.ingest.sentences import split_sentences
from rag.search import stopwords

# Share of the claim's subject (its words, figures left out) a sentence must hold ...
FOUND = 0.5  # ... to count as about the claim at all,
AGREES = 0.6  # ... to support it when every figure and name agrees.
# The claim's figures are part of what it is about: a sentence giving all of them (9.3 million,
# 2030) is about the claim even where its words differ ("projects" for "menargetkan").
FIGURE_SHARE = 0.3
ROLE_SLACK = 0.15  # ... less, when a differing figure stands where the claim's stands
CANDIDATES = 5  # sentences compared in full, best subject coverage first
_NEGATION = re.compile(r"\b(tidak|tak|belum|bukan|tanpa|not|no|never|without|n't|yet to)\b", re.I)
_LOCATIVE = re.compile(r"\b(?:di|in|at|ke|to|dari|from|near|dekat)\s+$", re.I)
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
    # (place in the claim, place in the sentence) where the sentence puts it somewhere else:
    # "di Shanghai" / "di Beijing", "based in Surabaya" / "Based in Cikarang".
    place_conflicts: list[tuple[str, str]] = field(default_factory=list)
    # A differing figure or place in the same role ("mengekspor ... pada tahun 2021" / "entered
    # export markets in 2023"): the sentence speaks of what the claim states, though it shares few words.
    same_role: bool = False

    @property
    def agrees(self) -> bool:
        return not (self.figure_conflicts or self.missing_figures or self.missing_names or self.negation_differs
                    or self.place_conflicts)


def claim_names(text: str, common: set[str] = frozenset()) -> list[str]:
    """Capitalised word runs, minus a sentence-initial word that is a common word: a function
    word, or one of `common` (words the texts also write in lower case, like "Kedua", "Heavy")."""
    return [name for name, _ in _name_spans(text, common)]


def _name_spans(text: str, common: set[str]) -> list[tuple[str, int]]:
    """(name, where it starts) for each name in `text`, as `claim_names` reads them."""
    names = []
    for match in _NAME.finditer(text):
        words = match.group().rstrip(".,").split()
        before = text[:match.start()].rstrip()
        if (not before or before[-1] in ".!?\"“(") and words[0].casefold() in common:
            words = words[1:]
        while words and words[0].casefold() in stopwords.ALL | _WEEKDAYS:
            words = words[1:]
        if words and any(ch.isalpha() for ch in words[0]):
            name = " ".join(words)
            names.append((name, text.index(words[0], match.start())))
    return names


@dataclass(frozen=True)
class _Place:
    name: str
    start: int


def _place_spans(text: str, common: set[str]) -> list[_Place]:
    """Names right after a word of place ("di Beijing", "based in Cikarang", "ke Tiongkok"), and
    the region that may follow one ("Surabaya, East Java").

    >>> [p.name for p in _place_spans("Li Li di Shanghai, lalu terbang ke Beijing.", set())]
    ['Shanghai', 'Beijing']
    """
    found: list[_Place] = []
    for name, start in _name_spans(text, common):
        after_place = found and text[found[-1].start + len(found[-1].name):start] == ", "
        if _LOCATIVE.search(text[:start]) or after_place:
            found.append(_Place(name, start))
    return found


_WEEKDAYS = {"senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu", "monday", "tuesday", "wednesday",
             "thursday", "friday", "saturday", "sunday"}
_LOWER_WORD = re.compile(r"(?<![\w-])[a-z][a-z'-]+")


@lru_cache(maxsize=1024)
def _lower_words(document) -> frozenset:
    """Words the article writes in lower case: capitalised, they start a sentence, not a name."""
    return frozenset(_LOWER_WORD.findall(document.text))


@lru_cache(maxsize=1024)
def _sentence_terms(document) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(passage_terms(s.text, document.lang)) for s in split_sentences(document.text))


NAME_SPREAD = 6  # other words a name's words may be spread over: "Commissioner [...] (NMPA) Tiongkok, Li Li"


@lru_cache(maxsize=4096)
def _name_sets(name: str) -> tuple[frozenset, ...]:
    """Per content word of a name, the terms that stand for it (stemmed both ways, glossary)."""
    return tuple(frozenset(s) for s in query_term_sets(name, translate=True) if s)


def _name_in(name: str, terms) -> bool:
    """The name's content words (or their glossary translations) close together among `terms`:
    "Kementerian Kesehatan" is not "Kementerian Perindustrian ... alat kesehatan"."""
    sets = _name_sets(name)
    if not sets:
        return False
    width = len(sets) + NAME_SPREAD
    for start, term in enumerate(terms):
        if any(term in s for s in sets):
            window = set(terms[start:start + width])
            if all(s & window for s in sets):
                return True
    return False


@lru_cache(maxsize=4096)
def _name_found(name: str, document) -> bool:
    """The name in one sentence of the article (news text names a subject once, then "the company")."""
    return any(_name_in(name, terms) for terms in _sentence_terms(document))


def _names_meet(name: str, names: list[str], lang: str) -> bool:
    """Whether `name` (from a sentence in `lang`) shares a word with one of the claim's names."""
    terms = set(passage_terms(name, lang))
    return any(terms & _both_ways(n) for n in names)


@lru_cache(maxsize=4096)
def _both_ways(name: str) -> frozenset:
    return frozenset(passage_terms(name, "id")) | frozenset(passage_terms(name, "en"))


def _without_figures(text: str, figures: list[Quantity]) -> str:
    for q in sorted(figures, key=lambda q: -q.start):
        text = text[:q.start] + " " + text[q.end:]
    return text


def compare(claim: str, hits: list[Hit], weights: TermWeights, evidence: Evidence) -> list[Comparison]:
    """The retrieved sentences most about the claim, each compared with it; best first.

    How much a sentence is about the claim mixes the sentence with its passage: news sentences
    say "the company" where the paragraph named MiLab; names are looked for in the whole article.
    """
    figures = extract_quantities(claim)
    subject = QuestionWords.of(_without_figures(claim, figures), translate=True)
    documents = {hit.document.doc_id: hit.document for hit in hits}
    common = set(_LOWER_WORD.findall(claim)).union(*(_lower_words(d) for d in documents.values()))
    names = claim_names(claim, common)
    claim_places = _place_spans(claim, common)
    claim_terms = passage_terms(claim, "id") + passage_terms(claim, "en")
    claim_negated = bool(_NEGATION.search(claim))
    name_words = {w.casefold() for n in names for w in n.split()}
    scored = []
    for hit in hits:
        records = evidence.of(hit)
        passage_share = coverage(subject, records.terms, weights)
        for s in records.sentences:
            ordered = list(s.words)
            share = (coverage(subject, s.terms, weights) + passage_share) / 2
            found = list(s.quantities)
            if figures:
                # A figure given counts in full; another figure in the same role, half: "mulai
                # mengekspor ... pada tahun 2021" is about "entered export markets in 2023".
                role = _role(claim, s.text, hit.passage.lang, name_words)
                given = len(figures) - len(unmatched(figures, found))
                rivals = sum(1 for a, b in conflicts(figures, found, role=role) if role(a, b))
                share = (1 - FIGURE_SHARE) * share + FIGURE_SHARE * (given + rivals / 2) / len(figures)
            scored.append((share, -hit.rank, s, hit, found, ordered))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    out = []
    for share, _, s, hit, found, sentence_terms in scored[:CANDIDATES]:
        sentence_names = claim_names(s.text, common)
        role = _role(claim, s.text, hit.passage.lang, name_words | {w.casefold() for n in sentence_names for w in n.split()})
        missing = [n for n in names if not _name_found(n, hit.document)]
        others = [n for n in sentence_names if not _names_meet(n, names, hit.passage.lang)]
        # Figures and places conflict only on the claim's own subjects: "Zembla Farma ... 5 juta
        # dosis ... di Surabaya" says nothing of what or where Kalbe Farma produces.
        on_subject = not [n for n in missing if n not in {p.name for p in claim_places}]
        clashes = conflicts(figures, found, role=role) if on_subject else []
        clashing = {claimed for claimed, _ in clashes}
        # Names in the same role were tried too (2026-11-22): on eval/claims.jsonl they turned as
        # many "not found" claims into false contradictions as they caught; places only.
        rivals = [p for p in _place_spans(s.text, common) if not _name_in(p.name, claim_terms)]
        # Each place meets the rival in the most alike role; on a tie, the one in the same order
        # ("Surabaya, East Java" / "Cikarang, West Java").
        elsewhere = [(place, max(rivals, key=lambda r: (role(place, r), -abs(rivals.index(r) - i))))
                     for i, place in enumerate(claim_places)
                     if rivals and on_subject and not _name_in(place.name, sentence_terms)]
        same_role = any(role(a, b) for a, b in clashes + elsewhere)
        elsewhere = [(place.name, rival.name) for place, rival in elsewhere]
        out.append(Comparison(hit, s.start, s.end, s.text, share, figure_conflicts=clashes,
                              missing_figures=[q for q in unmatched(figures, found) if q not in clashing],
                              missing_names=missing, other_names=others,
                              negation_differs=claim_negated != bool(_NEGATION.search(s.text)),
                              place_conflicts=elsewhere, same_role=same_role))
    return out


# Words that say what kind of figure follows, not what it counts: "pada tahun 2021" and
# "pada tahun 2025" need not be about the same thing.
_KIND_WORDS = frozenset("tahun year years tanggal date sebesar sekitar around about nearly hampir".split())
ROLE_WORDS = 4  # words before a figure that say what it counts ("annual exports of")


def _role(claim: str, sentence: str, lang: str, names: set[str] = frozenset()):
    """How many of the words just before a claim figure (or place) also come just before an
    evidence one; anything with a `.start` in its text. Names are left out of that context:
    "Kalbe Farma will produce HPV" and "antara Kalbe Farma dan CSPC" share a company, not a role."""
    def before(text: str, start: int) -> str:
        words = [w for w in text[:start].split() if w.strip(",.()“”\"'").casefold() not in names | _KIND_WORDS]
        return " ".join(words[-ROLE_WORDS:])

    def score(claimed, found) -> int:
        evidence_terms = set(passage_terms(before(sentence, found.start), lang))
        return sum(1 for terms in query_term_sets(before(claim, claimed.start), translate=True) if terms & evidence_terms)
    return score


@dataclass
class Judgement:
    verdict: str  # supported | contradicted | not_found
    confidence: float
    evidence: list[Comparison]
    reason: str  # which rule decided: agrees, figure, place, negation, name, nli, missing_figure, off_topic, unconfirmed


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
    for rule, holds in (("figure", lambda c: c.figure_conflicts), ("place", lambda c: c.place_conflicts),
                        ("negation", lambda c: c.negation_differs),
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
    if best.missing_figures and not best.missing_names:  # on the claim's subject, without its figure
        return Judgement("not_found", round(best.subject, 3), [best], "missing_figure")
    return Judgement("not_found", round(1 - best.subject, 3), [best], "unconfirmed")


def citations(judgement: Judgement) -> list[Citation]:
    return [cite(n, c.hit, c.start, c.end, c.text) for n, c in enumerate(judgement.evidence, start=1)]
