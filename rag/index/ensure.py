"""A verified index that serves this corpus and model: load it, or build or update it under a lock."""
from __future__ import annotations

import errno
from typing import Callable

from rag.config import Settings
from rag.errors import CorpusError, IndexInvalid, IndexUnwritable
from rag.index.builder import build_index, embedding_settings, staleness
from rag.index.store import IndexStore, LoadedIndex
from rag.ingest.corpus import Corpus
from rag.messages import Notice
from rag.search.embedding import Embedder

Report = Callable[[str], None]
# Why a folder cannot be written: full (or over quota, or over the file size limit), read-only,
# or not ours. A raw traceback for these would help nobody; other errors are not about the folder.
UNWRITABLE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}


def open_store(settings: Settings):
    """Where builds live: index/ (IndexStore), or a PostgreSQL database (rag.index.postgres.PgStore)."""
    if settings.backend == "postgres":
        from rag.index.postgres import PgStore

        return PgStore(settings.pg_dsn)
    return IndexStore(settings.index_dir)


def _vector_lender(store, settings: Settings, previous):
    """The build whose vectors a new build may reuse: the store's own previous build, else --
    when a corpus moves to PostgreSQL -- the local index's live build, so migrating does not
    embed everything again."""
    if previous is not None or store.backend == "local":
        return previous
    try:
        return IndexStore(settings.index_dir).load()
    except (IndexInvalid, OSError):
        return None


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

    index = None
    if not rebuild:
        index, reason, _ = usable()
        if reason is None:
            return index
        report(f"index needs a rebuild: {reason}")
    try:
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
            stale = store.clear_stale()
            if stale:
                report(f"removed {len(stale)} unfinished build(s) left by earlier failures: {', '.join(stale)}")
            return build_index(store, corpus, embedder, settings, previous=_vector_lender(store, settings, previous),
                               model_free_reason=model_free_reason, report=report)
    except OSError as e:
        if e.errno not in UNWRITABLE:
            raise
        return _serve_unwritable(store, index, embedder, e, report)


def _serve_unwritable(store: IndexStore, index: LoadedIndex | None, embedder: Embedder | None,
                      error: OSError, report: Report) -> LoadedIndex:
    """The last valid build, with a notice of what went wrong and what to do; IndexUnwritable
    when there is none this embedding model can search (its vectors would not match)."""
    values = {"folder": str(store.root), "reason": error.strerror or str(error)}
    if index is None:
        try:
            index = store.load()
        except IndexInvalid:
            pass
    wanted = embedding_settings(embedder) if embedder is not None else None
    if index is None or (embedder is not None and index.manifest.get("embedding") != wanted):
        raise IndexUnwritable(Notice("index_unwritable", values)) from None
    index.notice = Notice("index_unwritable_serving", {**values, "built": index.manifest.get("created_at")})
    report(index.notice.say("en"))
    return index
