import numpy as np
import pytest

from rag.search.embedding import load_embedder, prompt_prefixes
from rag.errors import ModelUnavailable
from rag.models import resolve_model
from rag.models import open_embedder


def test_missing_hub_model_is_reported_from_the_cache_lookup():
    with pytest.raises(ModelUnavailable) as err:
        resolve_model("intfloat/multilingual-e5-small", "embedding")
    message = str(err.value)
    assert "intfloat/multilingual-e5-small is not in the local cache" in message
    assert "python -m rag download" in message and "WARTA_EMBEDDING_MODEL" in message
    assert "\n" not in message


def test_missing_local_directory_is_named(tmp_path):
    with pytest.raises(ModelUnavailable, match=f"directory {tmp_path}/gone does not exist"):
        resolve_model(str(tmp_path / "gone"), "generator")


def test_a_directory_that_is_not_a_model_cannot_be_loaded(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelUnavailable, match="cannot be loaded"):
        load_embedder(str(tmp_path))


def test_tiny_model_loads_and_embeds_normalised_vectors(tiny_model):
    embedder = load_embedder(str(tiny_model))
    assert embedder.dimension == 32
    vectors = embedder.embed_batch(["Apa itu Biotown?", "Who is Idham Hamzah?"], "query")
    assert vectors.shape == (2, 32) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])
    with pytest.raises(ValueError, match="kind 'title' is not one of"):
        embedder.embed_batch(["x"], "title")


def test_open_embedder_reports_why_not(settings):
    embedder, reason = open_embedder(settings)
    assert embedder is None and "warta-tests/no-such-model is not in the local cache" in reason
    embedder, reason = open_embedder(settings.with_overrides(embedding_model=None))
    assert embedder is None and "turned off" in reason


class _Model:
    def __init__(self, prompts):
        self.prompts = prompts


@pytest.mark.parametrize("prompts,model_id,expected", [
    ({"query": "", "document": ""}, "intfloat/multilingual-e5-small", ("query: ", "passage: ")),
    ({"query": "", "document": ""}, "/models/multilingual-e5-base", ("query: ", "passage: ")),
    ({"query": "Q: ", "document": "D: "}, "intfloat/multilingual-e5-small", ("Q: ", "D: ")),
    ({"query": "", "document": ""}, "sentence-transformers/all-MiniLM-L6-v2", ("", "")),
])
def test_prefixes_come_from_the_model_or_the_e5_convention(prompts, model_id, expected):
    found = prompt_prefixes(_Model(prompts), model_id)
    assert (found["query"], found["passage"]) == expected


def test_download_says_at_once_when_the_hub_cannot_be_reached(monkeypatch):
    """No minute of retries: one connection attempt to the endpoint, then a clear message."""
    import socket

    from rag.models import download, hub_unreachable

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        closed_port = listening.getsockname()[1]  # nothing listens there once the block ends
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
        assert hub_unreachable() is None
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(ModelUnavailable, match=r"cannot download intfloat/x: cannot reach 127\.0\.0\.1"):
        download("intfloat/x")
