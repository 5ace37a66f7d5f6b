"""What a fact check returns: the verdict, how sure, why in words, and the evidence quoted."""
from __future__ import annotations

from dataclasses import dataclass, field

from rag.answer.record import Citation
from rag.factcheck.judge import Judgement
from rag.messages import say


@dataclass
class Verdict:
    claim: str
    lang: str
    verdict: str  # supported | contradicted | not_found
    confidence: float
    explanation: str
    evidence: list[Citation]
    # What differs, for highlighting: [{"kind", "claim": text in the claim, "corpus": text in the evidence}]
    differences: list[dict] = field(default_factory=list)
    rule: str = ""
    nli: list[dict] | None = None
    mode: dict = field(default_factory=dict)
    timings_ms: dict = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # what was changed in the claim (trimmed, cleaned)
    filters: dict | None = None  # the filters applied (Warta.filters_used), None for the whole corpus

    def to_json(self, claim_id: str | None = None) -> dict:
        """The `check --json` object (docs/design.md, "check --json"; "filters" when any applied)."""
        out = {"id": claim_id, "claim": self.claim, "lang": self.lang, "verdict": self.verdict,
               "confidence": self.confidence, "explanation": self.explanation,
               "evidence": [c.to_json() for c in self.evidence], "differences": self.differences,
               "rule": self.rule, "nli": self.nli, "mode": self.mode, "timings_ms": self.timings_ms,
               "notices": self.notices}
        if self.filters is not None:
            out["filters"] = self.filters
        return out


def explain(judgement: Judgement, lang: str) -> tuple[str, list[dict]]:
    """The explanation in the claim's language, and the differing spans it names."""
    if judgement.verdict == "not_found" and judgement.reason != "missing_figure":
        return say("verdict_not_found_near" if judgement.evidence else "verdict_not_found", lang), []
    best = judgement.evidence[0]
    if judgement.reason == "figure":
        differences = []
        for claimed, found in best.figure_conflicts:  # a date's own full stop is not the figure's
            difference = {"kind": claimed.kind, "claim": claimed.shown, "corpus": found.shown}
            if difference not in differences:
                differences.append(difference)
        return say("verdict_figure", lang, found=", ".join(d["corpus"] for d in differences),
                   claimed=", ".join(d["claim"] for d in differences)), differences
    if judgement.reason == "place":
        differences = [{"kind": "place", "claim": claimed, "corpus": found} for claimed, found in best.place_conflicts]
        return say("verdict_place", lang, found=", ".join(d["corpus"] for d in differences),
                   claimed=", ".join(d["claim"] for d in differences)), differences
    if judgement.reason in ("role", "relation"):
        pairs = best.role_conflicts if judgement.reason == "role" else best.relation_conflicts
        differences = [{"kind": judgement.reason, "claim": claimed, "corpus": found} for claimed, found in pairs]
        return say("verdict_role", lang, found="; ".join(d["corpus"] for d in differences),
                   claimed="; ".join(d["claim"] for d in differences)), differences
    if judgement.reason == "name":
        differences = [{"kind": "name", "claim": ", ".join(dict.fromkeys(best.missing_names)),
                        "corpus": ", ".join(dict.fromkeys(best.other_names))}]
        return say("verdict_name", lang, found=differences[0]["corpus"], claimed=differences[0]["claim"]), differences
    if judgement.reason == "negation":
        return say("verdict_negation", lang), [{"kind": "negation", "claim": "", "corpus": ""}]
    if judgement.reason == "missing_figure":
        claimed = ", ".join(q.shown for q in best.missing_figures)
        return say("verdict_missing_figure", lang, claimed=claimed), [{"kind": "missing", "claim": claimed, "corpus": ""}]
    if judgement.reason == "nli":
        key = "verdict_nli_contradiction" if judgement.verdict == "contradicted" else "verdict_nli_entailment"
        return say(key, lang), []
    return say("verdict_supported", lang), []
