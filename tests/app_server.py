"""Start the real `python app.py` in a subprocess for tests, and a headless Chromium to drive it."""
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium phones home at start-up (update checks,
# component downloads), which would pollute the "no request to another origin" checks.
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

HOSTILE_TEXT = """SURABAYA - Zembla Farma membangun pabrik vaksin baru di Surabaya. <script>window.__pwned = 'script'</script>

Pabrik Zembla Farma <img src="http://evil.example/pixel.png" onerror="window.__pwned='img'"> memproduksi 5 juta dosis vaksin per tahun, kata direktur ![logo](http://evil.example/logo.png) perusahaan itu. Laporan lengkap ada di [tautan ini](javascript:window.__pwned='link') dan <a href="http://evil.example/a">situs kami</a>.

Direktur Zembla Farma <svg onload="window.__pwned='svg'"></svg> adalah Budi <iframe src="http://evil.example/frame"></iframe> Santoso.
"""
HOSTILE_META = ('{"title": "Zembla Farma <img src=\\"http://evil.example/title.png\\" '
                'onerror=\\"window.__pwned=\'title\'\\"> buka pabrik", "source": "<b>Evil</b> News", '
                '"url": "javascript:window.__pwned=\'url\'"}')


def corpus_with_hostile_document(folder: Path) -> Path:
    """The seed corpus plus one article full of markup that must stay inert."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "corpus").iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    (folder / "900_hostile.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    (folder / "900_hostile.meta.json").write_text(HOSTILE_META, encoding="utf-8")
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen
    log: Path
    corpus: Path
    index: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_app(workdir: Path, corpus: Path, embedding_model: str, generator_model: str,
              extra_env: dict | None = None, timeout: float = 120) -> AppServer:
    """`python app.py` on a free port; returns once the page is served and the pipeline is open."""
    port = free_port()
    index = workdir / "index"
    log = workdir / "app.log"
    env = {**os.environ, "WARTA_CORPUS_DIR": str(corpus), "WARTA_INDEX_DIR": str(index),
           "WARTA_EMBEDDING_MODEL": embedding_model, "WARTA_GENERATOR_MODEL": generator_model,
           "WARTA_PORT": str(port), "HF_HUB_OFFLINE": "1", **(extra_env or {})}
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    server = AppServer(f"http://127.0.0.1:{port}/", process, log, corpus, index)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{server.output()}")
        text = server.output()
        if "Warta is serving on" in text and ("Index ready" in text or "cannot start" in text):
            return server
        time.sleep(0.2)
    server.stop()
    raise TimeoutError(f"app.py was not ready in {timeout} s:\n{server.output()}")


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
