"""Load at open time what requests would otherwise load on first use, so requests open no files.

Python modules imported inside functions, the glossary, stemmer and term-weight caches, the answer
model and the thread pinning of libraries loaded since pin_threads are all first touched by a
request; calling the public methods once here (Warta.open does it before the generator and NLI
model join, so their seconds are not spent) moves that to Warta.open. tests/test_query_path.py
checks it with an audit hook on "open".
"""
from __future__ import annotations

WARM_UP = {"id": "Siapa yang meresmikan pabrik vaksin itu pada tahun 2024?",
           "en": "Who opened the vaccine factory in 2024, and how much did it cost?"}
# Over 400 characters: the language detector's model path, not only the function-word vote.
LONG_TEXT = ("Pabrik itu diresmikan pada tahun lalu dan akan memproduksi obat untuk pasar dalam negeri. " * 5)


def warm_up(warta) -> None:
    from rag.ingest.language import detect_language
    from rag.threads import pin_this_thread

    pin_this_thread()  # torch / faiss may have loaded after pin_threads
    detect_language(LONG_TEXT)
    modes = {warta.retriever.effective_mode(m) for m in ("dense", "lexical", "hybrid")}
    for question in WARM_UP.values():
        for mode in sorted(modes):
            warta.search(question, k=3, mode=mode)
        warta.ask(question)
        warta.check(question)


def warm_up_generation() -> None:
    """The modules a generated answer imports on its way (rag.answer.flow, rag.answer.generation)."""
    from transformers import StoppingCriteriaList, TextIteratorStreamer  # noqa: F401 (rag.answer.generation's)

    import rag.answer.generation  # noqa: F401
    import rag.answer.verify  # noqa: F401
