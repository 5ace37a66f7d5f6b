"""The index end to end with a real (tiny) sentence-transformers model and a real FAISS index."""
import json
import random
import re
import shutil

import numpy as np
import pytest

from rag.ingest.corpus import load_corpus
from rag.errors import IndexBusy, IndexInvalid
from rag.pipeline import Warta
from rag.index.ensure import ensure_index
from rag.index.store import DENSE, DOCUMENTS, MANIFEST, PASSAGES, IndexStore
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
    """Convex fusion (the default): dense share x the dense cosine and the rest x BM25, each scaled
    from the lowest to the highest of its 50 candidates; reciprocal ranks when asked for."""
    warta = _build(dense_settings, messages)
    query = "Who is the President Director of MiLab?"
    result = warta.search(query, k=10, mode="hybrid")
    assert result["mode"]["retrieval"] == "hybrid"
    scores = [p["score"] for p in result["passages"]]
    assert scores == sorted(scores, reverse=True)
    pools = {"dense": warta.index.dense.search(warta.embedder.embed_batch([query], "query")[0], 50),
             "lexical": warta.index.lexical.search(query, 50)}
    bounds = {name: (min(s for _, s in pool), max(s for _, s in pool)) for name, pool in pools.items()}
    share = {"dense": warta.settings.dense_share, "lexical": 1 - warta.settings.dense_share}
    for p in result["passages"]:
        expected = sum(share[n] * (s["score"] - bounds[n][0]) / (bounds[n][1] - bounds[n][0])
                       for n, s in p["scores"].items())
        assert p["score"] == pytest.approx(expected, abs=1e-4)  # the per-list scores shown are rounded to 6 places
    assert any(set(p["scores"]) == {"dense", "lexical"} for p in result["passages"])
    rrf = Warta.open(dense_settings.with_overrides(fusion="rrf"), report=messages.report)
    for p in rrf.search(query, k=10, mode="hybrid")["passages"]:
        assert p["score"] == pytest.approx(sum(1.0 / (60 + s["rank"]) for s in p["scores"].values()), abs=1e-6)


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


def test_manifest_claiming_another_dimension_is_refused_and_rebuilt(dense_settings, messages):
    """The manifest says 384 dimensions; the FAISS file holds 32: the mismatch is named."""
    path = _build(dense_settings, messages).index.path
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["embedding"]["dimension"] = 384
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexInvalid, match="vectors have dimension 32, the manifest says 384"):
        IndexStore(dense_settings.index_dir).load()
    messages.clear()
    warta = _build(dense_settings, messages)
    assert "vectors have dimension 32, the manifest says 384" in messages[0]
    assert warta.index.path != path and warta.index.manifest["embedding"]["dimension"] == 32
    _assert_answers(warta)


def test_a_consistent_index_of_another_dimension_is_refused_and_rebuilt(dense_settings, messages):
    """A whole, self-consistent build with 16-dimensional vectors under the configured model's
    name (a real FAISS file, hashes right): it loads, but cannot serve 32-dimensional queries."""
    from rag.search.dense import DenseIndex
    from rag.index.store import sha256_file

    path = _build(dense_settings, messages).index.path
    manifest = json.loads((path / MANIFEST).read_text())
    vectors = np.random.default_rng(0).standard_normal((manifest["counts"]["vectors"], 16)).astype(np.float32)
    DenseIndex.build(vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).save(path / DENSE)
    manifest["embedding"]["dimension"] = 16
    manifest["files"][DENSE] = sha256_file(path / DENSE)
    (path / MANIFEST).write_text(json.dumps(manifest))
    assert IndexStore(dense_settings.index_dir).load().dense.dimension == 16  # whole and verified
    messages.clear()
    warta = _build(dense_settings, messages)
    model = dense_settings.embedding_model
    assert messages[0] == (f"index needs a rebuild: index was built with embedding model {model} (dimension 16); "
                           f"the configured model is {model} (dimension 32)")
    assert warta.index.path != path and warta.index.dense.dimension == 32
    _assert_answers(warta)


def _flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


