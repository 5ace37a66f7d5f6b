"""python -m eval.load [--sessions 50] [--questions 3] [--url URL]: many people asking at once.

Each session asks about its own made-up company (a marker such as "Zorvex017" with a director
no other article names), all sessions at the same time through ONE shared gradio_client.Client
(one connection multiplexing every answer), so an answer delivered to the wrong question shows.
Checked for every request: it was answered (no error), it names its own session's director and
no other session's company or director. Printed: sessions, requests, errors, mixed answers,
p50/p95/max latency and the server's peak memory (RSS).

Without --url it builds the corpus (the seed articles in corpus/ plus one synthetic article per
session) in a temporary folder and starts the real `python app.py` on it, model-free by default
(--embedding-model / --generator-model to load models). With --url the server must already
serve such a corpus: write it with --write-corpus DIR (same --sessions) and start app.py on it;
pass --pid to have its memory reported.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from eval.bench import status_bytes
from eval.metrics import percentile

ROOT = Path(__file__).resolve().parent.parent
SYLLABLES = ["ka", "ri", "mo", "tu", "se", "la", "no", "bi", "da", "gu"]
FIRST_NAMES = ["Ardi", "Sekar", "Bayu", "Wulan", "Gilang", "Ratna", "Yoga"]
CITIES = ["Cilegon", "Pasuruan", "Kendal", "Batang", "Karawang", "Gresik", "Serang"]
QUESTIONS = ["Siapa direktur utama {company}?",
             "Who is the president director of {company}?",
             "Siapa yang memimpin perusahaan {company} sebagai direktur utama?",
             "Who leads {company} as president director?"]


@dataclass(frozen=True)
class Session:
    """One simulated person: a company only their article mentions, and its director."""
    company: str
    director: str
    city: str

    def question(self, i: int) -> str:
        return QUESTIONS[i % len(QUESTIONS)].format(company=self.company)

    def article(self) -> str:
        c, d = self.company, self.director
        return (f"{self.city.upper()} - Perusahaan farmasi {c} meresmikan pabrik tablet di {self.city}. "
                f"Direktur utama {c} adalah {d}.\n\n"
                f"{d} mengatakan pabrik {c} di {self.city} menyerap ratusan pekerja lokal.\n\n"
                f"The president director of {c} is {d}. {c} opened a tablet plant in {self.city}.\n")


def sessions_for(n: int) -> list[Session]:
    """n sessions whose markers never contain one another (fixed-width numbers and names)."""
    width = max(3, len(str(n - 1)))

    def surname(i: int) -> str:
        spelled = "".join(SYLLABLES[int(ch)] for ch in str(i).zfill(width))
        return spelled.capitalize() + "wan"

    return [Session(f"Zorvex{str(i).zfill(width)}", f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {surname(i)}",
                    CITIES[i % len(CITIES)]) for i in range(n)]


def write_corpus(folder: Path, sessions: list[Session]) -> Path:
    """The seed corpus plus one article per session."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "corpus").iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    for i, session in enumerate(sessions):
        (folder / f"800_load_{i:04d}.txt").write_text(session.article(), encoding="utf-8")
        (folder / f"800_load_{i:04d}.meta.json").write_text(
            f'{{"title": "{session.company} buka pabrik di {session.city}", "source": "Warta load test"}}',
            encoding="utf-8")
    return folder


def peak_memory(pid: int | None) -> int | None:
    """The process's peak resident memory so far (VmHWM, the kernel's own mark; Linux)."""
    return status_bytes("VmHWM", pid) if pid else None


# gradio_client 2.7.2 reads every answer of a shared Client from one event stream. When the server
# finishes the last pending event it ends that stream ("close_stream"); a question submitted from
# another thread in that instant is registered to the closing stream, and the client cancels it
# (CancelledError from stream_sse_v1plus) although the server answers it. A client-side race, not
# a server error: such a question is asked again, up to MAX_RETRIES times, and counted apart.
MAX_RETRIES = 2


@dataclass
class LoadReport:
    sessions: int
    requests: int = 0
    errors: list[str] = field(default_factory=list)  # "session k, question i: what went wrong"
    mixed: list[str] = field(default_factory=list)  # answers naming another session's marker
    unanswered: list[str] = field(default_factory=list)  # answered, but without its own director
    latencies: list[float] = field(default_factory=list)  # seconds, every request (retries included)
    client_cancellations: int = 0  # answers gradio_client lost and asked again (MAX_RETRIES)
    peak_rss: int | None = None  # bytes

    def percentile(self, p: float) -> float:
        return percentile(self.latencies, p) or 0.0

    def rows(self) -> list[list[str]]:
        memory = f"{self.peak_rss / 2**20:.0f} MiB" if self.peak_rss else "n/a"
        return [["sessions", str(self.sessions)], ["requests", str(self.requests)],
                ["errors", str(len(self.errors))], ["mixed answers", str(len(self.mixed))],
                ["without own fact", str(len(self.unanswered))],
                ["client cancellations, asked again", str(self.client_cancellations)],
                ["latency p50", f"{self.percentile(50):.2f} s"], ["latency p95", f"{self.percentile(95):.2f} s"],
                ["latency max", f"{max(self.latencies, default=0):.2f} s"], ["peak server memory (RSS)", memory]]


