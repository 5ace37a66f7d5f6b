"""The embedding model on ONNX Runtime: exported once from torch, used only when it is as good and faster.

    choose(model_id, path, encoder="auto") -> an embedder (backend "onnx" or "torch", with a reason)

The first time a model is met (per model files and library versions) its transformer is exported
with torch.onnx.export (the TorchScript exporter, offline) into `warta-onnx/<key>/` inside the
model's folder (or ~/.cache/warta/onnx/ when that is not writable), with the tokenizer exactly as
sentence-transformers configured it and a spec of the pooling. Then, once per thread count, both
backends embed a sample of corpus passages and questions: the token ids must be identical, every
cosine between the two embeddings >= `min_cosine` (0.999), and ONNX must be faster (single-query
median latency at least 5% lower, a batch of passages not more than 10% slower). The measurements
are recorded in `check-threads<N>.json` next to the export, so later starts only read them and
load the backend they chose (an ONNX start imports neither torch nor sentence-transformers).
With "auto" the export and check (half a minute for multilingual-e5-small) never delay a start:
a server runs them in a background thread and switches afterwards; a one-shot command stays on
torch until some server has checked. Speeds measured on a machine busier than its cores are
measured again by the next server start.

Pooling is done here in numpy, as the model's own modules say (mean or CLS over the attention
mask, then L2 normalisation); other module layouts (Dense layers, prompt-excluding pooling, ...)
stay on torch.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np

from rag.search.embedding import CachedEmbedder, SentenceTransformerEmbedder, prompt_prefixes
from rag.errors import WartaError

EXPORT_VERSION = 1
CACHE_DIR = "warta-onnx"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
SPEC_FILE = "encoder.json"
OPSET = 17
# "faster" means: single-query median latency at most 95% of torch's, and a batch of passages at
# most 110% of torch's (index builds use the same backend).
QUERY_SPEEDUP = 0.95
BATCH_SLACK = 1.10
QUERY_RUNS = 12  # single queries per backend in the check
# Built-in sample for the check when no corpus is given (both languages, short and long).
DEFAULT_QUERIES = ["Apa itu Biotown?", "Siapa Direktur Hebei MPA?", "Berapa nilai investasi MiLab?",
                   "Who is the President Director of MiLab?", "What will Kalbe Farma produce?",
                   "Where will the Biotown area be built?", "vaksin HPV", "exports to China in 2030"]
DEFAULT_PASSAGES = [
    "Kalbe Farma dan mitranya akan memproduksi vaksin di Indonesia mulai tahun depan, kata direktur "
    "perusahaan dalam konferensi pers di Jakarta pada Selasa.",
    "The company plans to export 12 million units a year by 2030, its president director said, "
    "adding that the factory in Cikarang would employ 1,500 people.",
    "BPOM bertemu dengan otoritas obat Tiongkok untuk membahas kerja sama pengawasan obat dan makanan.",
    "Short.",
] * 2

Report = Callable[[str], None]


class OnnxUnsupported(Exception):
    """The model's modules are not ones this exporter reproduces; the message says which."""


