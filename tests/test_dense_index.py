"""The dense index type chosen by size (exact flat / HNSW), efSearch tuned at build time to a
recall target, recorded in the manifest, kept on loading, and reused vectors under HNSW."""
import errno
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings, settings_from_env
from rag.search.dense import DenseIndex, choose_kind, paraphrases, recall_at_k
from rag.errors import ConfigError, IndexInvalid
from rag.pipeline import Warta
from rag.index.store import DENSE, MANIFEST, IndexStore, sha256_file
from tests.conftest import CORPUS


def _unit_rows(rows, dim, seed):
    x = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def vectors():
    """8,000 random unit vectors in 96 dimensions: structureless, the hard case for HNSW (efSearch
    32 falls short of 0.95 here, so the tuning has something to choose)."""
    return _unit_rows(8000, 96, seed=1)


@pytest.fixture(scope="module")
def hnsw(vectors):
    return DenseIndex.build(vectors, kind="auto", hnsw_threshold=500)


def _exact_ids(vectors, queries, k):
    return np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :k]


def _fresh_queries(vectors, count, seed):
    """Other stored vectors than the tuning sample's (another seed), moved as the tuning's are."""
    rng = np.random.default_rng(seed)
    return paraphrases(vectors[rng.choice(len(vectors), count, replace=False)], rng=rng)


def _recall_at_10(index, vectors, queries):
    exact = _exact_ids(vectors, queries, 10)
    found = index.search_batch(queries, 10)
    return float(np.mean([len(set(e) & {i for i, _ in f}) / 10 for e, f in zip(exact, found)]))


def test_recall_at_k_on_a_hand_made_case():
    truth = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    truth_scores = np.array([[0.9, 0.8, 0.7]] * 3)
    found = np.array([[3, 2, 1], [4, 0, -1], [-1, -1, -1]])
    found_scores = np.array([[0.7, 0.8, 0.9], [0.9, 0.1, -np.inf], [-np.inf] * 3])
    # 3/3, 1/3, 0/3
    assert recall_at_k(found, found_scores, truth, truth_scores) == pytest.approx((1 + 1 / 3 + 0) / 3)
    # a found vector tying the k-th exact score counts (duplicates make the exact top k one choice of several)
    assert recall_at_k(np.array([[1, 2, 42]]), np.array([[0.9, 0.8, 0.7]]), truth[:1], truth_scores[:1]) == 1.0
    assert recall_at_k(np.array([[1, 2, 42]]), np.array([[0.9, 0.8, 0.6]]), truth[:1], truth_scores[:1]) == pytest.approx(2 / 3)
    # only the first k found ids count, and -1 (FAISS: nothing found) never does
    assert recall_at_k(np.array([[9, 9, 1, 2]]), np.array([[0.5, 0.5, 0.9, 0.8]]), truth[:1, :2], truth_scores[:1, :2]) == 0.0
    assert recall_at_k(np.array([[-1, -1]]), np.array([[-np.inf] * 2]), np.array([[-1, -1]]), np.array([[-np.inf] * 2])) == 0.0


def test_the_chooser_picks_flat_up_to_the_threshold_and_hnsw_above(vectors):
    assert choose_kind("auto", 500, 500) == "flat" and choose_kind("auto", 501, 500) == "hnsw"
    assert choose_kind("flat", 10**9, 500) == "flat" and choose_kind("hnsw", 3, 500) == "hnsw"
    with pytest.raises(ValueError, match="not one of auto, flat, hnsw"):
        choose_kind("ivf", 10, 500)
    small = DenseIndex.build(vectors[:500], kind="auto", hnsw_threshold=500)
    assert small.kind == "flat" and small.describe() == {"type": "flat", "faiss": "IndexFlatIP",
                                                         "metric": "inner_product"}
    assert small.ef_search is None
    forced = DenseIndex.build(vectors, kind="flat", hnsw_threshold=500)
    assert forced.kind == "flat" and forced.size == len(vectors)


