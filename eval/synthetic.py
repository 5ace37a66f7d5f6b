"""Synthetic corpora for eval.bench, deterministic per seed.

Dense: vectors shaped like sentence embeddings rather than uniform noise. Each passage mixes a
few of 64 topic directions (sparse Dirichlet weights, so one or two topics dominate), varies
within the topic span, shares a common direction with every other passage (real embeddings are
anisotropic: unrelated e5 passages still score ~0.7) and carries isotropic noise; then it is
L2-normalised. Queries are paraphrases: an existing passage plus fresh noise, normalised.

Text: ~60 words per passage drawn from a Zipf(-Mandelbrot) vocabulary whose most frequent ranks
are the real words of corpus/*.txt in their corpus frequency order, and whose long tail is made-up
pseudo-words (names, rare terms). Queries are five words of an existing passage.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np

DIM = 384
TOPICS = 64
MEAN_WORDS = 60  # words per synthetic passage, on average
_BLOCK = 4096  # generated in whole fixed blocks: a smaller corpus is the start of a larger one (same seed)
_SYLLABLES = [c + v for c in "bcdfghjklmnprstwyz" for v in "aeiou"]
CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus"


def _normalise(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def _topic_basis(dim: int, topics: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(topic directions, topics x dim, unit rows; the common direction, unit)."""
    rng = np.random.default_rng([seed, 0])
    basis = _normalise(rng.standard_normal((topics, dim), dtype=np.float32))
    common = rng.standard_normal(dim, dtype=np.float32)
    return basis, common / np.linalg.norm(common)


def _block(block: int, size: int, basis: np.ndarray, common: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 1, block])
    topics, dim = basis.shape
    weights = rng.gamma(0.1, size=(size, topics)).astype(np.float32)  # sparse Dirichlet(0.1)
    weights /= weights.sum(axis=1, keepdims=True) + 1e-12
    weights += rng.standard_normal((size, topics), dtype=np.float32) * (0.25 / np.sqrt(topics))
    x = weights @ basis
    x += 0.45 * common
    x += rng.standard_normal((size, dim), dtype=np.float32) * (0.35 / np.sqrt(dim))
    return _normalise(x)


def dense_corpus(n: int, dim: int = DIM, topics: int = TOPICS, seed: int = 0) -> np.ndarray:
    """n x dim float32, unit rows."""
    basis, common = _topic_basis(dim, topics, seed)
    out = np.empty((n, dim), dtype=np.float32)
    for block, start in enumerate(range(0, n, _BLOCK)):
        size = min(_BLOCK, n - start)
        out[start:start + size] = _block(block, _BLOCK, basis, common, seed)[:size]
    return out


def dense_queries(corpus: np.ndarray, n: int, seed: int = 0, noise: float = 0.5) -> np.ndarray:
    """n x dim float32 unit rows, each an existing passage plus noise (cosine ~0.89 to it)."""
    from rag.search.dense import paraphrases

    rng = np.random.default_rng([seed, 2])
    picks = rng.integers(0, len(corpus), size=n)
    return paraphrases(corpus[picks], noise, rng)  # as DenseIndex.build makes its tuning queries


def real_words(corpus_dir: Path = CORPUS_DIR) -> list[str]:
    """Words of corpus/*.txt (lower-case letters only, 2+ characters), most frequent first."""
    counts: Counter = Counter()
    for path in sorted(Path(corpus_dir).glob("*.txt")):
        counts.update(w for w in re.findall(r"[^\W\d_]+", path.read_text(encoding="utf-8").lower()) if len(w) > 1)
    return [w for w, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def vocabulary(size: int = 50_000, seed: int = 0, corpus_dir: Path = CORPUS_DIR) -> list[str]:
    """Real corpus words in frequency order, then distinct pseudo-words up to `size`."""
    real = real_words(corpus_dir)[:size]
    seen = set(real)
    rng = np.random.default_rng([seed, 3])
    made = []
    while len(real) + len(made) < size:
        for parts in rng.integers(0, len(_SYLLABLES), size=(size, 4)):
            word = "".join(_SYLLABLES[p] for p in parts[: 2 + parts[0] % 3])
            if word not in seen:
                seen.add(word)
                made.append(word)
                if len(real) + len(made) == size:
                    break
    return real + made


def text_corpus(n: int, seed: int = 0, vocab_size: int = 50_000, vocab: list[str] | None = None) -> list[str]:
    """n passages of 40-80 words (mean MEAN_WORDS) drawn from a Zipf-Mandelbrot vocabulary."""
    vocab = vocab if vocab is not None else vocabulary(vocab_size, seed)
    ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
    cdf = np.cumsum(1.0 / (ranks + 2.7))  # Zipf-Mandelbrot, exponent 1
    cdf /= cdf[-1]
    words = np.array(vocab, dtype=object)
    out: list[str] = []
    for block, start in enumerate(range(0, n, _BLOCK)):
        size = min(_BLOCK, n - start)
        rng = np.random.default_rng([seed, 4, block])
        lengths = rng.integers(MEAN_WORDS - 20, MEAN_WORDS + 21, size=_BLOCK)[:size]
        ids = np.minimum(np.searchsorted(cdf, rng.random(int(lengths.sum()))), len(vocab) - 1)
        drawn = words[ids].tolist()
        ends = np.cumsum(lengths).tolist()
        begin = 0
        for end in ends:
            out.append(" ".join(drawn[begin:end]))
            begin = end
    return out


def text_queries(texts: list[str], n: int, seed: int = 0, words: int = 5) -> list[str]:
    """n queries, each `words` distinct words of a random passage, in random order."""
    rng = np.random.default_rng([seed, 5])
    out = []
    for i in rng.integers(0, len(texts), size=n):
        tokens = list(dict.fromkeys(texts[i].split()))
        pick = rng.choice(len(tokens), size=min(words, len(tokens)), replace=False)
        out.append(" ".join(tokens[j] for j in pick))
    return out
