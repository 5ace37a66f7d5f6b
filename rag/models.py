"""Where a model comes from: a local directory, or the Hugging Face cache. Never a silent download.

Lookups use the local cache only (`local_files_only`), so learning that a model is missing takes
milliseconds, offline or not. Fetching happens in one place, `python -m rag download`.
"""
from __future__ import annotations

import os
from pathlib import Path

from rag.errors import ModelUnavailable

AUTO = "auto"  # the embedding setting that takes the original if cached, else the bundled copy
ENV_VARS = {"embedding": "WARTA_EMBEDDING_MODEL", "generator": "WARTA_GENERATOR_MODEL", "nli": "WARTA_NLI_MODEL"}
# Formats the loaders here never read: skip them when downloading.
_SKIPPED_FILES = ["onnx/*", "openvino/*", "*.onnx", "*.h5", "*.msgpack", "*.ot", "tf_model*",
                  "flax_model*", "rust_model*", "coreml/*"]


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~")) or os.sep + os.sep in name


def how_to_fix(kind: str) -> str:
    return (f"run `python -m rag download` on a machine with internet, or set {ENV_VARS[kind]} "
            "to a local model directory")


def resolve_model(name: str, kind: str) -> Path:
    """The directory holding model `name` (hub id or local path). Raises ModelUnavailable."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if _looks_like_path(name):
        raise ModelUnavailable(f"{kind} model directory {name} does not exist; {how_to_fix(kind)}")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(name, local_files_only=True))
    except LocalEntryNotFoundError:
        raise ModelUnavailable(f"{kind} model {name} is not in the local cache; {how_to_fix(kind)}") from None
    except Exception as e:  # malformed ids and unreadable caches are reported the same way
        raise ModelUnavailable(f"{kind} model {name} cannot be found ({e}); {how_to_fix(kind)}") from None


def resolve_embedding_model(choice: str, report=None) -> tuple[str, Path, str | None]:
    """(model id, directory, how it was chosen) for the embedding setting `choice`.

    "auto" (the default): the original multilingual-e5-small when it is in the local cache, else
    the bundled 4-bit copy (rag.bundled_model), with a line saying so. "bundled": that copy
    only. Anything else is a hub id or a directory, and only that model will do: a named model
    is never silently replaced. Raises ModelUnavailable with every reason, in one line.
    """
    from rag.bundled_model import BUNDLED, BUNDLED_NAME, ORIGINAL, bundled_model_dir

    if choice == BUNDLED:
        return BUNDLED_NAME, bundled_model_dir(report), "asked for by name"
    if choice != AUTO:
        return choice, resolve_model(choice, "embedding"), None
    try:
        return ORIGINAL, resolve_model(ORIGINAL, "embedding"), None
    except ModelUnavailable as e:
        original_missing = str(e).split(";")[0]
    try:
        path = bundled_model_dir(report)
    except ModelUnavailable as e:
        raise ModelUnavailable(f"{original_missing}, and {e}") from None
    return BUNDLED_NAME, path, f"{ORIGINAL} is not in the local cache; `python -m rag download` fetches it"


def hub_unreachable(timeout: float = 3.0) -> str | None:
    """Why the Hugging Face hub cannot be reached, or None. One connection attempt, so an offline
    machine learns it in a second instead of after a minute of the client's retries."""
    import socket
    from urllib.parse import urlsplit

    endpoint = urlsplit(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((endpoint.hostname, port), timeout=timeout):
            return None
    except OSError as e:
        return f"cannot reach {endpoint.hostname} ({e.strerror or e})"


def download(name: str) -> Path:
    """Fetch `name` into the Hugging Face cache, with a progress bar; return its directory."""
    if Path(name).expanduser().is_dir():
        return Path(name).expanduser()
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise ModelUnavailable(f"cannot download {name}: HF_HUB_OFFLINE is set; unset it to download")
    unreachable = hub_unreachable()
    if unreachable:
        raise ModelUnavailable(f"cannot download {name}: {unreachable}; check the internet connection, or copy "
                               "the model folder to this machine and point the WARTA_*_MODEL variable at it")
    from huggingface_hub import HfApi, snapshot_download

    try:
        files = HfApi().list_repo_files(name)
        skipped = list(_SKIPPED_FILES)
        if any(f.endswith(".safetensors") for f in files):
            skipped.append("*.bin")  # the same weights twice; safetensors is the safe format
        return Path(snapshot_download(name, ignore_patterns=skipped))
    except Exception as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelUnavailable(
            f"cannot download {name} ({reason}); check the internet connection, or copy the model "
            "folder to this machine and point the WARTA_*_MODEL variable at it"
        ) from None


def open_embedder(settings, report=None, defer: bool = False):
    """(embedder, None), or (None, why not) for model-free mode. The backend (torch or ONNX
    Runtime) follows settings.encoder; the embedder's `backend_reason` says why. `defer`: a
    server, which checks ONNX Runtime in the background (rag.search.onnx_encoder.choose)."""
    if settings.embedding_model is None:
        return None, "the embedding model is turned off (WARTA_EMBEDDING_MODEL=none)"
    try:
        from rag.search.embedding import load_embedder
        from rag.search.onnx_encoder import corpus_samples

        model_id, path, substituted = resolve_embedding_model(settings.embedding_model, report)
        if substituted and report:
            report(f"embedding model: {model_id}, since {substituted}.")
        return load_embedder(model_id, settings.embed_batch_size, encoder=settings.encoder,
                             cache_size=settings.query_cache_size, min_cosine=settings.onnx_min_cosine,
                             samples=lambda: corpus_samples(settings.corpus_dir, settings.chunk_size,
                                                            settings.chunk_overlap),
                             report=report, path=path, defer=defer), None
    except ModelUnavailable as e:
        return None, str(e)


def _optional_model(model_id: str | None, off_reason: str, load):
    """(model, None), or (None, why not) when it is off or cannot be loaded."""
    if model_id is None:
        return None, off_reason
    try:
        return load(model_id), None
    except ModelUnavailable as e:
        return None, str(e)


def open_generator(settings):
    """(generator, None), or (None, why not): then answers are extractive."""
    from rag.answer.generation import load_generator

    return _optional_model(settings.generator_model, "the generator model is turned off (WARTA_GENERATOR_MODEL=none)",
                           lambda model_id: load_generator(model_id, max_time_s=settings.generation_seconds,
                                                           context_tokens=settings.context_tokens,
                                                           dtype=settings.generation_dtype))


def open_nli(settings):
    """(NLI model, None), or (None, why not): then fact checks rest on the structured comparison."""
    from rag.factcheck.nli import load_nli

    return _optional_model(settings.nli_model, "no NLI model is set (WARTA_NLI_MODEL)", load_nli)
