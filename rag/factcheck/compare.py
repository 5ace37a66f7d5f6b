"""Claims against the corpus, sentence by sentence: how much each retrieved sentence is about the
claim, and what it says otherwise (rag.factcheck.judge turns that into a verdict).

How much a sentence is about the claim is the larger of two shares, each 0..1:
  - its words: the IDF-weighted share of the claim's words (both languages, glossary-aware) in
    the sentence and its passage, with the claim's figures counting for FIGURE_SHARE;
  - its meaning, when a model is loaded: the multilingual embedding's cosine of claim and
    sentence, mapped onto 0..1 (`Thresholds.meaning_share`). This is what finds the sentence an
    English claim is about in an Indonesian article, with no glossary entry for its words.
On the sentences most about the claim, what is compared:
  - figures (numbers, money, percentages, multipliers, years, dates, weekdays, ordinals;
    rag.evidence.quantities), each against the sentence's figure in the same role only;
  - names (rag.factcheck.names): the claim's names must be in the article; a name it lacks
    conflicts with one of the same kind in the sentence ("Kementerian Kesehatan" /
    "Kementerian Perindustrian");
  - places after a word of place, and the titles people hold (rag.factcheck.roles);
  - a negation on one side only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from rag.evidence.quantities import Quantity, comparable, conflicts, extract_quantities, same_quantity, unmatched
from rag.evidence.records import Evidence
from rag.evidence.weights import QuestionWords, TermWeights, coverage
from rag.factcheck.names import (LOWER_WORD, claim_names, lower_words, name_found, name_in, name_spans, place_spans,
                                 same_kind)
from rag.factcheck.relations import relation_conflicts
from rag.factcheck.roles import role_conflicts
from rag.ingest.language import detect_language
from rag.search.analysis import passage_terms, query_term_sets
from rag.search.retrieval import Hit

# The claim's figures are part of what it is about: a sentence giving all of them (9.3 million,
# 2030) is about the claim even where its words differ ("projects" for "menargetkan").
FIGURE_SHARE = 0.3
CANDIDATES = 5  # sentences compared in full, most about the claim first
_ADDITIVE = re.compile(r"\b(?:juga|pula|selain|also|besides|as well|in addition|too)\b", re.I)
_NEGATION = re.compile(r"\b(tidak|tak|belum|bukan|tanpa|not|no|never|without|n't|yet to)\b", re.I)


@dataclass(frozen=True)
class Thresholds:
    """The numbers the verdict turns on, all chosen together by `python -m eval.fit_claims` on the
    tuning claim sets (eval/claims.jsonl, eval/claims_dev.jsonl; README, "How claims are checked")."""

    found: float = 0.45   # share of the claim a sentence must be about to count at all,
    agrees: float = 0.55  # ... to support it when every figure, name and title agrees,
    role_slack: float = 0.15  # ... less, when a differing figure stands where the claim's stands.
    # The cosine at which the meaning share starts (sentence in the claim's language, in the
    # other: cosines across languages run lower) and how far above it the share reaches 1.
    meaning_low: tuple[float, float] = (0.90, 0.86)
    meaning_span: float = 0.04
    # With a model, a supporting sentence must be this close to the claim's closest in meaning
    # (None: any sentence about the claim may support it; the grid found no slack that helped).
    meaning_slack: float | None = None
    # The share of the claim's words a supporting sentence must hold whatever its meaning says:
    # meaning alone cannot tell "completed registration" from "in the final stage of registration".
    support_words: float = 0.0

    def meaning_share(self, cos: float, same_language: bool) -> float:
        low = self.meaning_low[0 if same_language else 1]
        return min(1.0, max(0.0, (cos - low) / self.meaning_span))

    def subject(self, words: float, cos: float | None, same_language: bool) -> float:
        """How much a sentence is about the claim: its words' share or its meaning's, whichever is more."""
        return words if cos is None else max(words, self.meaning_share(cos, same_language))


DEFAULT = Thresholds()


@dataclass
class Comparison:
    """One evidence sentence held against the claim."""

    hit: Hit
    start: int
    end: int
    text: str
    subject: float  # how much the sentence is about the claim (`Thresholds.subject`)
    figure_conflicts: list[tuple[Quantity, Quantity]] = field(default_factory=list)
    missing_figures: list[Quantity] = field(default_factory=list)
    missing_names: list[str] = field(default_factory=list)
    other_names: list[str] = field(default_factory=list)
    negation_differs: bool = False
    # (place in the claim, place in the sentence) where the sentence puts it somewhere else:
    # "di Shanghai" / "di Beijing", "based in Surabaya" / "Based in Karawang".
    place_conflicts: list[tuple[str, str]] = field(default_factory=list)
    # A differing figure or place in the same role ("mengekspor ... pada tahun 2021" / "entered
    # export markets in 2023"): the sentence speaks of what the claim states, though it shares few words.
    same_role: bool = False
    # (the claim's "title person", the sentence's) where the claim gives a person another title
    # (rag.factcheck.roles), and (claimed name, the sentence's) for names in the same role.
    role_conflicts: list[tuple[str, str]] = field(default_factory=list)
    # (the claim's words, the sentence's) where the sentence gives the claim's thing, act or
    # partner to another name (rag.factcheck.relations)
    relation_conflicts: list[tuple[str, str]] = field(default_factory=list)
    meaning: float | None = None  # embedding cosine of claim and sentence; None without a model
    words: float = 0.0  # the share of the claim's words (and figures) the sentence holds
    same_language: bool = True
    matched_figures: list[Quantity] = field(default_factory=list)  # claim figures the sentence bears out

    @property
    def agrees(self) -> bool:
        return not (self.figure_conflicts or self.missing_figures or self.missing_names or self.negation_differs
                    or self.place_conflicts or self.role_conflicts or self.relation_conflicts)


def _meaning(claim: str, hits: list[Hit], evidence: Evidence) -> dict | None:
    """Cosine of the claim with each sentence of the hits (by record key), or None without a model."""
    records = [s for hit in hits for s in evidence.of(hit).sentences]
    claim_vector = evidence.phrase_vectors([claim])
    vectors = evidence.embeddings(records) if claim_vector is not None else None
    if vectors is None:
        return None
    return {r.key: float(c) for r, c in zip(records, vectors @ claim_vector[0].astype(np.float32))}


def _without_opener(name: str, claim: str, documents) -> str:
    """A claim that opens with a common word before a name ("Pengiriman Dermavit ke China ..."):
    the name is what the articles know without that word."""
    first, _, rest = name.partition(" ")
    # "Pengiriman" is kirim + peng-an; "Acara" opens "Acara Kepala BPOM"; but "Kimia" is a name's word
    affixed = passage_terms(first, "id") != [first.casefold()] or len(rest.split()) >= 2
    if (rest and affixed and claim.startswith(name) and first[:1].isupper() and first[1:].islower()
            and not any(name_found(name, d) for d in documents) and any(name_found(rest, d) for d in documents)):
        return rest
    return name


def _first(listed: str) -> str:
    return listed.split("; ")[0]


def _without_figures(text: str, figures: list[Quantity]) -> str:
    for q in sorted(figures, key=lambda q: -q.start):
        text = text[:q.start] + " " + text[q.end:]
    return text


def compare(claim: str, hits: list[Hit], weights: TermWeights, evidence: Evidence,
            thresholds: Thresholds = DEFAULT, candidates: int = CANDIDATES) -> list[Comparison]:
    """The retrieved sentences most about the claim, each compared with it; most about it first.

    The words' share mixes the sentence with its passage: news sentences say "the company" where
    the paragraph named Medisa; names are looked for in the whole article.
    """
    figures = extract_quantities(claim)
    claim_lang = detect_language(claim)
    subject = QuestionWords.of(_without_figures(claim, figures), translate=True)
    documents = {hit.document.doc_id: hit.document for hit in hits}
    common = set(LOWER_WORD.findall(claim)).union(*(lower_words(d) for d in documents.values()))
    names = [_without_opener(n, claim, documents.values()) for n in claim_names(claim, common)]
    claim_places = place_spans(claim, common)
    claim_terms = passage_terms(claim, "id") + passage_terms(claim, "en")
    claim_negated = bool(_NEGATION.search(claim))
    # "juga ... di Universitas Peking", "Selain China, ... ke Jepang": a place or name added, not
    # one in place of the article's
    additive = bool(_ADDITIVE.search(claim))
    name_words = {w.casefold() for n in names for w in n.split()}
    meaning = _meaning(claim, hits, evidence) or {}
    scored = []
    for hit in hits:
        records = evidence.of(hit)
        passage_share = coverage(subject, records.terms, weights)
        for s in records.sentences:
            words = (coverage(subject, s.terms, weights) + passage_share) / 2
            found = list(s.quantities)
            if figures:
                # A figure given counts in full; another figure in the same role, half: "mulai
                # mengekspor ... pada tahun 2021" is about "entered export markets in 2023".
                role = _role(claim, s.text, hit.passage.lang, name_words)
                given = len(figures) - len(unmatched(figures, found))
                in_role = _in_role(role, figures, found, False)
                rivals = len(conflicts(figures, found, role=role, in_role=in_role))
                words = (1 - FIGURE_SHARE) * words + FIGURE_SHARE * (given + rivals / 2) / len(figures)
            cos = meaning.get(s.key)
            same_language = s.lang == claim_lang
            share = thresholds.subject(words, cos, same_language)
            scored.append((share, cos or 0.0, -hit.rank, s, hit, found, words, same_language))
    # most about the claim first; among equals, the closest in meaning, then the better-ranked passage
    scored.sort(key=lambda item: item[:3], reverse=True)
    # A person the claim titles otherwise than the article: the sentence that titles them is
    # compared too, wherever it ranks.
    titled = {doc_id: role_conflicts(claim, document.text) for doc_id, document in documents.items()}
    chosen = scored[:candidates] + [item for item in scored[candidates:]
                                    if any(_first(corpus) in item[3].text for _, corpus in titled[item[4].document.doc_id])]
    out = []
    for share, cos, _, s, hit, found, words, same_language in chosen:
        spans = name_spans(s.text, common)
        sentence_names = [name for name, _ in spans]
        role = _role(claim, s.text, hit.passage.lang, name_words)
        missing = [n for n in names if not name_found(n, hit.document)]
        # A name the article lacks conflicts with one of the sentence's only when both are the
        # same kind of thing ("Kementerian Kesehatan" / "Kementerian Perindustrian"): a name
        # merely absent leaves the claim unconfirmed.
        rival_names = [(m, o) for m in missing for o in sentence_names
                       if not additive and same_kind(m, o) and not name_in(o, claim_terms)]
        # Figures and places conflict only on the claim's own subjects: "Omega Farma ... 5 juta
        # dosis ... di Surabaya" says nothing of what or where Sinar Farma produces.
        on_subject = not [n for n in missing if n not in {p.name for p in claim_places}]
        in_role = _in_role(role, figures, found, share >= thresholds.found)
        clashes = conflicts(figures, found, role=role, in_role=in_role) if on_subject else []
        clashes += _misplaced(figures, found, role, clashes) if on_subject else []
        clashing = {id(claimed) for claimed, _ in clashes}
        rivals = [p for p in place_spans(s.text, common) if not name_in(p.name, claim_terms)]
        # Each place meets the rival in the most alike role; on a tie, the one in the same order
        # ("Surabaya, East Java" / "Karawang, West Java").
        elsewhere = [(place, max(rivals, key=lambda r: (role(place, r), -abs(rivals.index(r) - i))))
                     for i, place in enumerate(claim_places)
                     if rivals and on_subject and not additive and not name_in(place.name, list(s.words))]
        same_role = bool(clashes) or any(role(a, b) for a, b in elsewhere)
        missing_figures = unmatched(figures, found)
        matched = [q for q in figures if q not in missing_figures and not any(q is a for a, _ in clashes)]
        out.append(Comparison(
            hit, s.start, s.end, s.text, share, figure_conflicts=clashes,
            missing_figures=[q for q in missing_figures if id(q) not in clashing and q.kind not in SOFT_KINDS],
            missing_names=missing, other_names=[o for _, o in rival_names],
            negation_differs=claim_negated != bool(_NEGATION.search(s.text)),
            place_conflicts=[(place.name, rival.name) for place, rival in elsewhere], same_role=same_role,
            role_conflicts=[pair for pair in titled[hit.document.doc_id] if _first(pair[1]) in s.text],
            relation_conflicts=relation_conflicts(claim, names, s.text, spans, hit.passage.lang),
            meaning=cos if meaning else None, words=words, same_language=same_language,
            matched_figures=matched))
    return out


# Ordinals count only when they clash ("first export market" / "12th international market"):
# "Medisa first entered ..." says nothing the corpus must repeat.
SOFT_KINDS = ("ordinal", "weekday")


# Kinds a sentence about the claim holds one of for one event: its only date (weekday, multiplier,
# percentage, amount of money, ordinal) is the claim's rival even when the words around them differ. Not years: a sentence
# about a 2025 shipment says nothing of the year exports began; not counts, which news sentences
# give several of.
SOLE_RIVAL_KINDS = ("date", "weekday", "quarter", "multiplier", "percent", "money", "ordinal")


def _misplaced(figures: list[Quantity], found: list[Quantity], role, clashes) -> list[tuple[Quantity, Quantity]]:
    """Claim figures the sentence gives, but for another thing: "Medisa baru mulai berproduksi pada
    2022" against "production began in 2020, scaled domestically in 2022" — the 2022 is there, but
    the words before 2020 are the claim's."""
    out = []
    for q in figures:
        if any(q is a for a, _ in clashes):
            continue
        equal = [e for e in found if same_quantity(q, e)]
        rivals = [e for e in found if comparable(q, e) and not same_quantity(q, e)]
        if equal and rivals:
            best = max(rivals, key=lambda e: role(q, e))
            if role(q, best) >= 1 and role(q, best) > max(role(q, e) for e in equal):
                out.append((q, best))
    return out


