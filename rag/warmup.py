"""Load at open time what requests would otherwise load on first use, so requests open no files.

Python modules imported inside functions, the glossary, stemmer and term-weight caches and the
thread pinning of libraries loaded since pin_threads are all first touched by a request; doing
one of each kind here (on fixed texts, with the model calls that cost seconds left out) moves that
to Warta.open. tests/test_query_path.py checks it with an audit hook on "open".
"""
from __future__ import annotations

WARM_UP = {"id": "Siapa yang meresmikan pabrik vaksin itu pada tahun 2024?",
           "en": "Who opened the vaccine factory in 2024, and how much did it cost?"}
# Over 400 characters: the language detector's model path, not only the function-word vote.
LONG_TEXT = ("Pabrik itu diresmikan pada tahun lalu dan akan memproduksi obat untuk pasar dalam negeri. " * 5)


def warm_up(warta) -> None:
    from rag.language import detect_language
    from rag.threads import pin_this_thread

    pin_this_thread()  # torch / faiss may have loaded after pin_threads
    detect_language(LONG_TEXT)
    modes = {warta.retriever.effective_mode(m) for m in ("dense", "lexical", "hybrid")}
    for lang, question in WARM_UP.items():
        for mode in sorted(modes):
            warta.search(question, k=3, mode=mode)
        # ask without the generator's seconds: retrieval, the evidence check, the extractive answer
        hits = warta.retriever.retrieve(question, warta.settings.top_k, warta.settings.retrieval_mode)
        chosen = warta.answerer.select(question, lang, hits)
        if chosen:
            warta.answerer.compose(chosen, lang)
        # check without the NLI model's seconds
        from rag.factcheck import compare, judge
        from rag.verdict import explain

        explain(judge(compare(question, hits, warta.term_weights), None), lang)
    if warta.generator is not None:
        from transformers import StoppingCriteriaList, TextIteratorStreamer  # noqa: F401 (rag.generation's)

        import rag.generation  # noqa: F401
        import rag.verify  # noqa: F401
