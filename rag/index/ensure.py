"""A verified index that serves this corpus and model: load it, or build or update it under a lock."""
from __future__ import annotations

from typing import Callable

from rag.config import Settings
from rag.errors import CorpusError, IndexInvalid
from rag.index.builder import build_index, staleness
from rag.index.store import IndexStore, LoadedIndex
from rag.ingest.corpus import Corpus
from rag.search.embedding import Embedder

Report = Callable[[str], None]


def ensure_index(store: IndexStore, corpus: Corpus, embedder: Embedder | None, settings: Settings,
                 report: Report, rebuild: bool = False, model_free_reason: str | None = None) -> LoadedIndex:
    """A verified index that serves this corpus and model, building or updating it if needed."""
    if not corpus.documents:
        raise CorpusError(f"the corpus {settings.corpus_dir} has no readable documents; add .txt, .md "
                          "or .jsonl files there (see README, 'Adding documents')")

    def usable() -> tuple[LoadedIndex | None, str | None, bool]:
        """(index, why it cannot serve, whether it is damaged)."""
        try:
            index = store.load()
        except IndexInvalid as e:
            return None, str(e), True
        return index, staleness(index, corpus, embedder, settings), False

    if not rebuild:
        index, reason, _ = usable()
        if reason is None:
            return index
        report(f"index needs a rebuild: {reason}")
    with store.lock(settings.lock_timeout_s):
        previous = None
        if not rebuild:
            # Checked again under the lock: another process may have just built it.
            previous, reason, damaged = usable()
            if reason is None:
                return previous
            if damaged:
                aside = store.set_aside(reason)
                if aside is not None:
                    report(f"set the damaged build aside as {aside}")
        return build_index(store, corpus, embedder, settings, previous=previous,
                           model_free_reason=model_free_reason, report=report)