def check_answer(text: str, own: Session, everyone: list[Session]) -> tuple[bool, list[str]]:
    """(names its own director, the other sessions' markers it names)."""
    others = [m for s in everyone if s is not own for m in (s.company, s.director) if m in text]
    return own.director in text, others


def run_load(url: str, sessions: list[Session], questions: int = 3, pid: int | None = None,
             progress: bool = True, auth: tuple[str, str] | None = None) -> LoadReport:
    """Every session asks its questions one after another; all sessions at once, in threads,
    through one shared gradio_client.Client."""
    from gradio_client import Client
    from tqdm import tqdm

    client = Client(url, verbose=False, auth=auth, max_workers=max(40, len(sessions)))
    report, lock = LoadReport(len(sessions)), threading.Lock()
    start = threading.Barrier(len(sessions))
    bar = tqdm(total=len(sessions) * questions, desc="requests", unit="req", file=sys.stderr,
               disable=not progress)

    def session_run(k: int, session: Session) -> None:
        start.wait()
        for i in range(questions):
            started, cancelled = time.perf_counter(), 0
            while True:
                try:
                    text, error = client.predict(session.question(i), api_name="/ask"), None
                except concurrent.futures.CancelledError:
                    # gradio_client lost the answer (see MAX_RETRIES): asked again, and counted.
                    cancelled += 1
                    if cancelled <= MAX_RETRIES:
                        continue
                    text, error = "", f"CancelledError {cancelled} times (gradio_client race)"
                except Exception as e:  # counted, never raised: one failure must not hide the others
                    text, error = "", f"{type(e).__name__}: {e}"
                break
            elapsed = time.perf_counter() - started
            with lock:
                report.requests += 1
                report.client_cancellations += cancelled
                report.latencies.append(elapsed)
                where = f"session {k} ({session.company}), question {i + 1}"
                if error:
                    report.errors.append(f"{where}: {error}")
                else:
                    own, others = check_answer(text, session, sessions)
                    if others:
                        report.mixed.append(f"{where}: names {', '.join(others)}")
                    if not own:
                        report.unanswered.append(f"{where}: {text[:200]!r}")
                bar.update()

    try:
        with concurrent.futures.ThreadPoolExecutor(len(sessions)) as pool:
            for future in [pool.submit(session_run, k, s) for k, s in enumerate(sessions)]:
                future.result()
    finally:
        bar.close()
        client.close()
    report.peak_rss = peak_memory(pid)  # the server still runs: its lifetime peak so far
    return report


def load_test(sessions: int = 50, questions: int = 3, workdir: Path | None = None,
              embedding_model: str = "none", generator_model: str = "none", progress: bool = True) -> LoadReport:
    """Build the corpus, start the real `python app.py` on it, run the load, stop the server."""
    from tests.app_server import start_app  # stdlib only: no pytest needed

    people = sessions_for(sessions)
    with tempfile.TemporaryDirectory(prefix="warta-load-") as tmp:
        folder = Path(workdir or tmp)
        corpus = write_corpus(folder / "corpus", people)
        server = start_app(folder, corpus, embedding_model, generator_model, timeout=600)
        try:
            return run_load(server.url, people, questions, pid=server.process.pid, progress=progress)
        finally:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    from eval.report import table

    parser = argparse.ArgumentParser(prog="python -m eval.load", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50, help="people asking at once (default 50)")
    parser.add_argument("--questions", type=int, default=3, help="questions each, one after another (default 3)")
    parser.add_argument("--url", help="a running Warta (its corpus from --write-corpus); default: start one")
    parser.add_argument("--pid", type=int, help="with --url: the server's process id, for its memory")
    parser.add_argument("--write-corpus", type=Path, metavar="DIR", help="only write the corpus for --sessions")
    parser.add_argument("--embedding-model", default="none", help="for the server started here (default none)")
    parser.add_argument("--generator-model", default="none", help="for the server started here (default none)")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.questions < 1:
        parser.error("--sessions and --questions must be at least 1")
    if args.write_corpus:
        print(write_corpus(args.write_corpus, sessions_for(args.sessions)))
        return 0
    if args.url:
        report = run_load(args.url, sessions_for(args.sessions), args.questions, pid=args.pid)
    else:
        report = load_test(args.sessions, args.questions, embedding_model=args.embedding_model,
                           generator_model=args.generator_model)
    print("\n".join(table(["", "value"], report.rows())))
    for label, problems in (("errors", report.errors), ("mixed", report.mixed),
                            ("without own fact", report.unanswered)):
        for problem in problems[:5]:
            print(f"{label}: {problem}", file=sys.stderr)
    return 0 if not (report.errors or report.mixed or report.unanswered) else 1


if __name__ == "__main__":
    sys.exit(main())