# --- where the export lives ---------------------------------------------------------------------
def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("torch", "transformers", "sentence-transformers", "onnx", "onnxruntime", "tokenizers"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


def model_fingerprint(path: Path) -> str:
    """Name, size and modification time of every file of the model (links followed; this
    module's own folder left out): a changed model gets a new export."""
    digest = hashlib.sha256()
    for file in sorted(Path(path).rglob("*")):
        relative = file.relative_to(path)
        if relative.parts[0] == CACHE_DIR or not file.is_file():
            continue
        stat = file.stat()
        digest.update(f"{relative.as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def export_key(path: Path) -> str:
    """The export's folder name: model files, exporter versions and this module's format."""
    exporters = {k: v for k, v in _versions().items() if k not in ("onnxruntime", "tokenizers")}
    blob = json.dumps({"model": model_fingerprint(path), "versions": exporters, "format": EXPORT_VERSION},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _writable_dir(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".probe-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def cache_roots(path: Path) -> list[Path]:
    """Where exports of the model at `path` live: `warta-onnx/` inside the model's folder (it goes
    when the model goes), else a per-model folder under ~/.cache/warta/onnx (XDG_CACHE_HOME), for
    model folders that cannot be written."""
    path = Path(path)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "warta" / "onnx"
    resolved = path.resolve()
    return [path / CACHE_DIR, base / f"{resolved.name}-{hashlib.sha256(str(resolved).encode()).hexdigest()[:8]}"]


def writable_root(path: Path) -> Path | None:
    """The first of cache_roots(path) that can be written (created if needed), or None."""
    return next((root for root in cache_roots(path) if _writable_dir(root)), None)


def _prune(root: Path, keep: str) -> None:
    """Remove exports of older model files or library versions, and unfinished ones over an hour old."""
    for entry in root.iterdir():
        if entry.name == keep or not entry.is_dir():
            continue
        if entry.name.startswith(".tmp-") and time.time() - entry.stat().st_mtime < 3600:
            continue  # maybe another process exporting right now
        doomed = entry if entry.name.startswith(".tmp-") else entry.with_name(f".tmp-removing-{entry.name}")
        try:
            if doomed != entry:
                os.replace(entry, doomed)
            shutil.rmtree(doomed, ignore_errors=True)
        except OSError:
            pass


# --- export -------------------------------------------------------------------------------------
def onnx_layout(model) -> dict:
    """The spec the ONNX encoder needs from a loaded SentenceTransformer, or OnnxUnsupported."""
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    modules = list(model)
    if len(modules) < 2 or type(modules[0]) is not Transformer:
        raise OnnxUnsupported(f"its first module is {type(modules[0]).__name__ if modules else 'missing'}, "
                              "not a Transformer")
    transformer, pooling, rest = modules[0], modules[1], modules[2:]
    if transformer.transformer_task != "feature-extraction" or transformer.modality_config != {
            "text": {"method": "forward", "method_output_name": "last_hidden_state"}}:
        raise OnnxUnsupported(f"its transformer is a {transformer.transformer_task} model with "
                              f"modalities {sorted(transformer.modality_config)}")
    if transformer.query_expansion or transformer.query_length or transformer.document_length:
        raise OnnxUnsupported("it sets query expansion or per-task lengths")
    if type(pooling) is not Pooling or pooling.pooling_mode not in ("mean", "cls"):
        raise OnnxUnsupported(f"its pooling is {getattr(pooling, 'pooling_mode', type(pooling).__name__)!r}, "
                              "not mean or cls")
    if not pooling.include_prompt:
        raise OnnxUnsupported("its pooling leaves the prompt out")
    if any(type(m) is not Normalize for m in rest):
        raise OnnxUnsupported(f"it has further modules ({', '.join(type(m).__name__ for m in rest)})")
    tokenizer = transformer.tokenizer
    if tokenizer is None or not tokenizer.is_fast or tokenizer.padding_side != "right":
        raise OnnxUnsupported("its tokenizer is not a right-padding fast tokenizer")
    known = ("input_ids", "attention_mask", "token_type_ids")
    if not set(tokenizer.model_input_names) <= set(known) or "input_ids" not in tokenizer.model_input_names:
        raise OnnxUnsupported(f"its tokenizer makes inputs {tokenizer.model_input_names}")
    max_length = int(tokenizer.model_max_length)
    limit = getattr(transformer.auto_model.config, "max_position_embeddings", None)
    if max_length > 1_000_000:
        if not limit:
            raise OnnxUnsupported("its tokenizer has no maximum length")
        max_length = int(limit)
    return {"inputs": [n for n in known if n in tokenizer.model_input_names], "max_length": max_length,
            "pad_id": int(tokenizer.pad_token_id), "pad_token": str(tokenizer.pad_token),
            "pad_type_id": int(getattr(tokenizer, "pad_token_type_id", 0) or 0),
            "pooling": pooling.pooling_mode, "dimension": int(model.get_embedding_dimension()),
            "prompts": dict(getattr(model, "prompts", {}) or {})}


def export(model, target: Path, spec: dict) -> None:
    """Write model.onnx (token embeddings: batch x sequence x hidden, both axes dynamic),
    tokenizer.json and encoder.json for the SentenceTransformer `model` into `target`."""
    import warnings

    import torch

    transformer = model[0]
    names = spec["inputs"]

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *tensors):
            return self.inner(**dict(zip(names, tensors)), return_dict=True).last_hidden_state

    # Traced on two texts of different lengths: the padding (attention-mask) path is the one recorded.
    example = transformer.tokenizer(["query: a short question?", "passage: " + "a longer passage of text " * 6],
                                    padding=True, truncation="longest_first", return_tensors="pt")
    dynamic = {n: {0: "batch", 1: "sequence"} for n in names}
    dynamic["token_embeddings"] = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings and the exporter's deprecation notice
        torch.onnx.export(TokenEmbeddings(transformer.auto_model).eval(), tuple(example[n] for n in names),
                          str(target / MODEL_FILE), dynamo=False, input_names=names,
                          output_names=["token_embeddings"], dynamic_axes=dynamic, opset_version=OPSET)
    transformer.tokenizer.backend_tokenizer.save(str(target / TOKENIZER_FILE))
    (target / SPEC_FILE).write_text(json.dumps({**spec, "format": EXPORT_VERSION, "opset": OPSET,
                                                "versions": _versions()}, indent=1), encoding="utf-8")


def export_once(model, root: Path, key: str, spec: dict) -> Path:
    """The export `root/key`, written now if missing (in a temporary folder, then renamed: a
    killed export never leaves a half-written one under the real name)."""
    final = root / key
    if (final / SPEC_FILE).exists():
        return final
    tmp = root / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        export(model, tmp, spec)
        try:
            os.rename(tmp, final)
        except OSError:  # another process published it first
            if not (final / SPEC_FILE).exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    _prune(root, keep=key)
    return final


# --- the ONNX Runtime embedder --------------------------------------------------------------------
class OnnxEmbedder(CachedEmbedder):
    """An exported model on ONNX Runtime: the tokenizer as sentence-transformers set it up, the
    transformer in ONNX, pooling and normalisation in numpy."""

    backend = "onnx"

    def __init__(self, model_id: str, directory: Path, batch_size: int = 32, cache_size: int = 1024,
                 threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from rag.threads import budget

        super().__init__(cache_size)
        self.model_id = model_id
        self.directory = Path(directory)
        self.batch_size = batch_size
        spec = json.loads((self.directory / SPEC_FILE).read_text(encoding="utf-8"))
        self.spec = spec
        self.dimension = int(spec["dimension"])
        self.prefixes = prompt_prefixes(SimpleNamespace(prompts=spec["prompts"]), model_id)
        self.pooling = spec["pooling"]
        self.inputs = list(spec["inputs"])
        tokenizer = Tokenizer.from_file(str(self.directory / TOKENIZER_FILE))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        tokenizer.enable_truncation(max_length=int(spec["max_length"]))
        tokenizer.enable_padding(pad_id=spec["pad_id"], pad_token=spec["pad_token"], pad_type_id=spec["pad_type_id"])
        self._tokenizer = tokenizer
        options = ort.SessionOptions()
        self.threads = threads or budget()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only
        # No busy-waiting between runs: the generator (torch) and FAISS share these cores, and
        # measured on 2 loaded cores spinning made 2-thread queries slower, not faster.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(self.directory / MODEL_FILE), options,
                                             providers=["CPUExecutionProvider"])

    def features(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The model inputs for already-prefixed texts (padded to the longest, truncated)."""
        encodings = self._tokenizer.encode_batch(list(texts))
        arrays = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                  "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                  "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        return {name: arrays[name] for name in self.inputs}

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.pooling == "cls":
            first = mask.argmax(axis=1)
            pooled = hidden[np.arange(len(hidden)), first]
        else:  # mean over real tokens, as sentence-transformers' Pooling (clamped at 1e-9)
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)  # as torch's F.normalize

    def _encode(self, texts: list[str], kind: str, show_progress: bool = False) -> np.ndarray:
        prefix = self.prefixes[kind]
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        # Longest first, as sentence-transformers does: batches of similar lengths pad little.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        starts = range(0, len(order), self.batch_size)
        if show_progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches")
        for start in starts:
            chunk = order[start:start + self.batch_size]
            feeds = self.features([prefix + texts[i] for i in chunk])
            hidden = self._session.run(["token_embeddings"], feeds)[0]
            mask = feeds.get("attention_mask")
            if mask is None:
                mask = np.ones(hidden.shape[:2], dtype=np.int64)
            out[chunk] = self._pool(hidden, mask)
        return out


# --- the one-off check ------------------------------------------------------------------------------
def corpus_samples(corpus_dir: Path, chunk_size: int = 500, chunk_overlap: int = 0,
                   passages: int = 16, queries: int = 8) -> tuple[list[str], list[str]]:
    """(questions, passages) for the check: built-in questions plus passage openings as queries,
    and passages spread over the corpus. The built-in sample when the corpus has no documents."""
    from rag.ingest.chunking import chunk_corpus
    from rag.ingest.corpus import load_corpus

    documents = load_corpus(corpus_dir).documents
    chunks = [p.text for p in chunk_corpus(documents, chunk_size, chunk_overlap)] if documents else []
    if not chunks:
        return list(DEFAULT_QUERIES), list(DEFAULT_PASSAGES)
    step = max(1, len(chunks) // passages)
    chosen = chunks[::step][:passages]
    openings = [" ".join(text.split()[:8]) for text in chosen[:queries]]
    return list(DEFAULT_QUERIES) + openings, chosen


def measure(torch_embedder: SentenceTransformerEmbedder, onnx_embedder: OnnxEmbedder,
            queries: list[str], passages: list[str]) -> dict:
    """Token ids, cosines and speed of the two backends on the same texts."""
    st = torch_embedder._model
    tokens_equal = True
    for kind, texts in (("query", queries), ("passage", passages)):
        prefix = torch_embedder.prefixes[kind]
        theirs = st.preprocess([prefix + t for t in texts])["input_ids"].numpy()
        ours = onnx_embedder.features([prefix + t for t in texts])["input_ids"]
        tokens_equal &= theirs.shape == ours.shape and bool(np.array_equal(theirs, ours))
    backends = {"torch": torch_embedder, "onnx": onnx_embedder}
    for embedder in backends.values():  # warm-up
        for q in queries[:2]:
            embedder._encode([q], "query")
    # Batches (padded): all queries, then all passages, the latter timed as the batch speed.
    vectors, batch_ms = {}, {}
    for name, embedder in backends.items():
        vectors[name] = [embedder._encode(queries, "query")]
        start = time.perf_counter()
        vectors[name].append(embedder._encode(passages, "passage"))
        batch_ms[name] = (time.perf_counter() - start) * 1000
    # Single queries (the serving path, no padding), the two backends interleaved so both see the
    # same machine load; their vectors are compared too.
    latencies = {"torch": [], "onnx": []}
    singles = {"torch": [], "onnx": []}
    for i in range(QUERY_RUNS):
        q = queries[i % len(queries)]
        for name in (("torch", "onnx") if i % 2 == 0 else ("onnx", "torch")):
            start = time.perf_counter()
            singles[name].append(backends[name]._encode([q], "query")[0])
            latencies[name].append((time.perf_counter() - start) * 1000)
    vectors = {name: np.concatenate(vectors[name] + [np.stack(singles[name])]) for name in backends}
    cosines = (vectors["torch"] * vectors["onnx"]).sum(axis=1)
    batch = passages
    return {"tokens_equal": tokens_equal, "min_cosine": round(float(cosines.min()), 7),
            "mean_cosine": round(float(cosines.mean()), 7), "queries": len(queries), "passages": len(passages),
            "query_p50_ms": {n: round(statistics.median(v), 3) for n, v in latencies.items()},
            "batch_ms": {n: round(v, 2) for n, v in batch_ms.items()}, "batch_size": len(batch)}


def decide(record: dict, encoder: str, min_cosine: float) -> tuple[bool, str]:
    """(use ONNX, why) from a check record."""
    if record.get("error"):
        return False, f"the ONNX export failed ({record['error']})"
    if not record["tokens_equal"]:
        return False, "the exported tokenizer gives other token ids than sentence-transformers"
    if record["min_cosine"] < min_cosine:
        return False, (f"ONNX embeddings differ from torch's (lowest cosine {record['min_cosine']:.6f} "
                       f"< {min_cosine})")
    q, b = record["query_p50_ms"], record["batch_ms"]
    speed = (f"query {q['onnx']:.1f} ms vs {q['torch']:.1f} ms torch, {record['batch_size']} passages "
             f"{b['onnx']:.0f} ms vs {b['torch']:.0f} ms")
    if encoder == "onnx":
        return True, f"ONNX was asked for (WARTA_ENCODER=onnx); matches torch (cosine >= {record['min_cosine']:.6f}), {speed}"
    if q["onnx"] <= QUERY_SPEEDUP * q["torch"] and b["onnx"] <= BATCH_SLACK * b["torch"]:
        return True, f"ONNX matches torch (cosine >= {record['min_cosine']:.6f}) and is faster: {speed}"
    return False, f"ONNX is not faster here ({speed})"


def _samples(samples) -> tuple[list[str], list[str]]:
    """(queries, passages) from `samples`, else (no corpus, an unreadable one) the built-in ones."""
    try:
        queries, passages = samples() if samples else ([], [])
    except (WartaError, OSError):  # no corpus folder, an unreadable one
        queries, passages = [], []
    return list(queries) or list(DEFAULT_QUERIES), list(passages) or list(DEFAULT_PASSAGES)


def _record_path(directory: Path, threads: int) -> Path:
    return directory / f"check-threads{threads}.json"


def read_record(directory: Path, threads: int) -> dict | None:
    """The recorded check for this thread count and ONNX Runtime version, or None."""
    try:
        record = json.loads(_record_path(directory, threads).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("onnxruntime") != _versions()["onnxruntime"]:
        return None
    return record


def write_record(directory: Path, threads: int, record: dict) -> None:
    target = _record_path(directory, threads)
    staged = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
    staged.write_text(json.dumps(record, indent=1), encoding="utf-8")
    os.replace(staged, target)


def choose(model_id: str, path: Path, batch_size: int = 32, encoder: str = "auto", cache_size: int = 1024,
           min_cosine: float = 0.999, samples: Callable[[], tuple[list[str], list[str]]] | None = None,
           report: Report | None = None, defer: bool = False):
    """The embedder for `encoder` "auto" or "onnx": ONNX Runtime when the recorded check allows
    it, else torch; `backend_reason` says why.

    "onnx" runs a missing export and check now. "auto" never runs them on the start-up path: with
    `defer` (a server) it starts on torch and leaves `embedder.upgrade()` for a background thread,
    which checks (once, or again when the recorded speeds were measured on a machine busier than
    its cores) and returns the embedder to switch to; without `defer` (one CLI command) an
    unchecked model stays on torch and the reason says how to check it."""
    from rag.threads import budget

    report = report or (lambda message: None)
    threads = budget()

    def on_torch(reason: str):
        return _torch(reason, model_id, path, batch_size, cache_size)

    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return on_torch("onnxruntime is not installed")
    key = export_key(path)
    directory, record = next(((root / key, found) for root in cache_roots(path)
                              if (found := read_record(root / key, threads)) is not None), (None, None))
    if encoder == "auto" and (record is None or needs_recheck(record, threads)):
        why = "not checked yet" if record is None else "its recorded speeds were measured on a busy machine"
        if not defer:
            if record is None:
                return on_torch(f"ONNX Runtime is {why}: `python app.py` checks it in the background, "
                                "or WARTA_ENCODER=onnx checks it now")
        else:
            torch_embedder = on_torch(f"torch while ONNX Runtime is checked in the background ({why})")

            def upgrade():
                chosen = check_and_choose(model_id, path, torch_embedder, batch_size, cache_size, min_cosine,
                                          samples, report, threads, encoder, recheck=record is not None)
                return chosen if chosen is not torch_embedder else None

            torch_embedder.upgrade = upgrade
            return torch_embedder
    if record is None:
        return check_and_choose(model_id, path, None, batch_size, cache_size, min_cosine, samples, report,
                                threads, encoder)
    use, reason = decide(record, encoder, min_cosine)
    if not use:
        return on_torch(reason)
    try:
        onnx_embedder = OnnxEmbedder(model_id, directory, batch_size, cache_size, threads)
    except Exception as e:  # a damaged export: torch serves, and the next check replaces it
        shutil.rmtree(directory, ignore_errors=True)
        return on_torch(f"the ONNX export in {directory} cannot be loaded ({type(e).__name__}: {str(e)[:200]})")
    onnx_embedder.backend_reason = reason
    return onnx_embedder


def _torch(reason: str, model_id: str, path: Path, batch_size: int, cache_size: int, embedder=None):
    """The torch embedder (`embedder`, or a new one) with `reason` as its backend_reason."""
    embedder = embedder or SentenceTransformerEmbedder(model_id, path, batch_size, cache_size)
    embedder.backend_reason = reason
    return embedder


def needs_recheck(record: dict, threads: int) -> bool:
    """A speed verdict measured while more work was runnable than there are cores says little
    about this machine at rest: it is measured again, rather than deciding for ever."""
    if record.get("error"):
        return False
    if "load_before" not in record:  # written before the load was recorded: its speeds are unknown ground
        return True
    load = record["load_before"]
    return isinstance(load, (int, float)) and load > threads


def check_and_choose(model_id: str, path: Path, torch_embedder, batch_size: int, cache_size: int,
                     min_cosine: float, samples, report: Report, threads: int, encoder: str,
                     recheck: bool = False):
    """Export (once) and check ONNX Runtime against torch, record it, and return the embedder the
    check chooses (`torch_embedder` itself when torch stays)."""

    def on_torch(reason: str):
        return _torch(reason, model_id, path, batch_size, cache_size, torch_embedder)

    # Loaded first: a folder that holds no model gets no export folder either.
    torch_embedder = torch_embedder or SentenceTransformerEmbedder(model_id, path, batch_size, cache_size)
    try:
        spec = onnx_layout(torch_embedder._model)
    except OnnxUnsupported as e:
        return on_torch(f"the ONNX export does not cover this model: {e}")
    root = writable_root(path)
    if root is None:
        return on_torch(f"no writable folder for the ONNX export (tried {', '.join(map(str, cache_roots(path)))})")
    key = export_key(path)
    directory = root / key
    started = time.perf_counter()
    report(f"{'re-' if recheck else ''}checking the ONNX encoder for {model_id} (recorded in {directory})")
    onnx_embedder = None
    load_before = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    try:
        directory = export_once(torch_embedder._model, root, key, spec)
        onnx_embedder = OnnxEmbedder(model_id, directory, batch_size, cache_size, threads)
        queries, passages = _samples(samples)
        record = measure(torch_embedder, onnx_embedder, queries, passages)
    except Exception as e:  # an optimisation failing must never stop Warta: torch serves
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        if isinstance(e, OSError):  # disk full, permissions: not the model's fault, try again next time
            return on_torch(f"the ONNX export could not be written ({type(e).__name__}: {first})")
        record, onnx_embedder = {"error": f"{type(e).__name__}: {first}"}, None
    record.update({"model": model_id, "threads": threads, "onnxruntime": _versions()["onnxruntime"],
                   "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "load_before": load_before,
                   "check_seconds": round(time.perf_counter() - started, 2)})
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_record(directory, threads, record)
    except OSError:
        pass  # checked again next time
    use, reason = decide(record, encoder, min_cosine)
    if not use or onnx_embedder is None:
        return on_torch(reason)
    onnx_embedder.backend_reason = reason
    return onnx_embedder
