"""The postgres backend's writing side: builds in PostgreSQL, as rag.index.store keeps them in index/.

    warta.live                one row: the schema of the live build (switched in the build's transaction)
    warta_build_<time>_<hex>  one schema per build: documents, passages, terms, manifest (rag.index.pg_index)

A build is one transaction: it creates its schema, copies the rows in, builds the HNSW graph,
measures ef_search, and switches warta.live, then commits. A build killed at any moment is rolled
back by the server, so warta.live always names a complete build. One writer at a time holds an
advisory lock; loading checks the manifest, the row counts, a digest of every table and that the
graph is valid, as the local store checks its files' SHA-256. The live build and the one before
it are kept (readers that opened it go on), older ones are dropped after the switch.
"""
from __future__ import annotations

import contextlib
import json
import re
import struct
import time
import uuid
from datetime import date

import numpy as np

from rag.errors import BackendUnavailable, ConfigError, IndexBusy, IndexInvalid
from rag.index.pg_index import PgIndex, connect, error_line, server_name
from rag.messages import report_to_stderr
from rag.search.dense import EF_SEARCH_CANDIDATES, RECALL_K, RECALL_QUERIES, RECALL_SEED, exact_top_k, paraphrases, recall_at_k
from rag.search.filters import document_day

FORMAT_VERSION = 1
PREFIX = "warta_build_"
_BUILD_NAME = re.compile(r"warta_build_\d{8}t\d{6}_[0-9a-f]{8}")
# One number for "the Warta index" among the database's advisory locks.
LOCK_KEY = 0x5741525441
# pgvector's HNSW defaults (m 16, ef_construction 64): at 100k x 384 on two cores the graph took
# about as long as FAISS's M=32/efConstruction=80, and its held-in queries reached the same recall
# with the ef_search the build measures (python -m eval.bench --backend postgres).
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
# The graph is built in memory when it fits: 1M x 384 floats need about 2 GB.
MAINTENANCE_WORK_MEM = "2GB"
DIGESTS = {
    "documents": "SELECT count(*), md5(string_agg(md5(d::text), '' ORDER BY doc_id)) FROM {s}.documents d",
    "passages": ("SELECT count(*), md5(string_agg(md5((pid, doc_id, chunk_id, start_char, end_char, text, lang, "
                 "doc_source_key, doc_day, doc_lang)::text || coalesce(md5(vector_send(embedding)), '')), '' "
                 "ORDER BY pid)) FROM {s}.passages"),
    "terms": ("SELECT count(*), md5(string_agg(md5(term || ' ' || df || md5(pids) || md5(scores)), '' ORDER BY term)) "
              "FROM {s}.terms"),
}


def _unavailable(dsn: str, error: Exception) -> BackendUnavailable:
    return BackendUnavailable(f"cannot reach the PostgreSQL server {server_name(dsn)} ({error_line(error)}); check WARTA_PG_DSN "
                              "and that the server is running")


def _read_only(root: str) -> ConfigError:
    return ConfigError(f"the PostgreSQL server {root} is read-only (a standby, or default_transaction_read_only "
                       "is on): build the index on the primary, then point readers at the replica")


