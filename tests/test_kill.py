"""A build killed with SIGKILL at any moment leaves the last complete index loadable and answering,
and never a half-written file under a live name.

Each build runs in its own process with the tiny sentence-transformers model and a real FAISS
index. Starting Python with torch takes seconds, so a "build server" subprocess loads the model
once and forks one child per build (the same `ensure_index` that `python -m rag index` runs); the
test kills that child with SIGKILL a seeded random delay after a stage the child reports: half the
runs while files are written, fsynced, renamed and CURRENT switched, a quarter while BM25 is built,
a quarter from loading the corpus to embedding.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

from rag.ingest.corpus import load_corpus
from rag.search.retrieval import Retriever
from rag.index.store import MANIFEST, IndexStore, sha256_file
from tests.conftest import CORPUS, ROOT

RUNS = 24
PHASES = {"index needs a rebuild": "loading and checking", "removed": "loading and checking",
          "set the damaged build aside": "loading and checking", "Chunked": "chunking", "Embedding": "embedding",
          "Building the BM25 index": "BM25", "Writing the index files": "writing, publishing",
          "Index ready": "after publishing"}

BUILD_SERVER = r"""
import os, sys, time, traceback
from pathlib import Path
from rag.config import Settings
from rag.ingest.corpus import load_corpus
from rag.index.ensure import ensure_index
from rag.models import open_embedder
from rag.index.store import IndexStore

index, model = Path(sys.argv[1]), sys.argv[2]
settings = Settings(corpus_dir=index, index_dir=index, embedding_model=model, generator_model=None, encoder="torch")
embedder, why = open_embedder(settings)  # loaded once, never run here: each child embeds
assert embedder is not None, why
print("ready", flush=True)
for line in sys.stdin:
    command, _, argument = line.strip().partition(" ")
    if command == "build":  # build <corpus> <stage log>
        corpus, log = argument.split(" ")
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                with open(log, "w", encoding="utf-8") as f:
                    def report(message):
                        f.write(f"{time.perf_counter() - started:.4f} {message}\n")
                        f.flush()
                    ensure_index(IndexStore(index), load_corpus(corpus), embedder,
                                 settings.with_overrides(corpus_dir=Path(corpus)), report)
                status = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(status)
        print(f"pid {pid}", flush=True)
    elif command == "reap":  # wait for the child (killed or finished) and say how it ended
        _, status = os.waitpid(int(argument), 0)
        print(f"exit {status}", flush=True)
"""

SEED_LINES = [line for d in load_corpus(CORPUS).documents for line in d.text.splitlines() if len(line) > 60]


def _document(seed, i):
    """A synthetic document: seed-article lines in a seeded random order, and a unique marker word."""
    rng = random.Random(f"{seed}-{i}")
    text = "\n".join(rng.sample(SEED_LINES, 6)) + f"\nmarker{seed}x{i}"
    return {"id": f"s{seed}-{i}", "title": f"Synthetic {i}", "text": text, "lang": "id"}


def _write_corpus(path, documents):
    with open(path, "w", encoding="utf-8") as f:
        for d in documents:
            f.write(json.dumps(d) + "\n")
    return {d["id"] for d in documents}


class BuildServer:
    def __init__(self, index, model):
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        self.process = subprocess.Popen([sys.executable, "-c", BUILD_SERVER, str(index), str(model)], cwd=ROOT,
                                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._read() == "ready"

    def _read(self):
        line = self.process.stdout.readline()
        assert line, f"the build server stopped (exit {self.process.poll()})"
        return line.strip()

    def start(self, corpus, log):
        self.process.stdin.write(f"build {corpus} {log}\n")
        self.process.stdin.flush()
        kind, pid = self._read().split()
        assert kind == "pid"
        return int(pid)

    def reap(self, pid):
        """The child's wait status; until this is called a finished child stays a zombie, so its
        pid cannot be reused by another process before the test's SIGKILL."""
        self.process.stdin.write(f"reap {pid}\n")
        self.process.stdin.flush()
        kind, status = self._read().split()
        assert kind == "exit"
        return int(status)

    def close(self):
        self.process.stdin.close()
        self.process.wait(30)


def _stages(log):
    """(seconds since fork, message) of each progress report the child made before it ended."""
    if not log.exists():
        return []
    return [(float(t), m) for t, _, m in (line.partition(" ") for line in log.read_text().splitlines())]


def _assert_no_partial_file_under_a_live_name(index):
    """Only the store's own names at the top; CURRENT names a published build; every published
    build (any name not starting .tmp-) is complete: its files are exactly the manifest's, hashes equal."""
    assert {p.name for p in index.iterdir()} <= {"CURRENT", "CURRENT.tmp", ".lock", "builds"}
    live = (index / "CURRENT").read_text(encoding="utf-8")
    assert live.endswith("\n") and not live.startswith(".tmp-") and (index / "builds" / live.strip()).is_dir()
    published = [p for p in (index / "builds").iterdir() if not p.name.startswith(".tmp-")]
    assert published
    for build in published:
        manifest = json.loads((build / MANIFEST).read_text(encoding="utf-8"))
        files = {p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file()} - {MANIFEST}
        assert files == set(manifest["files"]), build.name
        for name, digest in manifest["files"].items():
            assert sha256_file(build / name) == digest, f"{build.name}/{name}"


