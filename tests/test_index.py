"""The index end to end with a real (tiny) sentence-transformers model and a real FAISS index."""
import json
import shutil

import numpy as np
import pytest

from rag.corpus import load_corpus
from rag.errors import IndexBusy, IndexInvalid
from rag.pipeline import Warta, ensure_index
from rag.store import DENSE, IndexStore
from tests.conftest import CORPUS


@pytest.fixture
def dense_settings(settings, tiny_model):
    return settings.with_overrides(embedding_model=str(tiny_model))


def _build(settings, messages):
    return Warta.open(settings, report=messages.report)




def test_build_save_load_and_dense_search(dense_settings, messages):
    warta = _build(dense_settings, messages)
    manifest = warta.index.manifest
    assert manifest["embedding"]["model"] == str(dense_settings.embedding_model)
    assert manifest["embedding"]["dimension"] == 32 and manifest["embedding"]["normalized"] is True
    assert manifest["counts"]["vectors"] == manifest["counts"]["passages"] == len(warta.index.passages)
    assert set(manifest["documents"]) == {d.doc_id for d in load_corpus(CORPUS).documents}
    assert set(manifest["files"]) >= {"documents.jsonl", "passages.jsonl", "dense.faiss"}

    loaded = IndexStore(dense_settings.index_dir).load()  # a fresh load from disk, hashes verified
    assert loaded.passages == warta.index.passages
    vectors = loaded.dense.vectors()
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    # Dense search against a brute-force reference on the same vectors.
    query = "Siapa Direktur Hebei MPA?"
    result = warta.search(query, k=5, mode="dense")
    q = warta.embedder.embed_batch([query], "query")[0]
    reference = np.argsort(-(vectors @ q), kind="stable")[:5]
    assert [p["chunk_id"] for p in result["passages"]] == [loaded.passages[i].chunk_id for i in reference]
    assert result["mode"] == {**result["mode"], "retrieval": "dense", "model_free": False,
                              "embedding_model": str(dense_settings.embedding_model)}

    # A passage's own text is its nearest neighbour.
    target = loaded.passages[7]
    assert warta.search(target.text, k=1, mode="dense")["passages"][0]["chunk_id"] == target.chunk_id


def test_hybrid_fuses_both_rankings(dense_settings, messages):
    warta = _build(dense_settings, messages)
    result = warta.search("Who is the President Director of MiLab?", k=10, mode="hybrid")
    assert result["mode"]["retrieval"] == "hybrid"
    scores = [p["score"] for p in result["passages"]]
    assert scores == sorted(scores, reverse=True)
    for p in result["passages"]:
        expected = sum(1.0 / (60 + s["rank"]) for s in p["scores"].values())
        assert p["score"] == pytest.approx(expected, abs=1e-6)
    assert any(set(p["scores"]) == {"dense", "lexical"} for p in result["passages"])


def test_unchanged_documents_are_not_re_embedded(dense_settings, messages, tmp_path):
    corpus_dir = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus_dir)
    settings = dense_settings.with_overrides(corpus_dir=corpus_dir)
    first = _build(settings, messages).index
    (corpus_dir / "new.txt").write_text("MiLab membuka pabrik baru di Cikarang pada 2026 untuk Dermatix.",
                                        encoding="utf-8")
    second = _build(settings, messages).index
    assert "corpus changed (1 added, 0 changed, 0 removed)" in messages.joined()
    assert second.manifest["counts"]["embedded"] == 1
    assert second.manifest["counts"]["reused"] == first.manifest["counts"]["vectors"]
    old = {p.chunk_id: v for p, v in zip(first.passages, first.dense.vectors())}
    for p, v in zip(second.passages, second.dense.vectors()):
        if p.chunk_id in old:
            assert np.array_equal(v, old[p.chunk_id])


def test_up_to_date_index_is_loaded_not_rebuilt(dense_settings, messages):
    first = _build(dense_settings, messages).index.path
    messages.clear()
    assert _build(dense_settings, messages).index.path == first
    assert not any("rebuild" in m for m in messages)


def test_index_from_another_model_is_refused_and_rebuilt(dense_settings, messages):
    path = _build(dense_settings, messages).index.path
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["embedding"]["model"] = "intfloat/multilingual-e5-base"
    (path / "manifest.json").write_text(json.dumps(manifest))
    messages.clear()
    warta = _build(dense_settings, messages)
    assert "index was built with embedding model intfloat/multilingual-e5-base" in messages.joined()
    assert warta.index.path != path
    assert warta.index.manifest["embedding"]["model"] == str(dense_settings.embedding_model)
    assert warta.search("Siapa Direktur Hebei MPA?", mode="hybrid")["passages"]