def test_hnsw_above_the_threshold_reaches_the_recall_target_on_fresh_queries(vectors, hnsw):
    info = hnsw.describe()
    assert hnsw.kind == "hnsw" and hnsw.size == len(vectors)
    assert {k: info[k] for k in ("type", "faiss", "metric", "M")} == {
        "type": "hnsw", "faiss": "IndexHNSWFlat", "metric": "inner_product", "M": 32}
    assert 80 <= info["efConstruction"] <= 200
    assert info["efSearch"] == hnsw.ef_search and info["target_reached"] is True
    assert info["recall_at_10"] >= 0.95 and info["recall_queries"] == 200
    # The smallest candidate that reached the target: every smaller one measured below it.
    tried = {int(ef): r for ef, r in info["recall_by_ef_search"].items()}
    assert max(tried) == info["efSearch"] and all(r < 0.95 for ef, r in tried.items() if ef < info["efSearch"])
    # Checked here independently: exact ground truth by brute force, queries the tuning never saw.
    # Within sampling error of the target (200 tuning queries: ~0.01), not necessarily above it.
    assert _recall_at_10(hnsw, vectors, _fresh_queries(vectors, 300, seed=12345)) >= 0.93


def test_a_higher_target_buys_a_larger_ef_search(vectors, hnsw):
    strict = DenseIndex.build(vectors, kind="hnsw", target_recall=0.995)
    assert strict.ef_search > hnsw.ef_search and strict.describe()["recall_at_10"] >= 0.995


def test_save_and_load_keep_the_type_ef_search_and_results(vectors, hnsw, tmp_path):
    hnsw.save(tmp_path / DENSE)
    loaded = DenseIndex.load(tmp_path / DENSE, hnsw.describe())
    assert loaded.kind == "hnsw" and loaded.ef_search == hnsw.ef_search
    assert loaded.describe() == hnsw.describe()
    queries = _fresh_queries(vectors, 50, seed=7)
    assert loaded.search_batch(queries, 10) == hnsw.search_batch(queries, 10)
    # efSearch is taken from the manifest's record, whatever the file holds.
    assert DenseIndex.load(tmp_path / DENSE, {**hnsw.describe(), "efSearch": 200}).ef_search == 200
    # The vectors come back from the HNSW storage exactly as added (the next build reuses them).
    assert np.array_equal(loaded.vectors(), vectors)


def test_settings_for_the_dense_index():
    assert (Settings().dense_index, Settings().hnsw_threshold, Settings().hnsw_target_recall) == ("auto", 150_000, 0.95)
    env = settings_from_env({"WARTA_DENSE_INDEX": "HNSW", "WARTA_HNSW_THRESHOLD": "1000", "WARTA_HNSW_RECALL": "0.9"})
    assert (env.dense_index, env.hnsw_threshold, env.hnsw_target_recall) == ("hnsw", 1000, 0.9)
    with pytest.raises(ConfigError, match="dense index type 'ivf'"):
        Settings(dense_index="ivf")
    with pytest.raises(ConfigError, match="HNSW target recall"):
        Settings(hnsw_target_recall=1.5)


# --- through the real pipeline, with the tiny embedding model ---------------------------------

@pytest.fixture
def hnsw_settings(settings, tiny_model, tmp_path):
    """The seed corpus (copied, ~58 passages) over an HNSW threshold of 10 passages."""
    corpus_dir = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus_dir)
    return settings.with_overrides(embedding_model=str(tiny_model), corpus_dir=corpus_dir, hnsw_threshold=10)


def _open(settings, messages):
    return Warta.open(settings, report=messages.report)


class CountingEmbedder:
    """The real embedder, noting every passage text the index build asks it to embed (answers
    also embed sentences as passages, rag.evidence.records: that is no index work)."""

    def __init__(self, inner, calls):
        self._inner, self.calls = inner, calls

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def embed_batch(self, texts, kind, show_progress=False):
        import sys

        if kind == "passage" and sys._getframe(1).f_globals.get("__name__") == "rag.index.builder":
            self.calls.extend(texts)
        return self._inner.embed_batch(texts, kind, show_progress)


@pytest.fixture
def embedded(monkeypatch):
    import rag.search.embedding

    calls, real = [], rag.search.embedding.load_embedder
    monkeypatch.setattr(rag.search.embedding, "load_embedder", lambda *a, **k: CountingEmbedder(real(*a, **k), calls))
    return calls


