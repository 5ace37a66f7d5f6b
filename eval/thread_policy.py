"""Single-query embedding latency on torch while another process keeps one core busy.

    python -m eval.thread_policy [--queries 20]

OpenMP's default wait policy lets idle worker threads spin. With a second process busy on one of
two cores, torch's idle thread then spins against it (why rag.threads sets OMP_WAIT_POLICY=PASSIVE
unless the user set it). Each configuration -- ACTIVE with 2 threads, PASSIVE with 2, 1 thread,
and PASSIVE with 2 and no competitor for reference (not in eval.bench --quick) -- runs in a fresh process (libgomp reads the
policy once, when torch loads it): the bundled multilingual-e5-small on torch, single distinct
questions, warm, no query cache (eval.encoder_speed.latency), beside a separate Python process that
spins for at most the run's time limit and is killed when the run ends.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (OMP_WAIT_POLICY, threads, busy competitor)
CONFIGS = (("ACTIVE", 2, True), ("PASSIVE", 2, True), ("PASSIVE", 1, True), ("PASSIVE", 2, False))
SPIN = "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end:\n    pass\n"


@contextmanager
def busy_core(seconds: float):
    """A separate Python process spinning on one core, for at most `seconds`; killed on exit."""
    spinner = subprocess.Popen([sys.executable, "-c", SPIN, str(seconds)])
    try:
        yield spinner.pid
    finally:
        spinner.kill()
        spinner.wait()


def measure(policy: str, threads: int, competitor: bool, queries: int, timeout: float = 300) -> dict:
    """One configuration in a fresh process: {"policy", "threads", "competitor", "query_ms": {n, p50,
    p95, mean}} or, instead of query_ms, "failed": why."""
    row = {"policy": policy, "threads": threads, "competitor": competitor}
    env = {**os.environ, "OMP_WAIT_POLICY": policy, "WARTA_THREADS": str(threads),
           "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    command = [sys.executable, "-m", "eval.thread_policy", "--worker", "--queries", str(queries)]
    try:
        with busy_core(timeout) if competitor else nullcontext():
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**row, "failed": f"no result within {timeout:.0f} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {**row, "failed": f"exit {done.returncode}: {last[:200]}"}
    from eval.bench import latency_summary

    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {**row, "query_ms": latency_summary(found.pop("ms")), **found}


def measure_all(queries: int, reference: bool = True, progress=lambda items: items) -> list[dict]:
    """Every configuration; without `reference`, not the one with no competitor."""
    configs = [c for c in CONFIGS if reference or c[2]]
    return [measure(policy, threads, competitor, queries) for policy, threads, competitor in progress(configs)]


def worker(queries: int) -> dict:
    """In the fresh process: the bundled model on torch, `queries` single questions (ms each).
    Nothing else is imported first: the OpenMP library loads with torch."""
    from rag.threads import pin_threads

    pin_threads()  # WARTA_THREADS from the parent
    import torch

    from eval.encoder_speed import latency, texts
    from rag.search.embedding import SentenceTransformerEmbedder
    from rag.models import resolve_embedding_model

    model_id, path, _ = resolve_embedding_model("bundled")
    embedder = SentenceTransformerEmbedder(model_id, path, cache_size=0)
    return {"ms": latency(embedder, texts(queries)[0]),
            "torch_threads": torch.get_num_threads(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.thread_policy", description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.queries)))
        return 0
    from eval.bench import render_threads

    print("\n".join(render_threads(measure_all(args.queries))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
