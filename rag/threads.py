"""One thread budget for every library that computes: torch, OpenMP/MKL, FAISS and ONNX Runtime.

`pin_threads(n)` runs once per process, when Warta.open starts (before any model or index loads):

* OMP_NUM_THREADS and MKL_NUM_THREADS are set to n unless the user set them. OpenMP and MKL
  read them once, when their library loads, so this only counts before torch and faiss are
  imported; rag/__init__.py therefore sets them already on `import rag` (from WARTA_THREADS, or
  the cores this process may use), and pin_threads replaces those values of Warta's own.
* torch: intra-op threads n (torch.set_num_threads; torch hands this on to threads started later),
  inter-op threads 1 (Warta runs no parallel graphs; torch refuses a change once inter-op work has
  started or it was set, so it is set only while it still can be).
* FAISS: faiss.omp_set_num_threads(n). OpenMP keeps that per thread, so every thread that
  searches calls `pin_this_thread()` once (the retriever does), covering web-server worker threads
  when faiss was loaded before the environment variables could count.
* ONNX Runtime: sessions are created with intra_op_num_threads=`budget()` (rag.search.onnx_encoder).

Importing this module is cheap (os, sys, threading); torch and faiss are touched only when loaded.
"""
from __future__ import annotations

import os
import sys
import threading

ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
# Values Warta itself put in the environment (so a later, explicit setting may replace them; a
# user's own value is never touched).
_set_by_warta: dict[str, str] = {}
_budget: int | None = None
_local = threading.local()
_lock = threading.Lock()


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity: taskset, cgroup cpusets), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def threads_from_env(env=None) -> int:
    """WARTA_THREADS when it is a whole number >= 1, else the available cores. Never raises (it
    runs on `import rag`); rag.config validates the variable and reports a bad value."""
    raw = (os.environ if env is None else env).get("WARTA_THREADS", "").strip()
    try:
        value = int(raw)
    except ValueError:
        return available_cores()
    return value if value >= 1 else available_cores()


def set_env_defaults(n: int) -> None:
    """OMP_NUM_THREADS / MKL_NUM_THREADS = n and OMP_WAIT_POLICY = PASSIVE, unless the user set
    them (only effective before the OpenMP and MKL libraries load).

    PASSIVE: OpenMP's default lets idle worker threads spin; with another process busy on one of
    two cores, torch's second thread then spins against it and a single query embedding took
    840 ms instead of 60 (multilingual-e5-small, `python -m eval.bench` measures both)."""
    for var in ENV_VARS:
        current = os.environ.get(var)
        if current is None or current == _set_by_warta.get(var):
            os.environ[var] = _set_by_warta[var] = str(n)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def budget() -> int:
    """The pinned thread count, or the default when pin_threads has not run."""
    return _budget if _budget is not None else threads_from_env()


def pin_threads(n: int | None = None) -> dict:
    """Pin every compute library to `n` threads (default: WARTA_THREADS or the available cores).
    Returns what was set: {"threads": n, "torch": ..., "interop": ..., "faiss": ...}."""
    global _budget
    n = threads_from_env() if n is None else int(n)
    if n < 1:
        raise ValueError(f"threads must be at least 1, got {n}")
    with _lock:
        _budget = n
        set_env_defaults(n)
        _local.__dict__.clear()  # this thread re-pins below; others re-pin on their next search
    return {"threads": n, **pin_this_thread()}


def pin_this_thread() -> dict:
    """Apply the budget to the libraries loaded so far, once per thread and library. Cheap when
    already done (a thread-local lookup), so it runs before every search."""
    n = _budget
    if n is None:
        return {}
    done = _local.__dict__.setdefault("done", {})
    applied = {}
    for name in ("torch", "faiss"):
        if done.get(name) == n or name not in sys.modules:
            continue
        applied[name] = (_pin_torch if name == "torch" else _pin_faiss)(n)
        done[name] = n
    return applied


def _pin_torch(n: int):
    import torch

    torch.set_num_threads(n)
    interop = _pin_torch_interop(torch)
    return {"intra_op": torch.get_num_threads(), "inter_op": interop}


_interop_tried = False


def _pin_torch_interop(torch) -> int:
    """Inter-op threads 1, if torch still allows it (it refuses once inter-op work has started or
    the count was set); else whatever it has."""
    global _interop_tried
    if not _interop_tried:
        _interop_tried = True
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass  # already started or set: keep the running value
    return torch.get_num_interop_threads()


def _pin_faiss(n: int) -> int:
    import faiss

    faiss.omp_set_num_threads(n)
    return faiss.omp_get_max_threads()