# Every file of a dense build. test_every_index_file_... checks this list against the manifest, so a
# file added to the format cannot go untested.
INDEX_FILES = [MANIFEST, DOCUMENTS, PASSAGES, DENSE, "bm25/data.csc.index.npy", "bm25/indices.csc.index.npy",
               "bm25/indptr.csc.index.npy", "bm25/vocab.index.json", "bm25/params.index.json"]


def _empty(path):
    path.write_bytes(b"")


def _truncated(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path):
    """Random bytes of the same length (seeded by the file name, so every run is the same)."""
    rng = random.Random(path.name)
    path.write_bytes(bytes(rng.randrange(256) for _ in range(max(path.stat().st_size, 64))))


def _expected_refusal(file):
    return f"{MANIFEST} is not valid JSON" if file == MANIFEST else f"{file} is corrupted (SHA-256 differs"


def _assert_answers(warta):
    """Questions are answered again, and every citation quotes its document verbatim."""
    assert warta.search("Siapa Direktur Hebei MPA?", mode="hybrid")["passages"]
    assert warta.search("Siapa Direktur Hebei MPA?", mode="lexical")["passages"][0]["doc_id"] == "002_d1bf058be705b182"
    answer = warta.ask("Siapa Direktur Hebei MPA?", mode="lexical")
    assert "Fengshan Wang" in answer.text and answer.citations
    for c in answer.citations:
        assert warta.index.documents[c.doc_id].text[c.start:c.end] == c.quote


def _set_aside_builds(settings):
    return [p for p in (settings.index_dir / "builds").iterdir() if ".invalid-" in p.name]


@pytest.mark.parametrize("damage", [_empty, _truncated, _garbage], ids=["empty", "truncated", "garbage"])
@pytest.mark.parametrize("file", INDEX_FILES)
def test_every_index_file_empty_truncated_or_garbage_is_set_aside_and_rebuilt(dense_settings, messages, file, damage):
    path = _build(dense_settings, messages).index.path
    manifest = json.loads((path / MANIFEST).read_text())
    assert sorted(INDEX_FILES) == sorted([*manifest["files"], MANIFEST])
    damage(path / file)
    damaged_bytes, damaged_inode = (path / file).read_bytes(), (path / file).stat().st_ino
    store = IndexStore(dense_settings.index_dir)
    expected = _expected_refusal(file)
    with pytest.raises(IndexInvalid, match=re.escape(expected)):
        store.load()

    messages.clear()
    warta = _build(dense_settings, messages)
    assert messages[0].startswith("index needs a rebuild: ") and expected in messages[0]
    assert "set the damaged build aside" in messages.joined()
    # Set aside by renaming (same inode, same bytes), with the reason next to it; never deleted.
    aside = _set_aside_builds(dense_settings)
    assert [p.name.split(".invalid-")[0] for p in aside] == [path.name] and not path.exists()
    assert (aside[0] / file).read_bytes() == damaged_bytes and (aside[0] / file).stat().st_ino == damaged_inode
    assert expected in (aside[0] / "WHY.txt").read_text()
    assert store.load().path == warta.index.path != path
    _assert_answers(warta)
    # The set-aside build survives the next rebuild's clean-up too.
    Warta.open(dense_settings, report=messages.report, rebuild=True)
    assert _set_aside_builds(dense_settings) == aside and (aside[0] / file).read_bytes() == damaged_bytes