class PgStore:
    backend = "postgres"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.root = server_name(dsn)  # named in messages, as IndexStore names its folder

    @contextlib.contextmanager
    def _connection(self):
        import psycopg

        try:
            conn = connect(self.dsn)
        except psycopg.OperationalError as e:
            raise _unavailable(self.dsn, e) from None
        try:
            yield conn
        finally:
            conn.close()

    # --- reading -------------------------------------------------------------------------
    def live_schema(self, conn) -> str | None:
        if conn.execute("SELECT to_regclass('warta.live')").fetchone()[0] is None:
            return None
        row = conn.execute("SELECT schema FROM warta.live WHERE id = 1").fetchone()
        return row[0] if row else None

    def load(self) -> PgIndex:
        """The live build, verified. Raises IndexInvalid naming the first problem found."""
        import psycopg

        with self._connection() as conn:
            try:
                schema = self.live_schema(conn)
                if schema is None:
                    raise IndexInvalid(f"no index in {self.root} yet")
                if not _BUILD_NAME.fullmatch(schema):
                    raise IndexInvalid(f"warta.live in {self.root} does not name a build ({schema[:40]!r})")
                if conn.execute("SELECT to_regclass(%s)", [f"{schema}.manifest"]).fetchone()[0] is None:
                    raise IndexInvalid(f"index build {schema} named by warta.live is missing")
                manifest = self._verified_manifest(conn, schema)
            except psycopg.OperationalError as e:
                raise _unavailable(self.dsn, e) from None
            except psycopg.Error as e:
                raise IndexInvalid(f"index build in {self.root} cannot be read: {error_line(e)}") from None
        return PgIndex(self.dsn, schema, manifest)

    def _verified_manifest(self, conn, schema: str) -> dict:
        rows = conn.execute(f"SELECT body FROM {schema}.manifest").fetchall()
        manifest = rows[0][0] if len(rows) == 1 else None
        if isinstance(manifest, str):
            manifest = json.loads(manifest)
        if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
            raise IndexInvalid(f"{schema}.manifest is not a manifest this Warta reads (format {FORMAT_VERSION})")
        for key in ("counts", "documents", "chunking", "lexical", "tables"):
            if not isinstance(manifest.get(key), dict):
                raise IndexInvalid(f"{schema}.manifest: {key!r} is missing or not a mapping")
        for table, (count, digest) in table_digests(conn, schema).items():
            if [count, digest] != manifest["tables"].get(table):
                raise IndexInvalid(f"index table {schema}.{table} is corrupted (its digest or row count differs "
                                   "from the manifest)")
        counts = manifest["counts"]
        vectors = conn.execute(f"SELECT count(embedding) FROM {schema}.passages").fetchone()[0]
        if vectors != counts.get("vectors"):
            raise IndexInvalid(f"index build {schema}: vectors count {vectors} differs from the manifest's {counts.get('vectors')}")
        if (manifest.get("dense") or {}).get("type") == "hnsw":
            valid = conn.execute("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                 "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
                                 "AND c.relname = 'passages_embedding_hnsw'", [schema]).fetchone()
            if not valid or not valid[0]:
                raise IndexInvalid(f"index build {schema}: its HNSW graph is missing or not valid")
        return manifest

    # --- writing (hold the lock) ---------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, timeout_s: float):
        """One writer at a time, across every machine that builds into this database."""
        import psycopg

        with self._connection() as conn:
            try:
                self._acquire(conn, timeout_s)
            except psycopg.OperationalError as e:  # the server went away while we waited
                raise _unavailable(self.dsn, e) from None
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    conn.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])

    def _acquire(self, conn, timeout_s: float) -> None:
        # A replica would take the lock and read the corpus, then refuse the first write.
        if conn.execute("SHOW transaction_read_only").fetchone()[0] == "on":
            raise _read_only(self.root)
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()[0]:
            report_to_stderr(f"another index build is running (advisory lock in {self.root}); "
                             f"waiting up to {timeout_s:.0f} s")
            deadline = time.monotonic() + timeout_s
            while not conn.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()[0]:
                if time.monotonic() > deadline:
                    raise IndexBusy(f"another index build still holds the advisory lock in {self.root} after "
                                    f"{timeout_s:.0f} s; try again when it has finished")
                time.sleep(0.2)

    def clear_stale(self) -> list[str]:
        """Nothing to clear: a build that did not finish was rolled back with its transaction."""
        return []

    def set_aside(self, reason: str) -> str | None:
        """Rename the live build out of the way (kept for inspection, with the reason as its
        comment) and clear warta.live."""
        stamp = time.strftime("%Y%m%dt%H%M%S", time.gmtime())
        with self._connection() as conn, conn.transaction():
            schema = self.live_schema(conn)
            if schema is None:
                return None
            conn.execute("DELETE FROM warta.live")
            if not _BUILD_NAME.fullmatch(schema) or conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone() is None:
                return f"warta.live (named {schema[:40]!r})"
            target = f"{schema}_invalid_{stamp}"
            conn.execute(f"ALTER SCHEMA {schema} RENAME TO {target}")
            from psycopg import sql

            conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(sql.Identifier(target), sql.Literal(reason)))
        return target

    def write_build(self, documents, passages, vectors, lexical, manifest: dict, settings, report,
                    started: float) -> PgIndex:
        """Copy a build into a new schema and make it live, all in one transaction."""
        import psycopg

        schema = PREFIX + time.strftime("%Y%m%dt%H%M%S", time.gmtime()) + "_" + uuid.uuid4().hex[:8]
        try:
            with self._connection() as conn:
                conn.execute(f"SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
                with conn.transaction():
                    report(f"Writing the index to {self.root} as {schema}")
                    self._create(conn, schema, vectors.shape[1] if vectors is not None else None)
                    _copy_documents(conn, schema, documents)
                    _copy_passages(conn, schema, documents, passages, vectors)
                    _copy_terms(conn, schema, lexical)
                    # The filters' columns: a filtered search scans only the passages they allow.
                    for column in ("doc_id", "doc_source_key", "doc_day"):
                        conn.execute(f"CREATE INDEX ON {schema}.passages ({column})")
                    conn.execute(f"ANALYZE {schema}.passages")
                    manifest["dense"] = self._dense(conn, schema, vectors, settings, report) if vectors is not None else None
                    manifest["tables"] = {table: list(row) for table, row in table_digests(conn, schema).items()}
                    manifest["build_seconds"] = round(time.perf_counter() - started, 3)
                    conn.execute(f"CREATE TABLE {schema}.manifest (body json NOT NULL)")
                    conn.execute(f"INSERT INTO {schema}.manifest VALUES (%s)", [json.dumps(manifest, ensure_ascii=False)])
                    previous = self.live_schema(conn)
                    conn.execute("INSERT INTO warta.live (id, schema, switched_at) VALUES (1, %s, now()) "
                                 "ON CONFLICT (id) DO UPDATE SET schema = excluded.schema, switched_at = now()", [schema])
                self._prune(conn, keep={schema, previous or ""})
        except psycopg.errors.ReadOnlySqlTransaction:
            raise _read_only(self.root) from None
        except psycopg.OperationalError as e:
            raise _unavailable(self.dsn, e) from None
        return PgIndex(self.dsn, schema, manifest)

    def _create(self, conn, schema: str, dimension: int | None) -> None:
        import psycopg

        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.errors.ReadOnlySqlTransaction:
            raise  # not about pgvector: write_build says the server is read-only
        except psycopg.Error as e:
            raise IndexInvalid(f"pgvector is not available in {self.root} ({error_line(e)}); "
                               "a superuser must run CREATE EXTENSION vector there (README, 'PostgreSQL')") from None
        conn.execute("CREATE SCHEMA IF NOT EXISTS warta")
        conn.execute("CREATE TABLE IF NOT EXISTS warta.live (id int PRIMARY KEY CHECK (id = 1), schema text NOT NULL, "
                     "switched_at timestamptz NOT NULL)")
        # Every build's rows are new: no other session reads or writes this schema before commit.
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE {schema}.documents (doc_id text PRIMARY KEY, title text NOT NULL, text text NOT NULL, "
                     "lang text NOT NULL, source text, date text, url text, origin text NOT NULL, source_key text NOT NULL, "
                     "day date)")
        embedding = f", embedding vector({dimension})" if dimension else ", embedding vector"
        conn.execute(f"CREATE TABLE {schema}.passages (pid int PRIMARY KEY, doc_id text NOT NULL, chunk_id text NOT NULL, "
                     "start_char int NOT NULL, end_char int NOT NULL, text text NOT NULL, lang text NOT NULL, "
                     f"doc_source_key text NOT NULL, doc_day date, doc_lang text NOT NULL{embedding})")
        conn.execute(f"CREATE TABLE {schema}.terms (term text PRIMARY KEY, df int NOT NULL, pids bytea NOT NULL, "
                     "scores bytea NOT NULL)")
        # Postings are read whole and are not compressible: stored out of line, uncompressed.
        conn.execute(f"ALTER TABLE {schema}.terms ALTER pids SET STORAGE EXTERNAL, ALTER scores SET STORAGE EXTERNAL")

    def _dense(self, conn, schema: str, vectors: np.ndarray, settings, report) -> dict:
        """Exact search (no index) up to the HNSW threshold, else pgvector HNSW with the smallest
        ef_search whose recall@10 against exact search reaches the target on paraphrased
        passages, measured as rag.search.dense measures the local graph."""
        from rag.search.dense import choose_kind

        kind = choose_kind(settings.dense_index, len(vectors), settings.hnsw_threshold)
        if kind == "flat":
            return {"type": "flat", "library": "pgvector", "metric": "cosine"}
        report(f"Building the HNSW graph over {len(vectors)} vectors in PostgreSQL (m={HNSW_M}, "
               f"ef_construction={HNSW_EF_CONSTRUCTION})")
        t = time.perf_counter()
        conn.execute(f"CREATE INDEX passages_embedding_hnsw ON {schema}.passages USING hnsw (embedding vector_cosine_ops) "
                     f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})")
        graph_seconds = time.perf_counter() - t
        rng = np.random.default_rng(RECALL_SEED)
        sample = rng.choice(len(vectors), size=min(RECALL_QUERIES, len(vectors)), replace=False)
        queries = paraphrases(vectors[sample], rng=rng)
        k = min(RECALL_K, len(vectors))
        exact_scores, exact_ids = exact_top_k(vectors, queries, k)
        from rag.index.pg_index import vector_literal

        chosen, recall = EF_SEARCH_CANDIDATES[-1], 0.0
        for ef in EF_SEARCH_CANDIDATES:
            conn.execute(f"SET LOCAL hnsw.ef_search = {ef}")
            found = [conn.execute(f"SELECT pid, 1 - (embedding <=> %s::vector) FROM {schema}.passages "
                                  f"ORDER BY embedding <=> %s::vector LIMIT %s",
                                  [vector_literal(q), vector_literal(q), k]).fetchall() for q in queries]
            ids = np.array([[r[0] for r in rows] + [-1] * (k - len(rows)) for rows in found])
            scores = np.array([[r[1] for r in rows] + [-np.inf] * (k - len(rows)) for rows in found], dtype=np.float32)
            recall = recall_at_k(ids, scores, exact_ids, exact_scores)
            chosen = ef
            if recall >= settings.hnsw_target_recall:
                break
        report(f"HNSW ef_search {chosen}: recall@{k} {recall:.3f} against exact search")
        return {"type": "hnsw", "library": "pgvector", "metric": "cosine", "M": HNSW_M,
                "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": chosen, "recall_at_10": round(float(recall), 4),
                "target_recall": settings.hnsw_target_recall, "graph_seconds": round(graph_seconds, 2)}

    def _prune(self, conn, keep: set[str]) -> None:
        """Drop builds older than the previous one; set-aside ones are kept."""
        names = [row[0] for row in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'warta\\_build\\_%'")]
        for name in names:
            if name not in keep and _BUILD_NAME.fullmatch(name):
                with contextlib.suppress(Exception):  # a reader's lock: dropped next time instead
                    conn.execute("SET lock_timeout = '2s'")
                    conn.execute(f"DROP SCHEMA {name} CASCADE")


def table_digests(conn, schema: str) -> dict[str, tuple[int, str | None]]:
    return {table: tuple(conn.execute(sql.format(s=schema)).fetchone()) for table, sql in DIGESTS.items()}


# --- binary COPY: a million rows of vectors in seconds, without formatting floats as text -------
_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_EPOCH = date(2000, 1, 1)


def _field(value) -> bytes:
    if value is None:
        return struct.pack("!i", -1)
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, bool):
        raise TypeError("no booleans in Warta's tables")
    elif isinstance(value, int):
        data = struct.pack("!i", value)
    elif isinstance(value, date):
        data = struct.pack("!i", (value - _EPOCH).days)
    elif isinstance(value, np.ndarray):  # pgvector's binary input: dimension, unused, float4s
        data = struct.pack("!hh", len(value), 0) + np.asarray(value, dtype=">f4").tobytes()
    else:
        data = bytes(value)
    return struct.pack("!i", len(data)) + data


