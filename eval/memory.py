"""python -m eval.memory [--rounds 7] [--concurrent 10]: does the server give memory back?

Starts the real `python app.py` (model-free by default, on the seed corpus in a temporary
folder), asks a few questions to warm it up, then sends rounds of `--concurrent` simultaneous
large requests and reads the server's resident memory (VmRSS) after each round:

- 5 MB and 50 MB questions, declared (Content-Length) and streamed (chunked), to the queue and to
  /ask: over the request limit (WARTA_MAX_REQUEST_BYTES, 1 MiB), they must be refused unread;
- questions just under the limit (0.9 MiB, cut to the question limit and answered): the largest
  a client can make the server read.

Printed: memory before (after the warm-up), after each round and at the end, and whether the end
is within 10 % of the start (exit status 1 if not). A server that kept each request's body
(Gradio kept 50 MB requests for good before Warta's limit: 0.4 -> 4.3 GB over 7 rounds) fails.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from eval.bench import status_bytes

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20


def _post(url: str, path: str, body: bytes, chunked: bool) -> int:
    """The status the server answers a POST with (0 when the connection was dropped)."""
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=120)
    try:
        payload = iter([body[i:i + 64 * 1024] for i in range(0, len(body), 64 * 1024)]) if chunked else body
        connection.request("POST", path, body=payload, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        connection.close()


def _ask_body(size: int) -> bytes:
    question = ("Siapa Direktur Hebei MPA? " * (size // 26 + 1))[:size]
    return json.dumps({"data": [question, "auto"]}).encode()


def ask_over_http(url: str, size: int = 0, question: str | None = None) -> int:
    """Ask through /gradio_api/call/ask and wait for the answer: 200 when one came (a question of
    `size` characters, or `question`), else the status (0: the connection failed)."""
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=120)
    body = json.dumps({"data": [question, "auto"]}).encode() if question is not None else _ask_body(size)
    try:
        connection.request("POST", "/gradio_api/call/ask", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        event = json.loads(response.read()).get("event_id")
        if response.status != 200 or not event:
            return response.status
        connection.request("GET", f"/gradio_api/call/ask/{event}")
        result = connection.getresponse()
        text = result.read().decode("utf-8", "replace")
        return result.status if "event: complete" in text else 500
    except (OSError, ValueError):
        return 0
    finally:
        connection.close()


ROUNDS = {
    "5 MB to /ask, declared": lambda url: _post(url, "/gradio_api/call/ask", _ask_body(5 * MiB), False),
    "5 MB to the queue, chunked": lambda url: _post(url, "/gradio_api/queue/join", json.dumps(
        {"data": ["x" * 5 * MiB, None, "auto", None], "fn_index": 4, "session_hash": uuid.uuid4().hex}).encode(), True),
    "50 MB to /ask, declared": lambda url: _post(url, "/gradio_api/call/ask", _ask_body(50 * MiB), False),
    "50 MB to /ask, chunked": lambda url: _post(url, "/gradio_api/call/ask", _ask_body(50 * MiB), True),
    "0.9 MiB questions, answered": lambda url: ask_over_http(url, int(0.9 * MiB)),
}


def memory_run(url: str, pid: int, rounds: int = 7, at_once: int = 10, progress=print) -> tuple[list[list[str]], float]:
    for _ in range(3):  # warm-up: the first answers load what every later one shares
        ask_over_http(url, 100)
    time.sleep(1)
    start = status_bytes("VmRSS", pid)
    rows = [["before (after warm-up)", "", "", f"{start / MiB:.0f} MiB"]]
    with concurrent.futures.ThreadPoolExecutor(at_once) as pool:
        for number in range(1, rounds + 1):
            for name, send in ROUNDS.items():
                statuses = list(pool.map(lambda _: send(url), range(at_once)))
                time.sleep(0.5)
                rss = status_bytes("VmRSS", pid)
                counts = ", ".join(f"{s}×{statuses.count(s)}" for s in sorted(set(statuses)))
                rows.append([f"round {number}", name, counts, f"{rss / MiB:.0f} MiB"])
                progress(" | ".join(rows[-1]))
    time.sleep(2)
    end = status_bytes("VmRSS", pid)
    growth = (end - start) / start
    rows.append(["after", "", "", f"{end / MiB:.0f} MiB ({growth:+.1%})"])
    return rows, growth


def main(argv: list[str] | None = None) -> int:
    from eval.report import table
    from tests.app_server import start_app  # stdlib only: no pytest needed

    parser = argparse.ArgumentParser(prog="python -m eval.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds of every kind of request (default 7)")
    parser.add_argument("--concurrent", type=int, default=10, help="requests at once in a round (default 10)")
    parser.add_argument("--embedding-model", default="none", help="for the server started here (default none)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="warta-memory-") as tmp:
        server = start_app(Path(tmp), ROOT / "corpus", args.embedding_model, "none", timeout=600)
        try:
            rows, growth = memory_run(server.url, server.process.pid, args.rounds, args.concurrent,
                                      progress=lambda line: print(line, file=sys.stderr))
        finally:
            server.stop()
    print("\n".join(table(["when", "requests", "statuses", "server memory (RSS)"], rows)))
    print(f"\nmemory after the run is {growth:+.1%} of before: {'within' if abs(growth) <= 0.10 else 'NOT within'} 10 %")
    return 0 if abs(growth) <= 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
