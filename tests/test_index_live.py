"""The index while it is being built or rebuilt, with a real model, real FAISS, real processes.

How a running Warta meets a rebuilt index: it does not reload. `Warta.open` (and the web app's
PipelineService, which opens once) reads the whole verified build into memory -- passages,
documents, BM25 arrays, FAISS vectors -- and answers from that copy until the process restarts.
A rebuild writes a new build folder and switches CURRENT atomically. So the guarantees tested
here are: a live pipeline keeps answering from its own, whole index while builds are replaced and
even deleted on disk; any load or open sees either the old complete build or the new complete one
(an open that needs the new one waits on the build lock); nothing ever mixes the two.
"""
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from rag.index.builder import build_index
from rag.config import Settings
from rag.ingest.corpus import load_corpus
from rag.errors import NotReady
from rag.pipeline import Warta
from rag.index.ensure import ensure_index
from rag.web.service import PipelineService
from rag.index.store import IndexStore
from tests.conftest import CORPUS, ROOT

MARKER = "Zorblattika"
NEW_DOCUMENT = (f"{MARKER} adalah nama laboratorium riset vaksin baru di Bandung yang dibuka pada Maret 2026. "
                f"Laboratorium {MARKER} dipimpin oleh Dr. Ratna Wulandari dan mempekerjakan 40 peneliti.\n")
PREPENDED = "Catatan redaksi: artikel ini diperbarui pada 3 Januari 2026 dengan keterangan tambahan.\n"
QUESTIONS = ["Siapa Direktur Hebei MPA?", "Apa itu Biotown?", "Who is the President Director of MiLab?",
             f"Siapa yang memimpin laboratorium {MARKER}?"]


def _cli(*args):
    return [sys.executable, "-m", "rag", *args]


class Output:
    """A process's stderr read line by line in the background, so a test can wait for a stage."""

    def __init__(self, stream):
        self.lines = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            time.sleep(0.01)
        raise AssertionError(f"never saw {text!r} in: {self.lines}")

    def joined(self):
        self._thread.join(30)
        return "\n".join(self.lines)


# --- 5. Index folder missing: built at start, questions meanwhile get "being built" -------------

def test_a_missing_index_is_built_at_start_and_questions_meanwhile_are_told_so(settings, tiny_model):
    """The real build runs in the service's thread; its own progress report is held at the
    embedding stage (the lock is held, nothing is published yet) while questions come in."""
    from app import WartaChatUI

    settings = settings.with_overrides(embedding_model=str(tiny_model))
    assert not settings.index_dir.exists()
    stages, embedding, go_on = [], threading.Event(), threading.Event()

    def report(message):
        stages.append(message)
        if message.startswith("Embedding"):
            embedding.set()
            go_on.wait(60)

    service = PipelineService(settings, with_generator=False, report=report).start()
    try:
        assert embedding.wait(60)
        assert not (settings.index_dir / "CURRENT").exists()  # building, nothing published
        with pytest.raises(NotReady, match=r"Embedding 58 passages with .*tiny-embedding"):
            service.pipeline()
        ui = WartaChatUI(service)
        reply = list(ui.respond("Siapa Direktur Hebei MPA?", [], "auto", {}))[-1][0][-1]["content"]
        assert "Indeks sedang dibangun" in reply and "The index is being built" in reply
        assert "Embedding 58 passages" in reply
        assert "Menyiapkan" in " ".join(ui.status()) and service.state == "opening"
    finally:
        go_on.set()
    assert service.wait(60) and service.state == "ready"
    assert [s.split(" ")[0] for s in stages] == ["index", "Chunked", "Embedding", "Building", "Writing", "Index"]
    assert stages[0] == f"index needs a rebuild: no index in {settings.index_dir} yet"
    assert "Fengshan Wang" in service.pipeline().ask("Siapa Direktur Hebei MPA?", mode="lexical").text
    assert IndexStore(settings.index_dir).load().path == service.pipeline().index.path


# --- 10. Two builds at once ----------------------------------------------------------------------

