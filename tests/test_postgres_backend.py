"""The postgres backend against real servers (rag/index/postgres.py, rag/index/pg_index.py): a build
killed with SIGKILL, two writers at once, a streaming replica serving reads and refusing builds, the
server going away and coming back under an open Warta, and a damaged build set aside and rebuilt.

Model-free (lexical) Wartas on the seed corpus, except the replica's, which also searches a
pgvector HNSW graph with the tiny embedding model. Builds that must be killed or raced run as
`python -m rag index` in their own processes, and every wait polls the server with a deadline.
"""
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from rag.config import Settings
from rag.errors import BackendUnavailable
from rag.index.pg_index import server_name
from rag.index.postgres import LOCK_KEY, PgStore
from rag.ingest.chunking import chunk_corpus
from rag.ingest.corpus import load_corpus
from rag.pipeline import Warta
from tests.conftest import CORPUS, ROOT, local_postgres

QUESTIONS = ["Siapa Direktur Hebei MPA?", "Apa itu Biotown?", "What certifications does MiLab's Cikarang plant hold?",
             "What is NBP used to treat?"]
BUILD = re.compile(r"warta_build_\d{8}t\d{6}_[0-9a-f]{8}")


def settings(dsn: str, folder: Path, corpus: Path = CORPUS, **overrides) -> Settings:
    values = {"embedding_model": None, "generator_model": None, "lock_timeout_s": 10, **overrides}
    return Settings(corpus_dir=corpus, index_dir=folder / "local-index", backend="postgres", pg_dsn=dsn, **values)


def open_warta(dsn: str, folder: Path, corpus: Path = CORPUS, report=lambda message: None, **overrides) -> Warta:
    return Warta.open(settings(dsn, folder, corpus, **overrides), report=report)


def corpus_with(folder: Path, name: str, text: str) -> Path:
    """A copy of the seed corpus plus one more article: a build is needed."""
    shutil.copytree(CORPUS, folder)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def extra_article(i: int) -> str:
    return (f"Artikel tambahan nomor {i} tentang pabrik vaksin baru di Cikarang.\n"
            f"Pabrik itu diresmikan oleh direktur utama kodevaksin{i} pada tahun {2020 + i}.\n" * 20)


def connect(dsn: str):
    """The test's own connection: not named 'warta', so it is never counted as Warta's."""
    return psycopg.connect(dsn, autocommit=True, application_name="warta-test")


def one(dsn: str, sql: str, params=()):
    with connect(dsn) as conn:
        return conn.execute(sql, params).fetchone()[0]


def live(dsn: str) -> str:
    return one(dsn, "SELECT schema FROM warta.live WHERE id = 1")


def builds(dsn: str) -> set[str]:
    with connect(dsn) as conn:
        return {row[0] for row in conn.execute(r"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'warta\_build\_%'")}


def wait_until(predicate, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.05)


def wartas_gone(dsn: str) -> bool:
    """No connection of Warta's to this database is left, and no advisory lock held in it: a
    killed build's server sessions have ended (their transactions rolled back)."""
    with connect(dsn) as conn:
        sessions = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND application_name = 'warta'").fetchone()[0]
        locks = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                             "(SELECT oid FROM pg_database WHERE datname = current_database())").fetchone()[0]
    return sessions == 0 and locks == 0


def passage_count(corpus: Path) -> int:
    s = Settings()
    return len(chunk_corpus(load_corpus(corpus).documents, s.chunk_size, s.chunk_overlap))