@pytest.mark.parametrize("damage", [_empty, _truncated, _garbage], ids=["empty", "truncated", "garbage"])
def test_a_damaged_current_pointer_is_kept_aside_and_the_index_rebuilt(dense_settings, messages, damage):
    built = _build(dense_settings, messages).index.path
    pointer = dense_settings.index_dir / "CURRENT"
    damage(pointer)
    damaged_bytes = pointer.read_bytes()
    with pytest.raises(IndexInvalid):
        IndexStore(dense_settings.index_dir).load()
    messages.clear()
    warta = _build(dense_settings, messages)
    assert "index needs a rebuild" in messages.joined()
    assert warta.index.path != built and IndexStore(dense_settings.index_dir).load().path == warta.index.path
    kept = list(dense_settings.index_dir.glob("CURRENT.invalid-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged_bytes
    _assert_answers(warta)


@pytest.mark.parametrize("manifest", [
    "[]", "null", '"manifest"', '{"format_version": 1}',
    '{"format_version": 1, "files": ["documents.jsonl", "passages.jsonl"]}',
    '{"format_version": 1, "files": {"documents.jsonl": 7, "passages.jsonl": null}}',
    '{"format_version": 1, "files": {"../../CURRENT": "00", "documents.jsonl": "00", "passages.jsonl": "00"}}',
], ids=["list", "null", "string", "no-files", "files-list", "hashes-not-strings", "path-outside"])
def test_a_manifest_of_the_wrong_shape_is_refused_not_a_crash(dense_settings, messages, manifest):
    path = _build(dense_settings, messages).index.path
    (path / MANIFEST).write_text(manifest)
    with pytest.raises(IndexInvalid, match=re.escape(f"{path.name}/{MANIFEST}")):
        IndexStore(dense_settings.index_dir).load()
    messages.clear()
    warta = _build(dense_settings, messages)
    assert "set the damaged build aside" in messages.joined()
    assert (_set_aside_builds(dense_settings)[0] / MANIFEST).read_text() == manifest
    _assert_answers(warta)


@pytest.mark.parametrize("wrong", ["counts", "documents", "embedding"])
def test_a_manifest_with_a_field_of_the_wrong_type_is_refused(dense_settings, messages, wrong):
    path = _build(dense_settings, messages).index.path
    manifest = json.loads((path / MANIFEST).read_text())
    manifest[wrong] = ["not", "a", "mapping"]
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexInvalid, match=re.escape(f"{MANIFEST}: {wrong!r}")):
        IndexStore(dense_settings.index_dir).load()
    _assert_answers(_build(dense_settings, messages))


def _flip_inside(path, word):
    """Flip the lowest bit of the first letter of `word` (nearest the file's middle): the file
    still parses, it just says something else."""
    data = bytearray(path.read_bytes())
    at = data.find(word.encode(), len(data) // 2)
    at = at if at >= 0 else data.find(word.encode())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def _naive_load(file, path):
    """Load a file the way its own library would, with no hash check; returns something to compare."""
    if file == DENSE:
        import faiss

        index = faiss.read_index(str(path))
        return index.reconstruct_n(0, index.ntotal)
    if file.endswith(".npy"):
        return np.load(path, allow_pickle=False)
    from rag.ingest.chunking import Passage
    from rag.ingest.corpus import Document
    from rag.index.store import read_jsonl

    kind = Passage.from_json if file == PASSAGES else (lambda r: Document(**r))
    return [kind(r) for r in read_jsonl(path)]


@pytest.mark.parametrize("file,flip", [
    (DENSE, _flip_byte),
    (PASSAGES, lambda p: _flip_inside(p, "Biotown")),
    (DOCUMENTS, lambda p: _flip_inside(p, "Biotown")),
    ("bm25/data.csc.index.npy", _flip_byte),
])
def test_one_flipped_byte_that_the_format_accepts_is_caught_by_the_hash(dense_settings, messages, file, flip):
    path = _build(dense_settings, messages).index.path
    before = _naive_load(file, path / file)
    flip(path / file)
    after = _naive_load(file, path / file)  # FAISS / numpy / JSON accept the flipped file silently...
    if isinstance(before, np.ndarray):
        assert before.shape == after.shape and not np.array_equal(before, after)
    else:
        assert len(before) == len(after) and before != after
    with pytest.raises(IndexInvalid, match=re.escape(f"{file} is corrupted (SHA-256 differs")):  # ...the hash does not
        IndexStore(dense_settings.index_dir).load()
    messages.clear()
    warta = _build(dense_settings, messages)
    assert "set the damaged build aside" in messages.joined()
    rebuilt = _naive_load(file, warta.index.path / file)
    assert warta.index.path != path
    assert np.array_equal(rebuilt, before) if isinstance(before, np.ndarray) else rebuilt == before
    _assert_answers(warta)


@pytest.mark.parametrize("damage,file,expected", [
    (lambda p: p.unlink(), "bm25/vocab.index.json", "bm25/vocab.index.json is missing"),
    (lambda p: p.unlink(), DENSE, "dense.faiss is missing"),
    (lambda p: p.unlink(), "manifest.json", "has no manifest.json"),
    (lambda p: p.with_name("extra.bin").write_bytes(b"x"), DENSE, "has files the manifest does not list: extra.bin"),
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