def _copy(conn, table: str, columns: str, rows) -> None:
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT binary)") as copy:
        copy.write(_HEADER)
        buffer = []
        for row in rows:
            buffer.append(struct.pack("!h", len(row)) + b"".join(_field(v) for v in row))
            if len(buffer) >= 2000:
                copy.write(b"".join(buffer))
                buffer = []
        copy.write(b"".join(buffer) + struct.pack("!h", -1))


def _copy_documents(conn, schema: str, documents) -> None:
    _copy(conn, f"{schema}.documents", "doc_id, title, text, lang, source, date, url, origin, source_key, day",
          ((d.doc_id, d.title, d.text, d.lang, d.source, d.date, d.url, d.origin, (d.source or "").strip().casefold(),
            document_day(d.date)) for d in documents))


def _copy_passages(conn, schema: str, documents, passages, vectors) -> None:
    by_id = {d.doc_id: d for d in documents}

    def rows():
        for i, p in enumerate(passages):
            d = by_id[p.doc_id]
            yield (i, p.doc_id, p.chunk_id, p.start, p.end, p.text, p.lang, (d.source or "").strip().casefold(),
                   document_day(d.date), d.lang, vectors[i] if vectors is not None else None)

    _copy(conn, f"{schema}.passages", "pid, doc_id, chunk_id, start_char, end_char, text, lang, doc_source_key, "
          "doc_day, doc_lang, embedding", rows())


def _copy_terms(conn, schema: str, lexical) -> None:
    vocabulary, starts, pids, scores = lexical.postings()

    def rows():
        for term, column in vocabulary.items():
            if column + 1 >= len(starts):
                continue
            a, b = int(starts[column]), int(starts[column + 1])
            if b > a:
                yield (term, b - a, pids[a:b].astype("<i4").tobytes(), scores[a:b].astype("<f4").tobytes())

    _copy(conn, f"{schema}.terms", "term, df, pids, scores", rows())
