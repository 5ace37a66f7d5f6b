"""Warta: retrieval-augmented answers over an Indonesian/English news corpus.

Importing this package is cheap: torch, transformers, faiss and gradio load only inside the
functions that need them.
"""
__version__ = "0.1.0"

# OpenMP and MKL read their thread counts once, when torch or faiss loads: set them now (unless the
# user did), from WARTA_THREADS or the cores this process may use. rag.threads.pin_threads applies
# the configured count again when Warta opens.
from rag import threads as _threads

_threads.set_env_defaults(_threads.threads_from_env())


def ask(question: str, lang: str | None = None, **options):
    """rag.ask(question) -> rag.answer.record.Answer, with the settings from the environment.

    The pipeline (models and index) is opened once per process, on the first call.
    >>> answer = ask("Siapa Direktur Hebei MPA?")      # doctest: +SKIP
    >>> answer.text, answer.citations[0].quote           # doctest: +SKIP
    """
    from rag.pipeline import default_pipeline

    return default_pipeline().ask(question, lang=lang, **options)


def search(query: str, **options) -> dict:
    """rag.search(query) -> the `search --json` object, with the settings from the environment."""
    from rag.pipeline import default_pipeline

    return default_pipeline().search(query, **options)


def check(claim: str, **options):
    """rag.check(claim) -> rag.factcheck.verdict.Verdict: supported, contradicted or not_found, with evidence."""
    from rag.pipeline import default_pipeline

    return default_pipeline().check(claim, **options)
