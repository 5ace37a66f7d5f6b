"""python -m eval.startup: how long `python app.py` takes on a fresh clone, cold and warm.

Clones this repository's HEAD into a temporary folder and starts its `python app.py` with the
product's default models (this interpreter and its packages: `bash setup.sh` is not timed),
first cold (an empty model cache and no index: the bundled model is prepared and the index built)
then warm (a second start on what the first left). Timed from the process start: until the page
is served (HTTP 200 on /), and until the first question gets an answer through /ask rather than
"the index is being built". Printed with the machine's cores and load average, which the figures
depend on.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from eval.memory import ask_over_http

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Siapa Direktur Hebei MPA?"


def _page(url: str) -> None:
    with urllib.request.urlopen(url, timeout=5) as response:
        response.read()


def start(clone: Path, cache: Path, port: int, timeout: float = 900) -> dict:
    env = {**os.environ, "WARTA_MODEL_CACHE": str(cache), "WARTA_INDEX_DIR": str(clone / "index"),
           "WARTA_PORT": str(port), "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    for name in ("WARTA_EMBEDDING_MODEL", "WARTA_GENERATOR_MODEL", "WARTA_CORPUS_DIR"):
        env.pop(name, None)  # the product's defaults
    url, started, served, answered = f"http://127.0.0.1:{port}/", time.monotonic(), None, None
    load = os.getloadavg()[0]
    with open(clone / "app.log", "w") as log:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        while answered is None and time.monotonic() - started < timeout:
            if process.poll() is not None:
                raise RuntimeError(f"app.py exited: {(clone / 'app.log').read_text()[-2000:]}")
            try:
                if served is None:
                    _page(url)
                    served = time.monotonic() - started
                elif ask_over_http(url, question=QUESTION) == 200:
                    answered = time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.25)
    finally:
        process.terminate()
        process.wait(30)
    return {"page served (s)": served, "first answer (s)": answered, "load average at start": load}


def main() -> int:
    from eval.report import table
    from tests.app_server import free_port

    rows = []
    with tempfile.TemporaryDirectory(prefix="warta-startup-") as tmp:
        clone, cache = Path(tmp) / "clone", Path(tmp) / "model-cache"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        for run in ("cold (empty model cache, no index)", "warm (second start)"):
            result = start(clone, cache, free_port())
            rows.append([run, *(f"{v:.1f}" if v is not None else "timed out" for v in result.values())])
            print(" | ".join(rows[-1]), file=sys.stderr)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    print(f"{os.cpu_count()} cores; commit {commit.stdout.strip()}")
    print("\n".join(table(["start", "page served (s)", "first answer (s)", "load average at start"], rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