def _in_role(role, figures: list[Quantity], found: list[Quantity], about: bool):
    """Whether an evidence figure stands where a claim figure does, so that differing they
    conflict: they say what they count and it is the same thing (checked by `comparable`); or the
    words before them meet (`role`); or, in a sentence about the claim, each side has exactly one
    date (weekday, multiplier, percentage, amount, ordinal). An extra figure the corpus never gives meets none of these: the claim
    is then not found for that part, not contradicted by some other figure."""
    def holds(claimed: Quantity, rival: Quantity) -> bool:
        if claimed.counted and rival.counted:
            return True
        if role(claimed, rival) >= 1:
            return True
        return (claimed.kind in SOLE_RIVAL_KINDS and about
                and sum(q.kind == claimed.kind for q in figures) == 1 and sum(q.kind == rival.kind for q in found) == 1)
    return holds


# Words that say what kind of figure follows, not what it counts: "pada tahun 2021" and
# "pada tahun 2025" need not be about the same thing.
_KIND_WORDS = frozenset("tahun year years tanggal date sebesar sekitar around about nearly hampir".split())


ROLE_WORDS = 4  # words before a figure that say what it counts ("annual exports of")


def _role(claim: str, sentence: str, lang: str, names: set[str] = frozenset()):
    """How many of the words just before a claim figure (or place) also come just before an
    evidence one; anything with a `.start` in its text. Names are left out of that context:
    "Sinar Farma will produce HPV" and "antara Sinar Farma dan Delta" share a company, not a role."""
    def before(text: str, start: int) -> str:
        words = [w for w in text[:start].split() if w.strip(",.()“”\"'").casefold() not in names | _KIND_WORDS]
        return " ".join(words[-ROLE_WORDS:])

    def score(claimed, found) -> float:
        # Each shared word counts 1; the nearer it stands to the claim's figure, the more it breaks
        # a tie: in "Medisa began exporting in 2021", "exporting" says what 2021 dates more than
        # "began" does ("production began in 2020, ... entered export markets in 2023").
        evidence_terms = set(passage_terms(before(sentence, found.start), lang))
        claimed_sets = query_term_sets(before(claim, claimed.start), translate=True)
        return sum(1 + 0.01 * (position + 1) for position, terms in enumerate(claimed_sets) if terms & evidence_terms)
    return score
