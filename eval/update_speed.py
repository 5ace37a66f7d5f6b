"""How long a full index build takes against updating one changed document, on a synthetic corpus.

    python -m eval.update_speed                      # 100,000 passages, flat and HNSW
    python -m eval.update_speed --passages 20000 --kinds hnsw
    python -m eval.update_speed --model intfloat/multilingual-e5-small   # real embedder, if cached

The corpus is generated (one .jsonl file, four ~450-character paragraphs per document, words
drawn from a Zipf distribution so BM25 sees a realistic vocabulary). The build runs through the
public path, `rag.index.ensure.ensure_index` (load and verify the previous build, chunk, embed what
is new, BM25, FAISS, write, hash, publish), and every stage is timed. Unless --model is given,
passages are embedded by `HashEmbedder` (a deterministic pseudo-random unit vector per text,
no model cost), so "embed" shows the bookkeeping only and "embedded" says how many passages a
real model would have had to encode.

For the benchmark: `measure_update(workdir, passages=100_000, kind="auto")` returns the table's
numbers as a dict.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from eval.report import table

PARAGRAPHS_PER_DOCUMENT = 4
PARAGRAPH_CHARS = 450  # under the default chunk size of 500: one passage per paragraph
STAGES = ("load previous", "corpus", "chunk", "embed", "faiss", "bm25", "write+hash", "publish")


class HashEmbedder:
    """An embedder without a model: a text's vector is the normalised sum of its words' vectors,
    each word's a fixed pseudo-random direction (from its SHA-256). Texts that share words are
    close, so the vectors cluster roughly as real embeddings do (purely random vectors would be
    the worst case for HNSW, not a realistic one). Costs ~30 us a passage."""

    def __init__(self, dimension: int = 384) -> None:
        self.model_id = f"warta-bench/hash-{dimension}"
        self.dimension = dimension
        self.prefixes = {"query": "query: ", "passage": "passage: "}
        self.embedded = 0
        self._words: dict[str, int] = {}
        self._vectors = np.zeros((0, dimension), np.float32)

    def _word_ids(self, text: str) -> list[int]:
        words = text.casefold().replace(".", " ").split()
        fresh = [w for w in dict.fromkeys(words) if w not in self._words]
        if len(self._words) + len(fresh) > len(self._vectors):  # grow by doubling
            grown = np.empty((2 * (len(self._words) + len(fresh)), self.dimension), np.float32)
            grown[: len(self._words)] = self._vectors[: len(self._words)]
            self._vectors = grown
        for word in fresh:
            seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
            self._vectors[len(self._words)] = np.random.default_rng(seed).standard_normal(self.dimension)
            self._words[word] = len(self._words)
        return [self._words[w] for w in words]

    def embed_batch(self, texts: list[str], kind: str, show_progress: bool = False) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), np.float32)
        for row, text in enumerate(texts):
            ids = self._word_ids(text)
            out[row] = self._vectors[ids].sum(axis=0) if ids else 1.0
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        if kind == "passage":
            self.embedded += len(texts)
        return out


class _Vocabulary:
    """Words for synthetic news: half of a paragraph's words from the whole vocabulary (Zipf:
    function words and common terms), half from its document's topic (300 words, Zipf), so
    passages on one topic share terms, as articles on one story do."""

    def __init__(self, size: int = 30_000, topics: int = 1000, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        syllables = [c + v for c in "bcdgjklmnprstw" for v in "aiueo"]
        words = set()
        while len(words) < size:
            words.add("".join(rng.choice(syllables, size=rng.integers(2, 5))))
        self.words = np.array(sorted(words))
        self.p = _zipf(size)
        self.topics = [rng.choice(size, 300, replace=False) for _ in range(topics)]
        self.topic_p = _zipf(300)

    def paragraph(self, rng: np.random.Generator, topic: int, chars: int = PARAGRAPH_CHARS) -> str:
        count = chars // 6
        words = np.concatenate([rng.choice(self.words, size=count - count // 2, p=self.p),
                                self.words[rng.choice(self.topics[topic], size=count // 2, p=self.topic_p)]])
        rng.shuffle(words)
        text, sentence = [], []
        for i, word in enumerate(words):
            sentence.append(str(word))
            if len(sentence) >= 8 + (i % 7) or i == len(words) - 1:
                text.append(" ".join(sentence).capitalize() + ".")
                sentence = []
        return " ".join(text)[:chars].rstrip(" .") + "."


def _zipf(size: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1)
    return weights / weights.sum()


def synthetic_corpus(path: Path, passages: int, seed: int = 0) -> Path:
    """Write a .jsonl corpus of about `passages` passages (four per document) to `path`."""
    vocabulary, rng = _Vocabulary(seed=seed), np.random.default_rng(seed + 1)
    documents = -(-passages // PARAGRAPHS_PER_DOCUMENT)
    with open(path, "w", encoding="utf-8") as f:
        for number in range(documents):
            topic = int(rng.integers(len(vocabulary.topics)))
            paragraphs = [vocabulary.paragraph(rng, topic) for _ in range(PARAGRAPHS_PER_DOCUMENT)]
            record = {"id": f"doc{number:07d}", "title": f"Dokumen {number}", "lang": "id",
                      "date": "2025-01-01", "text": "\n\n".join(paragraphs)}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def change_one_document(path: Path, seed: int = 1) -> str:
    """Rewrite the last paragraph of the middle document of the .jsonl corpus; its id."""
    lines = path.read_text(encoding="utf-8").splitlines()
    middle = len(lines) // 2
    record = json.loads(lines[middle])
    paragraphs = record["text"].split("\n\n")
    paragraphs[-1] = _Vocabulary(seed=0).paragraph(np.random.default_rng(10_000 + seed), topic=0)
    record["text"] = "\n\n".join(paragraphs)
    lines[middle] = json.dumps(record, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return record["id"]


@contextlib.contextmanager
def _stage_timer():
    """Time the stages of rag.index.builder.build_index and IndexStore.load by wrapping what they call."""
    import rag.index.builder as builder
    from rag.index.store import IndexStore

    times = dict.fromkeys(STAGES, 0.0)
    patches = []

    def wrap(owner, name, stage, static=False):
        original = owner.__dict__[name]
        function = original.__func__ if isinstance(original, (classmethod, staticmethod)) else original

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                times[stage] += time.perf_counter() - started

        replacement = classmethod(timed) if isinstance(original, classmethod) else timed
        setattr(owner, name, replacement)
        patches.append((owner, name, original))

    wrap(IndexStore, "load", "load previous")
    wrap(builder, "chunk_corpus", "chunk")
    wrap(builder, "_embed", "embed")
    wrap(builder.DenseIndex, "build", "faiss")
    wrap(builder.LexicalIndex, "build", "bm25")
    wrap(builder, "write_jsonl", "write+hash")
    wrap(builder, "file_hashes", "write+hash")
    wrap(builder.LexicalIndex, "save", "write+hash")
    wrap(builder.DenseIndex, "save", "write+hash")
    wrap(IndexStore, "commit", "publish")
    try:
        yield times
    finally:
        for owner, name, original in reversed(patches):
            setattr(owner, name, original)


def _timed_open(settings, embedder) -> dict:
    """One `ensure_index` run from loading the corpus on: stage times and what it did."""
    from rag.ingest.corpus import load_corpus
    from rag.index.ensure import ensure_index
    from rag.index.store import IndexStore

    before = getattr(embedder, "embedded", None)
    with _stage_timer() as times:
        started = time.perf_counter()
        corpus = load_corpus(settings.corpus_dir)
        times["corpus"] = time.perf_counter() - started
        index = ensure_index(IndexStore(settings.index_dir), corpus, embedder, settings, lambda message: None)
        total = time.perf_counter() - started
    counts = index.manifest["counts"]
    return {**{stage: round(seconds, 2) for stage, seconds in times.items()}, "total": round(total, 2),
            "passages": counts["passages"], "dense_index": index.dense.kind if index.dense else None,
            "ef_search": index.dense.ef_search if index.dense else None,
            "recall_at_10": (index.manifest.get("dense") or {}).get("recall_at_10"),
            "embedded": counts["embedded"] if before is None else embedder.embedded - before,
            "rebuilt": times["publish"] > 0}


def measure_update(workdir: Path, passages: int = 100_000, kind: str = "auto", dimension: int = 384,
                   hnsw_threshold: int = 150_000, embedder=None) -> dict:
    """Full build, then an open with nothing changed, then one changed document, all through
    `ensure_index` on a synthetic corpus of `passages` passages in `workdir` (created, reused
    if its corpus is already there). `embedder` defaults to HashEmbedder(dimension).
    Returns {"full": {...}, "unchanged": {...}, "update": {...}}: seconds per stage and counts."""
    from rag.config import Settings

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    corpus = workdir / f"corpus-{passages}.jsonl"
    if not corpus.exists():
        synthetic_corpus(corpus, passages)
    index_dir = workdir / f"index-{kind}-{passages}"
    shutil.rmtree(index_dir, ignore_errors=True)
    work_corpus = workdir / f"corpus-{kind}-{passages}.jsonl"
    shutil.copyfile(corpus, work_corpus)
    embedder = embedder or HashEmbedder(dimension)
    settings = Settings(corpus_dir=work_corpus, index_dir=index_dir, embedding_model=embedder.model_id,
                        generator_model=None, dense_index=kind, hnsw_threshold=hnsw_threshold)
    result = {"full": _timed_open(settings, embedder), "unchanged": _timed_open(settings, embedder)}
    result["changed_document"] = change_one_document(work_corpus)
    result["update"] = _timed_open(settings, embedder)
    return result


def _table(results: dict[str, dict]) -> str:
    columns = [(f"{kind} {run}", numbers[run]) for kind, numbers in results.items()
               for run in ("full", "update", "unchanged")]
    rows = [*STAGES, "total", "rebuilt", "embedded", "dense_index", "ef_search", "recall_at_10"]
    return "\n".join(table(["stage (s)", *(name for name, _ in columns)],
                           [[row, *(numbers.get(row, "") for _, numbers in columns)] for row in rows]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--kinds", default="flat,hnsw", help="comma-separated: auto, flat, hnsw")
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--model", help="a real embedding model (local cache) instead of HashEmbedder")
    parser.add_argument("--workdir", type=Path, help="keep the corpus and indexes here (default: a temp dir)")
    args = parser.parse_args(argv)
    embedder = None
    if args.model:
        from rag.search.embedding import load_embedder

        embedder = load_embedder(args.model)
    with tempfile.TemporaryDirectory(prefix="warta-update-speed-") as tmp:
        workdir = args.workdir or Path(tmp)
        results = {}
        for kind in args.kinds.split(","):
            results[kind] = measure_update(workdir, args.passages, kind, args.dimension, embedder=embedder)
            print(f"{kind}: changed {results[kind]['changed_document']}", flush=True)
        print(f"\n{args.passages} synthetic passages, {embedder.model_id if embedder else 'HashEmbedder'} "
              f"({args.dimension if not embedder else embedder.dimension} dimensions); seconds per stage\n")
        print(_table(results))


if __name__ == "__main__":
    main()
