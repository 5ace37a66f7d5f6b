"""A build killed at any moment leaves the previous index loadable and answering."""
import json
import os
import random
import signal
import subprocess
import sys
import time

from rag.corpus import load_corpus
from rag.store import IndexStore
from tests.conftest import CORPUS, ROOT


def _synthetic_corpus(path, documents, seed):
    """Documents made of seed-article lines in random order, each with a unique marker word."""
    lines = [line for d in load_corpus(CORPUS).documents for line in d.text.splitlines() if len(line) > 60]
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(documents):
            text = "\n".join(rng.sample(lines, 8)) + f"\nmarker{seed}x{i}"
            f.write(json.dumps({"id": f"s{seed}-{i}", "title": f"Synthetic {i}", "text": text, "lang": "id"}) + "\n")


def _build_command(corpus, index):
    return [sys.executable, "-m", "rag", "index", "--corpus", str(corpus), "--index", str(index),
            "--embedding-model", "none"]


def _search(index, query):
    from rag.retrieval import Retriever

    loaded = IndexStore(index).load()
    return Retriever(loaded, None).retrieve(query, k=1, mode="lexical"), loaded


def test_killed_builds_leave_the_previous_index_usable(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    index = tmp_path / "index"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    _synthetic_corpus(corpus, 3000, seed=1)
    subprocess.run(_build_command(corpus, index), cwd=ROOT, env=env, check=True, capture_output=True)
    original = IndexStore(index).load().path

    # The next build has more to do (a changed corpus), and is killed at random moments.
    _synthetic_corpus(corpus, 3500, seed=2)
    started = time.perf_counter()
    subprocess.run(_build_command(corpus, index), cwd=ROOT, env=env, check=True, capture_output=True)
    duration = time.perf_counter() - started
    completed = IndexStore(index).load().path
    assert completed != original

    rng = random.Random(7)
    for _ in range(8):
        _synthetic_corpus(corpus, 3000 + rng.randrange(1000), seed=rng.randrange(3, 10**6))
        process = subprocess.Popen(_build_command(corpus, index), cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1, 1.0) * duration)
        process.send_signal(signal.SIGKILL)
        process.wait()

        hits, loaded = _search(index, "Biotown")  # every synthetic corpus holds seed lines
        assert hits and "Biotown" in hits[0].passage.text
        assert not loaded.path.name.startswith(".tmp-")
        assert (index / "CURRENT").read_text().strip() == loaded.path.name

    # A build that runs to the end afterwards cleans up what killed builds left half-written.
    subprocess.run(_build_command(corpus, index), cwd=ROOT, env=env, check=True, capture_output=True)
    assert not [p for p in (index / "builds").iterdir() if p.name.startswith(".tmp-")]
    assert IndexStore(index).load().passages