class IndexCommand:
    """`python -m rag index --backend postgres` in a process of its own; its stderr is read line by
    line as it comes, so a test can act on a stage the build reports."""

    def __init__(self, dsn: str, corpus: Path, folder: Path) -> None:
        env = {**os.environ, "WARTA_CORPUS_DIR": str(corpus), "WARTA_INDEX_DIR": str(folder / "local-index"),
               "WARTA_EMBEDDING_MODEL": "none", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "rag", "index", "--backend", "postgres", "--pg-dsn", dsn],
                                        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.stdout = ""
        self._changed = threading.Condition()
        self._readers = [threading.Thread(target=self._read_stderr, daemon=True),
                         threading.Thread(target=self._read_stdout, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append(None)  # the end
            self._changed.notify_all()

    def _read_stdout(self) -> None:
        self.stdout = self.process.stdout.read()

    def reported(self, prefix: str) -> bool:
        return any(line is not None and line.startswith("warta: " + prefix) for line in self.lines)

    def wait_for(self, prefix: str, timeout: float = 60) -> bool:
        """True once the build reports a line starting with prefix; False if it ended without."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self.reported(prefix):
                if None in self.lines:
                    return False
                if not self._changed.wait(timeout=max(0.0, deadline - time.monotonic())) \
                        and time.monotonic() > deadline:
                    raise AssertionError(f"the build never reported {prefix!r}:\n{self.stderr}")
        return True

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()

    def finish(self, timeout: float = 120) -> int:
        try:
            status = self.process.wait(timeout)
        finally:
            self.kill()
        for reader in self._readers:
            reader.join(10)
        return status

    @property
    def stderr(self) -> str:
        return "\n".join(line for line in self.lines if line is not None)

    @property
    def schema(self) -> str | None:
        """The build it started writing, from its "Writing the index to ... as <schema>" line."""
        found = BUILD.search(next((line for line in self.lines if line and "Writing the index to" in line), ""))
        return found.group(0) if found else None


# --- 1. SIGKILL during a build ---------------------------------------------------------------------
def test_a_build_killed_at_any_point_leaves_the_live_build_whole_and_the_lock_free(pg_dsn, tmp_path):
    first = open_warta(pg_dsn, tmp_path)
    first.index.close()
    documents = set(first.index.manifest["documents"])
    # (the stage to kill at, whether the switch of warta.live is held back): the last run is killed
    # for certain with every row, digest and the manifest written, its INSERT into warta.live
    # waiting for the test's lock on that table, the transaction not committed.
    runs = [("Building the BM25 index", False), ("Writing the index to", False), ("Writing the index to", True)]
    for i, (stage, hold) in enumerate(runs):
        corpus = corpus_with(tmp_path / f"corpus-{i}", f"extra-{i}.txt", extra_article(i))
        before, kept = live(pg_dsn), builds(pg_dsn)
        with contextlib.ExitStack() as stack:
            if hold:  # EXCLUSIVE: reading warta.live goes on, writing it waits
                blocker = stack.enter_context(connect(pg_dsn))
                blocker.execute("BEGIN")
                blocker.execute("LOCK TABLE warta.live IN EXCLUSIVE MODE")
            command = IndexCommand(pg_dsn, corpus, tmp_path)
            stack.callback(command.kill)
            assert command.wait_for(stage), command.stderr  # a build that finished reported it too
            if hold:
                waiting = wait_until(lambda: one(pg_dsn, "SELECT string_agg(query, ';') FROM pg_stat_activity WHERE "
                                                 "datname = current_database() AND application_name = 'warta' "
                                                 "AND wait_event_type = 'Lock'"), "the build waiting to switch")
                assert waiting.startswith("INSERT INTO warta.live"), waiting
            command.kill()
            status = command.finish()
        # The killed build's server session finishes its statement, finds its client gone and rolls back.
        wait_until(lambda: wartas_gone(pg_dsn), "the killed build's sessions and advisory lock gone")
        after = live(pg_dsn)
        loaded = PgStore(pg_dsn).load()  # manifest, row counts, table digests verified
        loaded.close()
        assert loaded.schema == after
        if after == before:
            assert not command.reported("Index ready"), command.stderr
            assert builds(pg_dsn) == kept  # no trace of the killed build
            assert set(loaded.manifest["documents"]) == documents
            assert status == -signal.SIGKILL
        else:  # the build committed before the kill landed (or ended before it)
            assert not hold and after == command.schema and status in (0, -signal.SIGKILL)
            assert after in builds(pg_dsn) <= kept | {after}
            documents = set(loaded.manifest["documents"])
            assert documents == {d.doc_id for d in load_corpus(corpus).documents}
        if hold:
            assert after == before
    # The lock is free: a build completes at once (lock_timeout_s=10), and the result answers.
    messages = []
    final = open_warta(pg_dsn, tmp_path, corpus, report=messages.append)
    assert any(m.startswith("Index ready") for m in messages), messages
    assert live(pg_dsn) == final.index.schema
    assert builds(pg_dsn) <= {final.index.schema, after}
    assert final.search("kodevaksin2", k=1)["passages"][0]["doc_id"].startswith("extra-2")
    final.index.close()


# --- 2. two writers --------------------------------------------------------------------------------
def test_two_builds_at_once_one_builds_the_other_finds_it_done(pg_dsn, tmp_path):
    first = open_warta(pg_dsn, tmp_path)
    first.index.close()
    corpus = corpus_with(tmp_path / "corpus", "extra.txt", extra_article(7))
    # The test holds the writers' advisory lock until both have found the corpus changed and wait for it.
    with connect(pg_dsn) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        commands = [IndexCommand(pg_dsn, corpus, tmp_path) for _ in range(2)]
        try:
            for command in commands:
                assert command.wait_for("another index build is running"), command.stderr
                assert command.reported("index needs a rebuild: corpus changed (1 added")
        except BaseException:
            for command in commands:
                command.kill()
            raise
        finally:
            holder.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    statuses = [command.finish() for command in commands]
    assert statuses == [0, 0], [command.stderr for command in commands]
    built = [command for command in commands if command.reported("Index ready")]
    assert len(built) == 1, [command.stderr for command in commands]
    other = commands[1 - commands.index(built[0])]
    assert not other.reported("Writing the index to")  # checked again under the lock: up to date
    schema = built[0].schema
    assert live(pg_dsn) == schema
    for command in commands:  # both serve the one new build
        assert BUILD.search(command.stdout).group(0) == schema, command.stdout
    loaded = PgStore(pg_dsn).load()
    loaded.close()
    expected = passage_count(corpus)
    assert expected > passage_count(CORPUS)
    assert loaded.schema == schema and loaded.manifest["counts"]["passages"] == expected
    assert one(pg_dsn, f"SELECT count(*) FROM {schema}.passages") == expected
    assert one(pg_dsn, f"SELECT count(*) FROM {schema}.documents") == len(load_corpus(corpus).documents)
    assert builds(pg_dsn) == {schema, first.index.schema}  # the previous build is kept for its readers


# --- 3. a streaming replica ------------------------------------------------------------------------
def test_a_replica_answers_as_the_primary_and_refuses_a_build(tmp_path, tiny_model):
    with local_postgres() as primary, tempfile.TemporaryDirectory(prefix="warta-pg-") as folder, \
            primary.start_replica(folder) as replica:
        primary_dsn = primary.create_database("warta_replicated")
        replica_dsn = make_conninfo(replica.dsn, dbname="warta_replicated")
        # Built after the replica started: it reaches the replica only by streaming.
        source = open_warta(primary_dsn, tmp_path, embedding_model=str(tiny_model), dense_index="hnsw",
                            encoder="torch")
        assert source.index.manifest["dense"]["type"] == "hnsw"

        def replayed():
            try:
                index = PgStore(replica_dsn).load()
            except Exception:  # the database or the build not replayed yet
                return False
            index.close()
            return index.schema == source.index.schema

        wait_until(replayed, "the replica replaying the build")
        assert one(replica_dsn, "SELECT pg_is_in_recovery()") is True
        messages = []
        reader = open_warta(replica_dsn, tmp_path, embedding_model=str(tiny_model), dense_index="hnsw",
                            encoder="torch", report=messages.append)
        assert not any("rebuild" in m for m in messages), messages
        assert reader.index.schema == source.index.schema
        for question in QUESTIONS:
            for mode in ("hybrid", "dense", "lexical"):
                ours, theirs = reader.search(question, k=5, mode=mode), source.search(question, k=5, mode=mode)
                assert ours["passages"] and ours["passages"] == theirs["passages"], (question, mode)
        reader.index.close()
        source.index.close()

        # A build pointed at the replica (the corpus changed) fails in one line, and changes nothing.
        command = IndexCommand(replica_dsn, corpus_with(tmp_path / "corpus", "extra.txt", extra_article(3)), tmp_path)
        assert command.finish() == 1
        assert "Traceback" not in command.stderr
        last = command.stderr.splitlines()[-1]
        assert last.startswith("warta: error: ") and "is read-only" in last and server_name(replica_dsn) in last, \
            command.stderr
        assert "pgvector" not in last
        assert not command.reported("Writing the index to")  # refused before any work on the rows
        assert live(primary_dsn) == live(replica_dsn) == source.index.schema


# --- 4. the server going away and coming back --------------------------------------------------------
def test_the_server_going_away_fails_one_request_in_one_line_and_warta_recovers(tmp_path):
    import gradio as gr

    from app import WartaChatUI
    from rag.web.service import PipelineService

    with local_postgres() as server:
        dsn = server.create_database("warta_away")
        service = PipelineService(settings(dsn, tmp_path), with_generator=False, report=lambda message: None).start()
        assert service.wait(60) and service.state == "ready", service.error
        warta, ui = service.pipeline(), WartaChatUI(service)
        expected = {question: warta.search(question, k=3)["passages"] for question in QUESTIONS}
        assert all(expected.values())

        # Warta's sessions terminated by the server: the next search opens a new one, unnoticed.
        with connect(server.dsn) as admin:
            ended = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                                  "application_name = 'warta' AND pid <> pg_backend_pid()").fetchall()
        assert ended and all(row[0] for row in ended)
        for question in QUESTIONS:
            assert warta.search(question, k=3)["passages"] == expected[question]

        # A build waiting for the advisory lock (held here) when the server stops.
        holder = connect(dsn)
        holder.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        waiting = IndexCommand(dsn, corpus_with(tmp_path / "corpus", "extra.txt", extra_article(5)), tmp_path)
        try:
            assert waiting.wait_for("another index build is running"), waiting.stderr
        finally:
            server.stop()
            holder.close()
        assert waiting.finish(60) == 1 and "Traceback" not in waiting.stderr, waiting.stderr
        last = waiting.stderr.splitlines()[-1]
        assert last.startswith("warta: error: cannot reach the PostgreSQL server ") and server_name(dsn) in last, last
        with pytest.raises(BackendUnavailable) as failure:
            warta.search(QUESTIONS[0], k=3)
        message = str(failure.value)
        assert "\n" not in message and server_name(dsn) in message and "does not answer" in message
        # The page: the one line in the chat, never a traceback, nor that Warta "could not start".
        chat = list(ui.respond(QUESTIONS[0], [], "auto", {}))[-1][0]
        shown = chat[-1]["content"].replace("\\", "")  # markdown escapes undone
        assert f"Warta cannot reach its index right now: {message}" in shown, shown
        assert "Traceback" not in shown and "could not start" not in shown and "tidak dapat dimulai" not in shown
        with pytest.raises(gr.Error) as refused:  # the /ask API
            ui.ask_api(QUESTIONS[0])
        assert str(refused.value.message).endswith(f"Warta cannot reach its index right now: {message}")
        # The command line: one line on stderr, exit status 1.
        searched = subprocess.run([sys.executable, "-m", "rag", "search", QUESTIONS[0], "--backend", "postgres",
                                   "--pg-dsn", dsn], cwd=ROOT, capture_output=True, text=True, timeout=120,
                                  env={**os.environ, "WARTA_CORPUS_DIR": str(CORPUS), "WARTA_EMBEDDING_MODEL": "none",
                                       "WARTA_INDEX_DIR": str(tmp_path / "local-index"), "HF_HUB_OFFLINE": "1"})
        assert searched.returncode == 1 and searched.stdout == ""
        assert "Traceback" not in searched.stderr
        errors = [line for line in searched.stderr.splitlines() if line.startswith("warta: error: ")]
        assert len(errors) == 1 and server_name(dsn) in errors[0], searched.stderr

        server.start()  # the same port: the same Warta object answers again, without a restart
        for question in QUESTIONS:
            assert warta.search(question, k=3)["passages"] == expected[question]
        chat = list(ui.respond("Siapa Direktur Hebei MPA?", [], "auto", {}))[-1][0]
        assert "Fengshan Wang" in chat[-1]["content"]
        # Restarted between two requests: the open connection is dead, and the next search reopens it.
        server.stop()
        server.start()
        assert warta.search(QUESTIONS[1], k=3)["passages"] == expected[QUESTIONS[1]]
        warta.index.close()


# --- 5. a damaged build ------------------------------------------------------------------------------
def test_a_damaged_build_is_set_aside_and_rebuilt(pg_dsn, tmp_path):
    first = open_warta(pg_dsn, tmp_path)
    first.index.close()
    damaged = first.index.schema
    with connect(pg_dsn) as conn:
        conn.execute(f"UPDATE {damaged}.passages SET text = text || 'x' WHERE pid = 0")
    messages = []
    warta = open_warta(pg_dsn, tmp_path, report=messages.append)
    said = "\n".join(messages)
    assert f"index table {damaged}.passages is corrupted" in said
    aside = re.search(rf"set the damaged build aside as ({damaged}_invalid_\d{{8}}t\d{{6}})\b", said)
    assert aside, said
    aside = aside.group(1)
    assert any(m.startswith("Index ready") for m in messages)
    # Kept for inspection, with the reason, and the damaged row as it was.
    with connect(pg_dsn) as conn:
        comment = conn.execute("SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
                               [aside]).fetchone()
        assert comment and "is corrupted" in comment[0]
        assert conn.execute(f"SELECT text FROM {aside}.passages WHERE pid = 0").fetchone()[0].endswith("x")
    assert warta.index.schema not in (damaged, None) and live(pg_dsn) == warta.index.schema
    assert damaged not in builds(pg_dsn)
    assert "Fengshan Wang" in warta.ask("Siapa Direktur Hebei MPA?").text
    warta.index.close()
    # Opened again: the new build serves as it is, and a later build still keeps the one set aside.
    messages.clear()
    again = open_warta(pg_dsn, tmp_path, report=messages.append)
    assert again.index.schema == warta.index.schema and not any("rebuild" in m for m in messages), messages
    again.index.close()
    rebuilt = Warta.open(settings(pg_dsn, tmp_path), report=lambda message: None, rebuild=True)
    rebuilt.index.close()
    assert one(pg_dsn, "SELECT count(*) FROM pg_namespace WHERE nspname = %s", [aside]) == 1
    assert live(pg_dsn) == rebuilt.index.schema


def test_the_page_waits_for_a_server_that_is_down_at_start_and_serves_once_it_is_up(tmp_path):
    from rag.web.service import PipelineService

    with local_postgres() as server:
        dsn = server.create_database("warta_later")
        server.stop()
        stages = []
        service = PipelineService(settings(dsn, tmp_path), with_generator=False, report=stages.append).start()
        deadline = time.monotonic() + 60
        while not any("trying again" in stage for stage in stages) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert service.state == "opening", service.error
        waiting = next(stage for stage in stages if "trying again" in stage)
        assert waiting.startswith("cannot reach the PostgreSQL server ") and server_name(dsn) in waiting
        server.start()
        assert service.wait(120) and service.state == "ready", service.error
        assert service.pipeline().search(QUESTIONS[0], k=3)["passages"]
        service.pipeline().index.close()