def test_a_second_build_process_waits_for_the_lock_then_uses_the_first_ones_index(settings, tmp_path):
    """The test holds the build lock (as the first builder); `python -m rag index` in another
    process says it waits, waits, and after the first build is published uses it (no second build)."""
    store = IndexStore(settings.index_dir)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = _cli("index", "--corpus", str(CORPUS), "--index", str(settings.index_dir), "--embedding-model", "none")
    with store.lock(5):
        second = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        err = Output(second.stderr)
        err.wait_for(f"another index build is running (lock {settings.index_dir / '.lock'}); waiting up to 600 s")
        time.sleep(0.5)
        assert second.poll() is None  # still waiting
        first = build_index(store, load_corpus(CORPUS), None, settings, model_free_reason="test")
    out, _ = second.communicate(timeout=60)
    assert second.returncode == 0
    assert out.startswith(f"index {first.path}:")
    assert "Index ready" not in err.joined()  # checked again under the lock: up to date
    assert [p.name for p in (settings.index_dir / "builds").iterdir()] == [first.path.name]


def test_two_build_processes_started_together_build_once(settings):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = _cli("index", "--corpus", str(CORPUS), "--index", str(settings.index_dir), "--embedding-model", "none")
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0]
    assert sum(err.count("Index ready") for _, err in results) == 1
    live = IndexStore(settings.index_dir).load().path
    assert [out.split(":")[0] for out, _ in results] == [f"index {live}"] * 2
    assert [p.name for p in (settings.index_dir / "builds").iterdir()] == [live.name]


# --- 11. Rebuild while users are asking -----------------------------------------------------------

def _generation(documents):
    """doc_id -> text, read from the corpus files (not from any index)."""
    return {d.doc_id: d.text for d in documents}


class Recorder:
    """Results and failures gathered from the worker threads."""

    def __init__(self):
        self.results, self.errors, self.lock = [], [], threading.Lock()

    def add(self, *result):
        with self.lock:
            self.results.append((time.monotonic(), *result))

    def fail(self, where):
        import traceback

        with self.lock:
            self.errors.append(f"{where}: {traceback.format_exc()}")


def _ask_loop(warta, recorder, stop, offset):
    i = offset
    while not stop.is_set():
        question = QUESTIONS[i % len(QUESTIONS)]
        try:
            if i % 2:
                answer = warta.ask(question)
                recorder.add("ask", answer.mode["index"], [h.to_json() for h in answer.hits],
                             [c.to_json() for c in answer.citations])
            else:
                result = warta.search(question, k=8)
                recorder.add("search", result["mode"]["index"], result["passages"], [])
        except Exception:
            recorder.fail(f"question {question!r}")
        i += 1


def _load_loop(store, recorder, stop):
    """A reader opening the store again and again: each load must be one whole build."""
    while not stop.is_set():
        try:
            loaded = store.load()
            for p in loaded.passages:
                assert loaded.documents[p.doc_id].text[p.start:p.end] == p.text, p.chunk_id
            assert set(loaded.documents) == set(loaded.manifest["documents"])
            recorder.add("load", loaded.path.name, {d: t.text for d, t in loaded.documents.items()},
                         [p.chunk_id for p in loaded.passages])
        except Exception:
            recorder.fail("IndexStore.load")


def _assert_whole(name, passages, citations, generations, chunk_ids):
    """Every passage and citation of one result comes from the one build it names, verbatim."""
    texts = generations[name]
    for p in passages:
        assert p["chunk_id"] in chunk_ids[name] and texts[p["doc_id"]][p["start"]:p["end"]] == p["text"], (name, p)
    for c in citations:
        assert c["chunk_id"] in chunk_ids[name] and texts[c["doc_id"]][c["start"]:c["end"]] == c["quote"], (name, c)


