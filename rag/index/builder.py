"""corpus -> passages -> vectors + BM25 -> a new build in the store. Incremental: a passage whose
text was embedded by the same model in the live build reuses that vector."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from rag.ingest.chunking import SEPARATORS, Passage, chunk_corpus
from rag.config import Settings
from rag.ingest.corpus import Corpus
from rag.search.backend import SearchBackend
from rag.search.dense import choose_kind
from rag.search.embedding import Embedder
from rag.search.lexical import LexicalIndex
from rag.index.store import FORMAT_VERSION, LEGACY_DENSE

Report = Callable[[str], None]


def chunk_settings(settings: Settings) -> dict:
    return {"splitter": "langchain RecursiveCharacterTextSplitter", "chunk_size": settings.chunk_size,
            "chunk_overlap": settings.chunk_overlap, "separators": SEPARATORS}


def lexical_settings(settings: Settings) -> dict:
    """What the BM25 index depends on; a change (another stop-word list too) rebuilds it."""
    return {"library": "bm25s", "method": "lucene", "k1": 1.5, "b": 0.75, "stemmer": settings.stemmer,
            "analysis": "NFKC casefold, id+en function words, numbers read by rag.numbers, stemmed per language",
            "stop_words": stop_words_fingerprint()}


def stop_words_fingerprint() -> str:
    import hashlib

    from rag.search import stopwords

    digest = hashlib.sha256(" ".join(sorted(stopwords.ALL)).encode()).hexdigest()[:12]
    return f"{len(stopwords.ALL)} words, sha256 {digest}"


def embedding_settings(embedder: Embedder) -> dict:
    return {"model": embedder.model_id, "dimension": embedder.dimension, "normalized": True,
            "metric": "inner product on L2-normalised vectors (= cosine)",
            "query_prefix": embedder.prefixes["query"], "passage_prefix": embedder.prefixes["passage"]}


def encoder_record(embedder: Embedder) -> dict:
    """Which backend embedded this build's new passages, and why. Not compared for staleness:
    torch and ONNX vectors agree to cosine >= onnx_min_cosine (rag.search.onnx_encoder), so a build
    embedded by one is served, and reused, by the other."""
    return {"backend": getattr(embedder, "backend", "torch"), "why": getattr(embedder, "backend_reason", None)}


def staleness(index: SearchBackend, corpus: Corpus, embedder: Embedder | None, settings: Settings) -> str | None:
    """Why `index` does not serve this corpus, model and chunking -- or None when it does."""
    manifest = index.manifest
    if manifest.get("chunking") != chunk_settings(settings):
        old = manifest.get("chunking") or {}
        return (f"chunk settings changed ({old.get('chunk_size')}/{old.get('chunk_overlap')} -> "
                f"{settings.chunk_size}/{settings.chunk_overlap})")
    if manifest.get("lexical") != lexical_settings(settings):
        old, new = manifest.get("lexical") or {}, lexical_settings(settings)
        changed = [f"{key} {old.get(key)} -> {new[key]}" for key in new if old.get(key) != new[key]]
        return f"lexical analysis changed ({'; '.join(changed)})"
    if embedder is not None:
        built = manifest.get("embedding")
        if built is None:
            return f"index has no vectors and embedding model {embedder.model_id} is now available"
        if built != embedding_settings(embedder):
            return (f"index was built with embedding model {built.get('model')} (dimension "
                    f"{built.get('dimension')}); the configured model is {embedder.model_id} "
                    f"(dimension {embedder.dimension})")
    if embedder is not None:
        why = _dense_staleness(manifest, settings)
        if why:
            return why
    indexed = {doc_id: entry.get("sha256") for doc_id, entry in manifest.get("documents", {}).items()}
    current = {d.doc_id: d.content_hash for d in corpus.documents}
    if indexed != current:
        added = len(current.keys() - indexed.keys())
        removed = len(indexed.keys() - current.keys())
        changed = sum(1 for k in current.keys() & indexed.keys() if current[k] != indexed[k])
        return f"corpus changed ({added} added, {changed} changed, {removed} removed)"
    return None


def wanted_dense(settings: Settings, size: int) -> dict:
    """What the dense index of `size` vectors must be under `settings` (compared with the
    manifest's "dense" record)."""
    kind = choose_kind(settings.dense_index, size, settings.hnsw_threshold)
    return {"type": kind, **({"target_recall": settings.hnsw_target_recall} if kind == "hnsw" else {})}


def _dense_staleness(manifest: dict, settings: Settings) -> str | None:
    built = manifest.get("dense") or LEGACY_DENSE
    wanted = wanted_dense(settings, int((manifest.get("counts") or {}).get("vectors") or 0))
    if built.get("type") != wanted["type"]:
        return (f"dense index type changed ({built.get('type')} -> {wanted['type']}; setting "
                f"{settings.dense_index}, HNSW above {settings.hnsw_threshold} passages)")
    if wanted["type"] == "hnsw" and built.get("target_recall") != wanted["target_recall"]:
        return f"HNSW target recall changed ({built.get('target_recall')} -> {wanted['target_recall']})"
    return None


def _reusable_vectors(previous: SearchBackend | None, embedder: Embedder) -> dict[str, np.ndarray]:
    if previous is None or not previous.has_vectors:
        return {}
    if previous.manifest.get("embedding") != embedding_settings(embedder):
        return {}
    return previous.reusable_vectors()


def _embed(passages: list[Passage], embedder: Embedder, previous: SearchBackend | None,
           report: Report) -> tuple[np.ndarray, int]:
    """Vectors for all passages and how many had to be computed."""
    known = _reusable_vectors(previous, embedder)
    missing = [p.text for p in passages if p.text not in known]
    missing = list(dict.fromkeys(missing))
    if missing:
        report(f"Embedding {len(missing)} passages with {embedder.model_id} "
               f"({len(passages) - len(missing)} reused from the previous index)")
        fresh = embedder.embed_batch(missing, "passage", show_progress=len(missing) > 32)
        known.update(zip(missing, fresh))
    vectors = np.stack([known[p.text] for p in passages]) if passages else np.zeros((0, embedder.dimension), np.float32)
    return vectors.astype(np.float32), len(missing)


def build_index(store, corpus: Corpus, embedder: Embedder | None, settings: Settings,
                previous: SearchBackend | None = None, model_free_reason: str | None = None,
                report: Report = lambda message: None) -> SearchBackend:
    """Write a complete new build into `store` (rag.index.store.IndexStore, or
    rag.index.postgres.PgStore) and make it live. The caller holds the store's lock. `previous`
    (a build of either backend) lends the vectors of passages whose text it embedded already."""
    started = time.perf_counter()
    documents = corpus.documents
    passages = chunk_corpus(documents, settings.chunk_size, settings.chunk_overlap)
    report(f"Chunked {len(documents)} documents into {len(passages)} passages")

    vectors, embedded = None, 0
    if embedder is not None and passages:
        vectors, embedded = _embed(passages, embedder, previous, report)
    report("Building the BM25 index")
    lexical = LexicalIndex.build(passages, settings.stemmer)

    per_doc = {}
    for p in passages:
        per_doc[p.doc_id] = per_doc.get(p.doc_id, 0) + 1
    count = len(vectors) if vectors is not None else 0
    manifest = {
        "format_version": FORMAT_VERSION,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "backend": store.backend,
        "retrieval_modes": ["dense", "lexical", "hybrid"] if vectors is not None else ["lexical"],
        "embedding": embedding_settings(embedder) if vectors is not None else None,
        "dense": None,  # the store's record of the index it builds over the vectors
        "encoder": encoder_record(embedder) if vectors is not None else None,
        "model_free_reason": model_free_reason if embedder is None else None,
        "chunking": chunk_settings(settings),
        "lexical": lexical_settings(settings),
        "documents": {d.doc_id: {"sha256": d.content_hash, "passages": per_doc.get(d.doc_id, 0),
                                 "origin": d.origin} for d in documents},
        "counts": {"documents": len(documents), "passages": len(passages), "vectors": count,
                   "embedded": embedded, "reused": count - embedded},
        "skipped": [str(problem) for problem in corpus.problems],
        "build_seconds": None,
    }
    index = store.write_build(documents, passages, vectors, lexical, manifest, settings, report, started)
    report(f"Index ready: {len(passages)} passages from {len(documents)} documents "
           f"in {manifest['build_seconds']:.1f} s ({index.label})")
    return index