def _flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize("damage,file,expected", [
    (_flip_byte, DENSE, "dense.faiss is corrupted (SHA-256 differs"),
    (_flip_byte, "passages.jsonl", "passages.jsonl is corrupted"),
    (_truncate, "documents.jsonl", "documents.jsonl is corrupted"),
    (_truncate, "bm25/data.csc.index.npy", "bm25/data.csc.index.npy is corrupted"),
    (lambda p: p.unlink(), "bm25/vocab.index.json", "bm25/vocab.index.json is missing"),
    (lambda p: p.unlink(), "manifest.json", "has no manifest.json"),
    (lambda p: p.write_text("{"), "manifest.json", "manifest.json is not valid JSON"),
])
def test_damaged_index_is_detected_set_aside_and_rebuilt(dense_settings, messages, damage, file, expected):
    path = _build(dense_settings, messages).index.path
    damage(path / file)
    store = IndexStore(dense_settings.index_dir)
    with pytest.raises(IndexInvalid, match=expected.replace("(", r"\(")):
        store.load()
    messages.clear()
    warta = _build(dense_settings, messages)
    assert expected in messages.joined()
    assert "set the damaged build aside" in messages.joined()
    aside = [p for p in (dense_settings.index_dir / "builds").iterdir() if ".invalid-" in p.name]
    assert len(aside) == 1 and expected in (aside[0] / "WHY.txt").read_text()
    assert store.load().path == warta.index.path != path
    assert warta.search("Siapa Direktur Hebei MPA?", mode="lexical")["passages"][0]["doc_id"] == "002_d1bf058be705b182"


def test_missing_build_folder_is_rebuilt(settings, messages):
    path = _build(settings, messages).index.path
    shutil.rmtree(path)
    messages.clear()
    warta = _build(settings, messages)
    assert f"index build {path.name} named by" in messages.joined()
    assert warta.search("Apa itu Biotown?")["passages"]


def test_changed_document_triggers_an_update(settings, messages, tmp_path):
    corpus_dir = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus_dir)
    settings = settings.with_overrides(corpus_dir=corpus_dir)
    _build(settings, messages)
    target = corpus_dir / "004_64925bf400040cc1.txt"
    target.write_text(target.read_text() + "\nA new paragraph about Warta-test-marker.", encoding="utf-8")
    messages.clear()
    warta = _build(settings, messages)
    assert "corpus changed (0 added, 1 changed, 0 removed)" in messages.joined()
    assert warta.search("Warta-test-marker")["passages"][0]["doc_id"] == "004_64925bf400040cc1"


def test_model_free_mode_uses_the_lexical_part_of_a_dense_index(dense_settings, settings, messages):
    built = _build(dense_settings, messages).index.path
    messages.clear()
    warta = _build(settings, messages)  # same index folder, embedding model missing
    assert warta.index.path == built  # still valid for lexical search: no rebuild
    assert messages[0].startswith("model-free mode: embedding model warta-tests/no-such-model is not in the local cache")
    result = warta.search("Who is the President Director of MiLab?", mode="hybrid")
    assert result["mode"]["retrieval"] == "lexical" and result["mode"]["requested"] == "hybrid"
    assert result["mode"]["model_free"] is True and "python -m rag download" in result["mode"]["reason"]
    assert "Idham Hamzah" in result["passages"][0]["text"]


def test_a_second_builder_waits_then_says_why(settings, messages):
    store = IndexStore(settings.index_dir)
    corpus = load_corpus(CORPUS)
    quick = settings.with_overrides(lock_timeout_s=0.5)
    with store.lock(5):
        with pytest.raises(IndexBusy, match=r"another index build still holds .*\.lock after 0 s"):
            ensure_index(store, corpus, None, quick, messages.report)
    # with the lock released the same call builds
    assert ensure_index(store, corpus, None, quick, messages.report).passages


def test_rebuild_flag_builds_anew(dense_settings, messages):
    first = _build(dense_settings, messages).index
    second = Warta.open(dense_settings, report=messages.report, rebuild=True).index
    assert second.path != first.path
    assert second.manifest["counts"]["embedded"] == second.manifest["counts"]["vectors"]
