"""Embedders: text -> L2-normalised float32 vectors. One method, `embed_batch`, does the work.

Two backends compute them: torch (sentence-transformers) and ONNX Runtime (rag.search.onnx_encoder, the
same model exported once). `load_embedder(..., encoder="auto")` picks one; both keep recent query
embeddings in an LRU cache, so a repeated question skips the encoder.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from rag.errors import ModelUnavailable
from rag.models import how_to_fix, resolve_model

KINDS = ("query", "passage")


class Embedder(Protocol):
    model_id: str
    dimension: int
    prefixes: dict[str, str]

    def embed_batch(self, texts: list[str], kind: str, show_progress: bool = False) -> np.ndarray:
        """One normalised row per text; `kind` is 'query' or 'passage'."""


def prompt_prefixes(model, model_id: str) -> dict[str, str]:
    """The text put before queries and passages.

    The model's own configured prompts win; the e5 family was trained with "query: " and
    "passage: " and scores worse without them, so they are added when the name says e5.
    """
    prompts = getattr(model, "prompts", {}) or {}
    query = prompts.get("query") or ""
    passage = prompts.get("passage") or prompts.get("document") or ""
    if not (query or passage) and "e5" in Path(model_id).name.lower().split("-"):
        query, passage = "query: ", "passage: "
    return {"query": query, "passage": passage}


class QueryCache:
    """The last `size` query embeddings, keyed by (model id, kind, text); thread-safe. Rows are
    stored read-only and handed out as copies, so no caller can change what the next one gets."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._rows: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> np.ndarray | None:
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                self.misses += 1
                return None
            self._rows.move_to_end(key)
            self.hits += 1
            return row

    def put(self, key: tuple, row: np.ndarray) -> None:
        if self.size <= 0:
            return
        row = np.array(row, dtype=np.float32, copy=True)
        row.flags.writeable = False
        with self._lock:
            self._rows[key] = row
            self._rows.move_to_end(key)
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            self.hits = self.misses = 0


class CachedEmbedder:
    """embed_batch with the query cache in front of a backend's `_encode(texts, kind)`.

    Only queries are cached: passages are embedded once per index build, and would push the
    questions out. `backend` names the backend ("torch", "onnx"); `backend_reason` says why it
    was chosen (or why ONNX was not)."""

    model_id: str
    dimension: int
    prefixes: dict[str, str]
    backend: str = "torch"
    backend_reason: str | None = None

    def __init__(self, cache_size: int = 1024) -> None:
        self.query_cache = QueryCache(cache_size)

    def _encode(self, texts: list[str], kind: str, show_progress: bool = False) -> np.ndarray:
        raise NotImplementedError

    def embed_batch(self, texts: list[str], kind: str, show_progress: bool = False) -> np.ndarray:
        if kind not in KINDS:
            raise ValueError(f"kind {kind!r} is not one of {KINDS}")
        texts = list(texts)
        cache = self.query_cache
        if kind != "query" or cache.size <= 0 or not texts:
            return self._encode(texts, kind, show_progress)
        keys = [(self.model_id, kind, text) for text in texts]
        rows = [cache.get(key) for key in keys]
        missing = [i for i, row in enumerate(rows) if row is None]
        if missing:
            # each text once, even when the batch repeats it
            todo = list(dict.fromkeys(texts[i] for i in missing))
            fresh = dict(zip(todo, self._encode(todo, kind, show_progress)))
            for i in missing:
                rows[i] = fresh[texts[i]]
                cache.put(keys[i], rows[i])
        return np.stack(rows).astype(np.float32, copy=False)  # a new array, never the cache's rows


class SentenceTransformerEmbedder(CachedEmbedder):
    backend = "torch"

    def __init__(self, model_id: str, path: Path, batch_size: int = 32, cache_size: int = 1024) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        from rag.threads import pin_this_thread

        super().__init__(cache_size)
        transformers_logging.disable_progress_bar()  # a per-weight bar on every start is noise
        pin_this_thread()  # torch is loaded now: give it the thread budget
        self.model_id = model_id
        self.path = Path(path)
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.dimension = int(self._model.get_embedding_dimension())
        self.prefixes = prompt_prefixes(self._model, model_id)

    def _encode(self, texts: list[str], kind: str, show_progress: bool = False) -> np.ndarray:
        vectors = self._model.encode(
            list(texts), prompt=self.prefixes[kind] or None, batch_size=self.batch_size,
            normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)


def load_embedder(model_id: str, batch_size: int = 32, encoder: str = "torch", cache_size: int = 1024,
                  min_cosine: float = 0.999, samples: Callable[[], tuple[list[str], list[str]]] | None = None,
                  report: Callable[[str], None] | None = None, path: Path | None = None,
                  defer: bool = False) -> CachedEmbedder:
    """The sentence-transformers model `model_id` (hub id in the cache, or a directory; or
    named `model_id` and read from `path`).

    encoder: "torch"; "onnx" or "auto" try ONNX Runtime (rag.search.onnx_encoder.choose: exported once,
    used only when its embeddings match torch's, and for "auto" only when it is also faster). The
    result's `backend` and `backend_reason` say which runs and why. `samples` gives (queries,
    passages) for that one-off check; `report` receives its progress. `defer` (servers) keeps
    that check off the start-up path: see rag.search.onnx_encoder.choose.
    """
    path = path or resolve_model(model_id, "embedding")
    try:
        if encoder == "torch":
            embedder = SentenceTransformerEmbedder(model_id, path, batch_size=batch_size, cache_size=cache_size)
            embedder.backend_reason = "torch was asked for (encoder=torch)"
            return embedder
        from rag.search.onnx_encoder import choose

        return choose(model_id, path, batch_size=batch_size, encoder=encoder, cache_size=cache_size,
                      min_cosine=min_cosine, samples=samples, report=report, defer=defer)
    except (OSError, ValueError, KeyError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelUnavailable(f"embedding model {model_id} at {path} cannot be loaded ({first}); "
                               f"{how_to_fix('embedding')}") from None