def test_hnsw_build_is_recorded_in_the_manifest_and_loaded_not_rebuilt(hnsw_settings, messages, monkeypatch):
    first = _open(hnsw_settings, messages).index
    record = first.manifest["dense"]
    assert record["type"] == "hnsw" and record["M"] == 32 and record["efSearch"] >= 32
    assert record["recall_at_10"] >= 0.95 and record["target_recall"] == 0.95
    assert first.dense.kind == "hnsw" and first.dense.size == first.manifest["counts"]["passages"]
    assert first.manifest["encoder"] == {"backend": "torch", "why": "torch was asked for (encoder=torch)"}
    assert any(m.startswith("Building the HNSW graph") for m in messages)
    manifest_bytes = (first.path / MANIFEST).read_bytes()
    builds = sorted(p.name for p in (hnsw_settings.index_dir / "builds").iterdir())

    import rag.index.ensure

    def no_build(*args, **kwargs):
        raise AssertionError("an up-to-date index was rebuilt")

    monkeypatch.setattr(rag.index.ensure, "build_index", no_build)
    messages.clear()
    warta = _open(hnsw_settings, messages)
    assert warta.index.path == first.path and (first.path / MANIFEST).read_bytes() == manifest_bytes
    assert sorted(p.name for p in (hnsw_settings.index_dir / "builds").iterdir()) == builds
    assert not any(word in m for m in messages for word in ("Embedding", "Building", "rebuild"))
    assert warta.index.dense.kind == "hnsw" and warta.index.dense.ef_search == record["efSearch"]
    target = warta.index.passages[7]
    assert warta.search(target.text, k=1, mode="dense")["passages"][0]["chunk_id"] == target.chunk_id


def test_flat_override_is_respected_and_a_changed_type_rebuilds_from_reused_vectors(hnsw_settings, messages,
                                                                                      embedded):
    flat = _open(hnsw_settings.with_overrides(dense_index="flat"), messages).index
    assert flat.dense.kind == "flat" and flat.manifest["dense"]["type"] == "flat"
    first_embedded = len(embedded)
    messages.clear()
    hnsw = _open(hnsw_settings, messages).index  # auto over a threshold of 10: HNSW
    assert "dense index type changed (flat -> hnsw" in messages.joined()
    assert hnsw.dense.kind == "hnsw" and len(embedded) == first_embedded  # nothing embedded again
    assert hnsw.manifest["counts"]["embedded"] == 0
    assert np.array_equal(hnsw.dense.vectors(), flat.dense.vectors())


def test_one_changed_document_under_hnsw_embeds_only_its_passages(hnsw_settings, messages, embedded):
    first = _open(hnsw_settings, messages).index
    assert first.dense.kind == "hnsw" and len(embedded) == first.manifest["counts"]["vectors"]
    embedded.clear()
    target = hnsw_settings.corpus_dir / "004_64925bf400040cc1.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\n\nMiLab membuka pabrik baru di Cikarang pada 2026.",
                      encoding="utf-8")
    messages.clear()
    second = _open(hnsw_settings, messages).index
    assert "corpus changed (0 added, 1 changed, 0 removed)" in messages.joined()
    assert second.dense.kind == "hnsw"
    old_texts = {p.text for p in first.passages}
    changed = {p.text for p in second.passages if p.doc_id == "004_64925bf400040cc1"} - old_texts
    assert embedded and set(embedded) == changed  # only the changed document's new passages
    assert second.manifest["counts"]["embedded"] == len(embedded)
    assert second.manifest["counts"]["reused"] == second.manifest["counts"]["vectors"] - len(embedded)
    old = dict(zip((p.text for p in first.passages), first.dense.vectors()))
    for p, v in zip(second.passages, second.dense.vectors()):
        if p.text in old:
            assert np.array_equal(v, old[p.text])


