"""claim -> Verdict: retrieval, the structured comparison, the NLI model when loaded, the verdict."""
from __future__ import annotations

import time

from rag.ingest.language import detect_language


def check_claim(warta, claim: str, k: int | None = None, mode: str | None = None, filters=None):
    """Whether the corpus supports the claim, contradicts it, or does not say (rag.factcheck.compare, rag.factcheck.judge).
    With `filters`, only against the documents they let through; a not_found says so."""
    from rag.factcheck.compare import compare
    from rag.factcheck.judge import citations, judge
    from rag.factcheck.verdict import Verdict, explain
    from rag.pipeline import filter_notice

    started = time.perf_counter()
    claim, notices = warta.prepare_question(claim, what="claim")
    lang = detect_language(claim)
    timings: dict = {}
    # Wider than for answers: the sentence that contradicts a claim may rank below ones that
    # merely share its words.
    hits = warta.retriever.retrieve(claim, max(k or warta.settings.top_k, 8), mode or warta.settings.retrieval_mode,
                                    timings, filters)
    used = warta.filters_used(filters)
    comparisons = compare(claim, hits, warta.term_weights, warta.evidence)
    t = time.perf_counter()
    nli = warta.nli.scores([c.text for c in comparisons], claim) if warta.nli else None
    if nli is not None:
        timings["nli"] = round((time.perf_counter() - t) * 1000, 3)
    judgement = judge(comparisons, nli)
    explanation, differences = explain(judgement, lang)
    if used is not None and not used["matching_documents"]:
        explanation = filter_notice(filters, used, lang)
    elif used is not None and judgement.verdict == "not_found":
        notices.append(filter_notice(filters, used, lang))
    timings["total"] = round((time.perf_counter() - started) * 1000, 3)
    mode_info = {**warta.mode(mode), "nli": warta.nli.model_id if warta.nli else None, "nli_reason": warta.nli_reason,
                 # model-free mode finds a claim's sentence by its words alone, and says so
                 "subject": "meaning and words" if warta.retriever.embedder is not None else
                            "words only (no embedding model: a claim in the other language than the "
                            "article is matched through the glossary)"}
    return Verdict(claim, lang, judgement.verdict, judgement.confidence, explanation,
                   citations(judgement),
                   differences, judgement.reason, nli, mode_info, timings, notices, used)
