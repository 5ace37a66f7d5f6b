"""The verdict from the compared sentences (rag.factcheck.compare): supported, contradicted or not
found, how sure, and which rule decided.

Supported needs a sentence about the claim (`Thresholds.agrees`) on which every figure, name,
place, title and negation agrees, and — with a model — no sentence clearly closer to the claim in
meaning (one that merely shares its names may agree on what it does not say). It is never given
while a sentence as much about the claim gives another figure or place in the same role, or says
the opposite. Contradicted needs a sentence about the claim that differs on one of those; a
subject the corpus does not cover, or a figure it never gives, is not found, and the closest
passages are quoted so the reader sees what the corpus does say.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from rag.answer.record import Citation, cite
from rag.factcheck.compare import DEFAULT, Comparison, Thresholds

CLOSEST = 2  # passages a not_found verdict quotes


@dataclass
class Judgement:
    verdict: str  # supported | contradicted | not_found
    confidence: float
    evidence: list[Comparison]
    # which rule decided: agrees, role, relation, figure, place, negation, name, nli, missing_figure, off_topic, unconfirmed
    reason: str


def _settled_conflicts(comparisons: list[Comparison], thresholds: Thresholds) -> dict[int, list]:
    """Each comparison's figure conflicts, less the claim figures a sentence more about the claim
    bears out: "9.3 million units" agreed by the projection sentence is not contradicted by the
    "nearly 700,000 units" shipped to China."""
    settled: set[int] = set()
    out = {}
    for c in comparisons:
        out[id(c)] = [(a, b) for a, b in c.figure_conflicts if id(a) not in settled]
        if c.subject >= thresholds.agrees:
            settled |= {id(q) for q in c.matched_figures}
    return out


def judge(comparisons: list[Comparison], nli: list[dict] | None = None, thresholds: Thresholds = DEFAULT) -> Judgement:
    """The verdict from the compared sentences (and NLI scores for them, when a model is set)."""
    t = thresholds
    about = [c for c in comparisons if c.subject >= t.found]
    in_role = [c for c in comparisons if c.same_role and c.subject >= t.found - t.role_slack]
    if not about and not in_role:
        return Judgement("not_found", round(1 - (comparisons[0].subject if comparisons else 0.0), 3),
                         closest(comparisons), "off_topic")
    figure_conflicts = _settled_conflicts(comparisons, t)
    titled = [c for c in comparisons if c.role_conflicts]
    if titled:  # the claim gives a person the title the article gives someone else
        return Judgement("contradicted", round(max(titled[0].subject, 0.5), 3), titled[:1], "role")
    related = [c for c in about if c.relation_conflicts]
    if related:  # ... or a thing, an act or a partner the article gives another name
        return Judgement("contradicted", round(related[0].subject, 3), related[:1], "relation")
    agreeing = [c for c in about if c.agrees and c.subject >= t.agrees and c.words >= t.support_words]
    if t.meaning_slack is not None and any(c.meaning is not None for c in about):
        closest_meaning = max(c.meaning for c in about if c.meaning is not None)
        agreeing = [c for c in agreeing if c.meaning is not None and c.meaning >= closest_meaning - t.meaning_slack]
    disputed = [c for c in about if c.subject >= t.agrees and c.same_role and (figure_conflicts[id(c)] or c.place_conflicts)]
    if agreeing:
        disputed += [c for c in about[:about.index(agreeing[0])] if c.negation_differs and c.subject >= t.agrees]
    nli_by_text = {id(c): s for c, s in zip(comparisons, nli or [])}
    if agreeing and not disputed:
        scores = nli_by_text.get(id(agreeing[0]))
        if not (scores and scores["contradiction"] > max(scores["entailment"], 0.5)):
            return Judgement("supported", round(agreeing[0].subject, 3), agreeing[:1], "agrees")
    for rule, holds in (("figure", lambda c: figure_conflicts[id(c)]), ("place", lambda c: c.place_conflicts),
                        ("negation", lambda c: c.negation_differs),
                        ("name", lambda c: c.missing_names and c.other_names and c.subject >= t.agrees)):
        against = [c for c in about + in_role if holds(c)]
        if against:
            best = replace(against[0], figure_conflicts=figure_conflicts[id(against[0])])  # what the explanation names
            return Judgement("contradicted", round(best.subject, 3), [best], rule)
    if nli:
        scored = [(nli_by_text[id(c)], c) for c in about if id(c) in nli_by_text]
        for label, verdict in (("contradiction", "contradicted"), ("entailment", "supported")):
            strong = [(s, c) for s, c in scored if s[label] >= 0.5 and s[label] == max(s.values())]
            if strong:
                return Judgement(verdict, round(strong[0][0][label], 3), [strong[0][1]], "nli")
    best = (about or in_role)[0]
    if best.missing_figures and not best.missing_names:  # on the claim's subject, without its figure
        return Judgement("not_found", round(best.subject, 3), [best], "missing_figure")
    return Judgement("not_found", round(1 - best.subject, 3), closest([best, *comparisons]), "unconfirmed")


def closest(comparisons: list[Comparison]) -> list[Comparison]:
    """The first comparisons from different passages, up to CLOSEST."""
    out: list[Comparison] = []
    for c in comparisons:
        if len(out) < CLOSEST and all(c.hit.passage.chunk_id != o.hit.passage.chunk_id for o in out):
            out.append(c)
    return out


def citations(judgement: Judgement) -> list[Citation]:
    return [cite(n, c.hit, c.start, c.end, c.text) for n, c in enumerate(judgement.evidence, start=1)]