def _assert_answers(loaded, documents):
    """The loaded index is whole: it serves exactly `documents`, lexical search finds a marker word,
    and FAISS finds that passage's own vector first."""
    assert set(loaded.manifest["documents"]) == set(documents) == set(loaded.documents)
    doc_id = sorted(documents)[len(documents) // 2]
    seed, number = doc_id[1:].split("-")
    hits = Retriever(loaded, None).retrieve(f"marker{seed}x{number}", k=1, mode="lexical")
    assert hits and hits[0].passage.doc_id == doc_id
    i = loaded.passages.index(hits[0].passage)
    assert loaded.dense.search(loaded.dense.vectors()[i], 1)[0][0] == i


def _wait_for_stage(log, prefix, timeout=60):
    """Poll the child's progress log until a report starting with `prefix` appears."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(m.startswith(prefix) for _, m in _stages(log)):
            return
        time.sleep(0.001)
    raise AssertionError(f"the build never reported {prefix!r}: {_stages(log)}")


def test_killed_builds_leave_the_last_complete_index_usable(tmp_path, tiny_model):
    index = tmp_path / "index"
    base = [_document(10**6, i) for i in range(200)]
    server = BuildServer(index, tiny_model)
    try:
        # The first index, then a timed build to place the kills: each run changes 12 documents
        # (so a build re-embeds only those), and the kill is timed from a stage the child reports.
        _write_corpus(tmp_path / "corpus-0.jsonl", base)
        assert server.reap(server.start(tmp_path / "corpus-0.jsonl", tmp_path / "stages-0.log")) == 0
        corpus, log = tmp_path / "corpus-1.jsonl", tmp_path / "stages-1.log"
        complete = _write_corpus(corpus, base[12:] + [_document(10**6 + 1, i) for i in range(12)])
        pid = server.start(corpus, log)
        assert server.reap(pid) == 0
        times = {m.split(" ")[0]: t for t, m in _stages(log)}
        windows = {  # stage to time the kill from, and how long after it the build ends
            "index needs a rebuild": 1.2 * (times["Building"] - times["index"]),  # corpus, chunks, vectors
            "Building the BM25 index": 1.2 * (times["Writing"] - times["Building"]),
            # writing and fsyncing the files, renaming the folder, switching CURRENT, pruning
            "Writing the index files": 1.3 * (times["Index"] - times["Writing"]) + 0.005,
        }
        _assert_answers(IndexStore(index).load(), complete)

        rng = random.Random(20261122)
        outcomes, stages, where = Counter(), Counter(), Counter()
        for run in range(RUNS):
            corpus, log = tmp_path / f"corpus-{run + 2}.jsonl", tmp_path / f"stages-{run + 2}.log"
            kept = rng.sample(base, len(base) - 12)
            attempted = _write_corpus(corpus, kept + [_document(run, i) for i in range(12)])
            # Half the runs are killed while files are written and published, a quarter while BM25
            # is built, a quarter from loading the corpus to embedding.
            trigger = ["index needs a rebuild", "Building the BM25 index"][run % 4] if run % 4 < 2 \
                else "Writing the index files"
            delay = rng.uniform(0, windows[trigger])
            before = {p.name for p in (index / "builds").iterdir()}
            pid = server.start(corpus, log)
            _wait_for_stage(log, trigger)
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)
            status = server.reap(pid)
            reached = _stages(log)
            stages[next(phase for prefix, phase in PHASES.items() if reached[-1][1].startswith(prefix))] += 1

            _assert_no_partial_file_under_a_live_name(index)
            loaded = IndexStore(index).load()  # hashes, counts and dimension verified
            left = {p.name for p in (index / "builds").iterdir()} - before
            if set(loaded.manifest["documents"]) == attempted:
                outcomes["published, then killed"] += 1  # the kill came after CURRENT switched
                complete = attempted
            else:
                assert not any(m.startswith("Index ready") for _, m in reached), "reported ready, not published"
                outcomes["killed; the previous index stays live"] += 1
                if any(name.startswith(".tmp-") for name in left):
                    where["while writing files (a .tmp- build left behind)"] += 1
                elif left:
                    where["after renaming the build, before CURRENT switched"] += 1
                else:
                    where["before writing any file"] += 1
            if not os.WIFSIGNALED(status):
                assert os.WEXITSTATUS(status) == 0 and complete == attempted  # it had finished
            _assert_answers(loaded, complete)

        print(f"\n{RUNS} SIGKILL runs, the last complete index loaded after each: {dict(outcomes)}; "
              f"killed {dict(where)}; last stage reported: {dict(stages)}")
        assert sum(outcomes.values()) == RUNS and outcomes["killed; the previous index stays live"] >= RUNS // 2
        assert where["while writing files (a .tmp- build left behind)"] >= 1

        # A build that runs to the end removes what killed builds left half-written.
        final = _write_corpus(tmp_path / "corpus-final.jsonl", base)
        assert server.reap(server.start(tmp_path / "corpus-final.jsonl", tmp_path / "stages-final.log")) == 0
    finally:
        server.close()
    assert not [p for p in (index / "builds").iterdir() if p.name.startswith(".tmp-")]
    _assert_no_partial_file_under_a_live_name(index)
    _assert_answers(IndexStore(index).load(), final)