def test_a_rebuild_while_users_ask_never_mixes_the_old_and_the_new_index(tmp_path, tiny_model):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", embedding_model=str(tiny_model),
                        generator_model=None, lock_timeout_s=120, encoder="torch")
    old = Warta.open(settings, report=lambda m: None)
    a = old.index.path.name
    generations = {a: _generation(load_corpus(CORPUS).documents)}
    chunk_ids = {a: {p.chunk_id for p in old.index.passages}}

    # Corpus A+B: a new document with a marker word, and one article with a paragraph put in
    # front (every offset in it moves, so a passage of one build never matches the other's text).
    # The new document also carries ~150 lines of new text (seed lines, words reversed) so the
    # other process's build takes long enough for an open to meet it (not required: see below).
    filler = [" ".join(reversed(line.split())) for d in load_corpus(CORPUS).documents
              for line in d.text.splitlines() if len(line) > 40]
    (corpus / "900_zorblattika.txt").write_text(NEW_DOCUMENT + "\n".join(filler[:150]) + "\n", encoding="utf-8")
    shifted = corpus / "002_d1bf058be705b182.txt"
    shifted.write_text(PREPENDED + shifted.read_text(encoding="utf-8"), encoding="utf-8")
    new_texts = _generation(load_corpus(corpus).documents)
    assert new_texts["002_d1bf058be705b182"] != generations[a]["002_d1bf058be705b182"]

    recorder, stop = Recorder(), threading.Event()
    workers = [threading.Thread(target=_ask_loop, args=(old, recorder, stop, n)) for n in range(2)]
    workers.append(threading.Thread(target=_load_loop, args=(IndexStore(settings.index_dir), recorder, stop)))
    for w in workers:
        w.start()
    try:
        # Rebuild 1: another process (the real CLI). Rebuild 2: in this process, which removes
        # build A from disk (only the live build and the one before it are kept).
        started = time.monotonic()
        builder = subprocess.Popen(_cli("index", "--corpus", str(corpus), "--index", str(settings.index_dir),
                                        "--embedding-model", str(tiny_model)),
                                   cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        err = Output(builder.stderr)
        err.wait_for("Chunked")  # the other process holds the lock and is building
        # An open meanwhile: what Warta.open does once its models are loaded (the model is
        # already loaded here, so the open reaches the index while the build is still running).
        opened_during, messages = {}, []
        opener = threading.Thread(target=lambda: opened_during.setdefault("index", ensure_index(
            IndexStore(settings.index_dir), load_corpus(corpus), old.embedder, settings, messages.append)))
        opener.start()
        out, _ = builder.communicate(timeout=300)
        assert builder.returncode == 0, err.joined()
        b = IndexStore(settings.index_dir).load().path.name
        rebuilt = time.monotonic()
        opener.join(120)
        during = opened_during["index"]
        # The open got the other process's build and did not build its own: either it met the
        # build, found A stale and waited on the lock, or it came after B was published.
        assert during.path.name == b
        assert messages in ([], ["index needs a rebuild: corpus changed (1 added, 1 changed, 0 removed)"])
        open_waited = bool(messages)
        generations[b] = new_texts
        chunk_ids[b] = {p.chunk_id for p in during.passages}

        time.sleep(0.5)
        third = Warta.open(settings, report=lambda m: None, rebuild=True)
        c = third.index.path.name
        generations[c], chunk_ids[c] = new_texts, {p.chunk_id for p in third.index.passages}
        assert not (settings.index_dir / "builds" / a).exists()  # build A is gone from disk...
        time.sleep(1.0)
    finally:
        stop.set()
        for w in workers:
            w.join(60)
    assert not recorder.errors, recorder.errors[0]

    # ...and the old pipeline still answered from it, wholly and verbatim, after it was deleted.
    answer = old.ask("Siapa Direktur Hebei MPA?", mode="lexical")
    assert "Fengshan Wang" in answer.text and answer.mode["index"] == a
    _assert_whole(a, [h.to_json() for h in answer.hits], [c.to_json() for c in answer.citations], generations, chunk_ids)
    assert all(h.passage.doc_id != "900_zorblattika" for h in old.retriever.retrieve(MARKER, 10, "lexical"))

    asked = [r for r in recorder.results if r[1] != "load"]
    loads = [r for r in recorder.results if r[1] == "load"]
    for _, kind, name, passages, citations in asked:
        assert name == a  # the live pipeline never switched
        _assert_whole(name, passages, citations, generations, chunk_ids)
    for _, _, name, texts, ids in loads:
        assert name in (a, b, c) and texts == generations[name] and set(ids) == chunk_ids[name]
    during_rebuild = [r for r in asked if started <= r[0] <= rebuilt]
    seen = {r[2] for r in loads}
    print(f"\n{len(asked)} answers/searches from the live pipeline ({len(during_rebuild)} while the other "
          f"process rebuilt), all from build A; {len(loads)} loads, each one whole build "
          f"({sum(r[2] == a for r in loads)} A, {sum(r[2] == b for r in loads)} B, {sum(r[2] == c for r in loads)} C); "
          f"the open during the rebuild {'waited on the lock' if open_waited else 'came after B was published'}")
    assert during_rebuild and a in seen and (b in seen or c in seen)

    # A fresh open sees the whole new index, without rebuilding; the marker is answered from it.
    fresh = Warta.open(settings, report=lambda m: pytest.fail(f"unexpected: {m}"))
    assert fresh.index.path.name == c
    answer = fresh.ask(f"Siapa yang memimpin laboratorium {MARKER}?", mode="lexical")
    assert "Ratna Wulandari" in answer.text and answer.citations[0].doc_id == "900_zorblattika"
    _assert_whole(c, [h.to_json() for h in answer.hits], [x.to_json() for x in answer.citations], generations, chunk_ids)