def _rewrite_manifest(path, change):
    manifest = json.loads((path / MANIFEST).read_text())
    change(manifest)
    (path / MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize("change,refusal", [
    (lambda m: m.update(dense=["hnsw"]), f"{MANIFEST}: 'dense' is missing or not a mapping"),
    (lambda m: m["dense"].update(type="ivf"), "'dense' names index type 'ivf'"),
    (lambda m: m["dense"].update(efSearch="64"), "'dense': 'efSearch' is '64', not a whole number"),
    (lambda m: m["dense"].update(efSearch=0), "'dense': 'efSearch' is 0, not a whole number"),
    (lambda m: m["dense"].update(M=True), "'dense': 'M' is True, not a whole number"),
    (lambda m: m["dense"].update(recall_at_10=1.5), "'recall_at_10' is 1.5, not a number in [0, 1]"),
    (lambda m: m["dense"].update(type="flat"), "the dense index is hnsw, the manifest says flat"),
    (lambda m: m["dense"].update(M=16), "the HNSW graph has M=32, efConstruction=80, the manifest says M=16"),
    (lambda m: m.update(dense=None), "manifest says there is no dense index but there are vectors"),
    (lambda m: m.pop("dense"), "the dense index is hnsw, the manifest says flat"),
], ids=["not-mapping", "type", "ef-string", "ef-zero", "m-bool", "recall", "says-flat", "other-m", "null", "absent"])
def test_a_wrong_dense_record_is_refused_and_the_index_rebuilt(hnsw_settings, messages, change, refusal):
    path = _open(hnsw_settings, messages).index.path
    _rewrite_manifest(path, change)
    with pytest.raises(IndexInvalid, match=re.escape(refusal)):
        IndexStore(hnsw_settings.index_dir).load()
    messages.clear()
    warta = _open(hnsw_settings, messages)
    assert "set the damaged build aside" in messages.joined()
    assert warta.index.path != path and warta.index.dense.kind == "hnsw"


def test_a_build_from_before_hnsw_support_still_loads_as_flat(settings, tiny_model, messages):
    """Old manifests have no 'dense' record; their flat index is accepted, not rebuilt."""
    dense_settings = settings.with_overrides(embedding_model=str(tiny_model))
    path = _open(dense_settings, messages).index.path
    _rewrite_manifest(path, lambda m: m.pop("dense"))
    messages.clear()
    warta = _open(dense_settings, messages)
    # Same build folder, nothing embedded. (Other lines may come: the encoder choice is reported.)
    assert warta.index.path == path and warta.index.dense.kind == "flat"
    assert not any("Embedding" in m or "build" in m.lower() for m in messages), list(messages)


def test_a_flat_file_under_an_hnsw_record_is_refused(hnsw_settings, messages):
    path = _open(hnsw_settings, messages).index.path
    vectors = IndexStore(hnsw_settings.index_dir).load().dense.vectors()
    DenseIndex.build(vectors, kind="flat").save(path / DENSE)
    _rewrite_manifest(path, lambda m: m["files"].update({DENSE: sha256_file(path / DENSE)}))
    with pytest.raises(IndexInvalid, match="the dense index is flat, the manifest says hnsw"):
        IndexStore(hnsw_settings.index_dir).load()


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_one_query_searches_on_one_thread_and_leaves_the_budget_as_it_was(vectors, kind):
    import faiss

    index = DenseIndex.build(vectors, kind=kind)
    faiss.omp_set_num_threads(2)
    queries = _fresh_queries(vectors, 5, seed=7)
    singles = [index.search(q, 10) for q in queries]
    assert faiss.omp_get_max_threads() == 2  # builds and batches keep the budget
    assert singles == index.search_batch(queries, 10)  # the same answer, one thread or two


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_a_full_disk_is_an_os_error_with_its_reason_and_a_saved_index_is_faiss_own_format(tmp_path, kind):
    """/dev/full fails every write with ENOSPC, for real: the error says so (faiss's own writer
    would raise a RuntimeError without the reason, which the index builder could not explain)."""
    import faiss

    dense = DenseIndex.build(_unit_rows(600, 16, seed=3), kind=kind, hnsw_threshold=500)
    with pytest.raises(OSError) as raised:
        dense.save(Path("/dev/full"))
    assert raised.value.errno == errno.ENOSPC
    dense.save(tmp_path / "dense.faiss")
    faiss.write_index(dense._index, str(tmp_path / "reference.faiss"))
    assert (tmp_path / "dense.faiss").read_bytes() == (tmp_path / "reference.faiss").read_bytes()
