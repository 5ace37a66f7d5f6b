"""question -> Answer: retrieval, the extractive evidence check, then a generated or quoted answer."""
from __future__ import annotations

import time

from rag.answer.record import Answer
from rag.ingest.language import detect_language
from rag.messages import say


def stream_answer(warta, question: str, lang: str | None = None, k: int | None = None, mode: str | None = None,
                  filters=None):
    """Yields ("text", text so far) while the answer is written, then ("answer", Answer).

    The extractive evidence check runs first: when no retrieved sentence answers the question,
    Warta abstains and the generator is never asked (it cannot fill the gap). With `filters`
    (rag.search.filters) only the documents they let through are searched; an abstention says
    so, and says when no document passes them at all.
    """
    from rag.pipeline import filter_notice

    started = time.perf_counter()
    question, notices = warta.prepare_question(question)
    lang = lang or detect_language(question)
    timings: dict = {}
    mode_info = warta.answer_mode(mode)
    hits = warta.retriever.retrieve(question, k or warta.settings.top_k, mode_info["requested"], timings, filters)
    used = warta.filters_used(filters)
    timings["retrieve"] = round((time.perf_counter() - started) * 1000, 3)
    t = time.perf_counter()

    def finish(text, abstained, citations, verification=None):
        timings["answer"] = round((time.perf_counter() - t) * 1000, 3)
        timings["total"] = round((time.perf_counter() - started) * 1000, 3)
        if abstained and used is not None and used["matching_documents"]:
            notices.append(filter_notice(filters, used, lang))
        return Answer(question, lang, text, abstained, citations, hits, mode_info, timings, verification, notices,
                      used)

    if used is not None and not used["matching_documents"]:
        text = filter_notice(filters, used, lang)
        yield "text", text
        yield "answer", finish(text, True, [])
        return
    chosen = warta.answerer.select(question, lang, hits)
    if not chosen:
        text = say("abstain", lang)
        yield "text", text
        yield "answer", finish(text, True, [])
        return
    if warta.generator is None:
        text, citations = warta.answerer.compose(chosen, lang)
        yield "text", text
        yield "answer", finish(text, False, citations)
        return
    from rag.answer.generation import strip_links
    from rag.answer.verify import verify

    raw = ""
    generation = warta.generator.stream(question, lang, hits)
    for piece in generation:
        if not raw:
            timings["first_token"] = round((time.perf_counter() - t) * 1000, 3)
        raw += piece
        yield "text", strip_links(raw)
    notices.extend(generation.notices(lang))
    # verify strips links itself, and drops unsupported sentences that carried any.
    checked = verify(raw, hits, lang, warta.term_weights, warta.evidence)
    if generation.withheld or (checked.dropped and not checked.text):
        text = say("withheld_instructions" if generation.withheld else "withheld_links", lang)
        yield "text", text
        yield "answer", finish(text, True, [], checked.summary())
        return
    yield "text", checked.text
    yield "answer", finish(checked.text, False, checked.citations, checked.summary())
