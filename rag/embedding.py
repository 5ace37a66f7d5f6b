"""Embedders: text -> L2-normalised float32 vectors. One method, `embed_batch`, does the work."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

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


class SentenceTransformerEmbedder:
    def __init__(self, model_id: str, path: Path, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a per-weight bar on every start is noise
        self.model_id = model_id
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.dimension = int(self._model.get_embedding_dimension())
        self.prefixes = prompt_prefixes(self._model, model_id)

    def embed_batch(self, texts: list[str], kind: str, show_progress: bool = False) -> np.ndarray:
        if kind not in KINDS:
            raise ValueError(f"kind {kind!r} is not one of {KINDS}")
        vectors = self._model.encode(
            list(texts), prompt=self.prefixes[kind] or None, batch_size=self.batch_size,
            normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)


def load_embedder(model_id: str, batch_size: int = 32) -> SentenceTransformerEmbedder:
    """The sentence-transformers model `model_id` (hub id in the cache, or a directory)."""
    path = resolve_model(model_id, "embedding")
    try:
        return SentenceTransformerEmbedder(model_id, path, batch_size=batch_size)
    except (OSError, ValueError, KeyError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelUnavailable(f"embedding model {model_id} at {path} cannot be loaded ({first}); "
                               f"{how_to_fix('embedding')}") from None
