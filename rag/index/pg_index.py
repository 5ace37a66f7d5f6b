"""The postgres backend's reading side (rag.search.backend): one verified build, a schema on a
PostgreSQL server with pgvector, searched in SQL and read by id.

    <schema>.documents   one row per document, with its filter columns (outlet key, day)
    <schema>.passages    pid 0..n-1, text and offsets, the document's filter columns, vector(d)
    <schema>.terms       per analysed term: df, passage numbers and bm25s's BM25 scores (bytea)
    <schema>.manifest    the build's manifest (rag.index.builder), the same keys as index/'s

Dense search is one ORDER BY over pgvector's cosine distance (HNSW above the size threshold,
its ef_search chosen at build time); filters are a WHERE on the passage's own columns, which
pgvector's iterative index scan honours. Keyword search reads the postings of the query's terms
(one indexed lookup per question) and scores them as bm25s does in memory: the stored scores are
bm25s's own, so the ranking is bm25s's, not an approximation of it.

Each thread keeps one connection. A connection the server dropped is opened again once, and
when the server does not answer the request fails with BackendUnavailable (one line), and the
next request tries again: Warta recovers when the server is back, without a restart.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from rag.errors import BackendUnavailable, IndexInvalid
from rag.ingest.chunking import Passage
from rag.ingest.corpus import Document
from rag.search.analysis import query_term_sets
from rag.search.dense import HNSW_WALK_COST
from rag.search.filters import Filters

PASSAGE_COLUMNS = "pid, doc_id, chunk_id, start_char, end_char, text, lang"
DOCUMENT_COLUMNS = "doc_id, title, text, lang, source, date, url, origin"
STATEMENT_TIMEOUT = "30s"
MAX_EF_SEARCH = 1000  # pgvector's upper limit


def connect(dsn: str, **options):
    """An autocommit connection that gives up after 5 s instead of hanging on a dead server."""
    import psycopg

    return psycopg.connect(dsn, autocommit=True, connect_timeout=5, application_name="warta", **options)


def error_line(error: Exception) -> str:
    """The first line of a database error's message (psycopg's carry DETAIL and HINT lines after)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def server_name(dsn: str) -> str:
    """host:port/dbname of a connection string, never its password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # a malformed string is reported by connect(); this is only a label
        return "the configured server"
    host = parts.get("host") or "localhost"
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or parts.get('user') or ''}"


def filter_sql(filters: Filters | None, doc_id: str = "doc_id", source: str = "source_key", day: str = "day",
               lang: str = "lang") -> tuple[str, list]:
    """The WHERE clause ("TRUE" when none apply) and its parameters: Filters.matches in SQL.
    Outlets are compared by their stripped, case-folded key (written at build time the same
    way), and a document without a day has NULL there, which no date range passes."""
    if filters is None or not filters.active:
        return "TRUE", []
    parts, params = [], []
    if filters.doc_ids:
        parts.append(f"{doc_id} = ANY(%s)")
        params.append(list(filters.doc_ids))
    if filters.sources:
        parts.append(f"{source} = ANY(%s)")
        params.append([s.strip().casefold() for s in filters.sources])
    if filters.langs:
        parts.append(f"{lang} = ANY(%s)")
        params.append(list(filters.langs))
    if filters.since:
        parts.append(f"{day} >= %s")
        params.append(filters.since)
    if filters.until:
        parts.append(f"{day} <= %s")
        params.append(filters.until)
    return " AND ".join(parts), params


PASSAGE_FILTER = {"doc_id": "doc_id", "source": "doc_source_key", "day": "doc_day", "lang": "doc_lang"}


def vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in np.asarray(vector, dtype=np.float32)) + "]"


def vectors_from_binary(rows: list[bytes]) -> np.ndarray:
    """pgvector's binary form (vector_send: dimension, unused, then big-endian float4s)."""
    return np.stack([np.frombuffer(row, dtype=">f4", offset=4) for row in rows]).astype(np.float32)


class PgIndex:
    backend = "postgres"

    def __init__(self, dsn: str, schema: str, manifest: dict, notice=None) -> None:
        self.dsn, self.schema, self.manifest, self.notice = dsn, schema, manifest, notice
        self._local = threading.local()
        self._connections: list = []
        self._guard = threading.Lock()
        self.stemmer = (manifest.get("lexical") or {}).get("stemmer", "snowball")
        counts = manifest.get("counts") or {}
        self.size = int(counts.get("passages") or 0)
        dense = manifest.get("dense") or {}
        self.ef_search = int(dense.get("efSearch") or 40)
        self.hnsw = dense.get("type") == "hnsw"
        self.documents = _Documents(self, int(counts.get("documents") or 0))
        self.passages = _Passages(self)
        self.allowed_documents = lru_cache(maxsize=16)(self._allowed_documents)
        self.allowed_passages = lru_cache(maxsize=16)(self._allowed_passages)
        self._lexical_mask = lru_cache(maxsize=16)(self._mask)
        self._df = _Frequencies(self)

    # --- the connection --------------------------------------------------------------
    @property
    def label(self) -> str:
        return f"postgres {server_name(self.dsn)} {self.schema}"

    @property
    def path(self):
        """For messages that print a build's place, as the local backend's folder."""
        return self.label

    @property
    def has_vectors(self) -> bool:
        return (self.manifest.get("counts") or {}).get("vectors", 0) > 0

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = connect(self.dsn)
            # Schema names are made by PgStore (letters, digits, underscores), never by a user.
            conn.execute(f"SET search_path TO {self.schema}, public")
            conn.execute(f"SET hnsw.ef_search = {self.ef_search}")
            conn.execute("SET hnsw.iterative_scan = strict_order")
            # A search that runs away (a filter pgvector's walk cannot satisfy) is stopped by the
            # server, and the request fails in one line instead of holding a worker.
            conn.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
            self._local.conn = conn
            with self._guard:
                self._connections.append(conn)
        return conn

    def query(self, sql: str, params=(), binary: bool = False) -> list[tuple]:
        """Rows of one read. A dropped connection is opened again once; a server that does not
        answer is BackendUnavailable; a build removed under us is IndexInvalid."""
        import psycopg

        for attempt in (1, 2):
            try:
                cursor = self._connection().execute(sql, params, binary=binary)
                return cursor.fetchall() if cursor.description is not None else []
            except psycopg.errors.UndefinedTable:
                raise IndexInvalid(f"build {self.schema} is gone from {server_name(self.dsn)} (a newer build "
                                   "replaced it); restart Warta to serve the live one") from None
            except psycopg.OperationalError as e:
                self._drop_connection()
                if attempt == 2 or not _connection_lost(e):
                    raise BackendUnavailable(f"the PostgreSQL server {server_name(self.dsn)} does not answer "
                                             f"({error_line(e)}); Warta tries again on the next request") from None
        raise AssertionError("unreachable")

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._guard:
                if conn in self._connections:
                    self._connections.remove(conn)
            try:
                conn.close()
            except Exception:  # already broken; closing is best effort
                pass

    def close(self) -> None:
        with self._guard:
            connections, self._connections = self._connections, []
        for conn in connections:
            try:
                conn.close()
            except Exception:  # a connection already broken; closing is best effort
                pass

    # --- filters ---------------------------------------------------------------------
    def _allowed_documents(self, filters: Filters) -> int:
        where, params = filter_sql(filters)
        return int(self.query(f"SELECT count(*) FROM documents WHERE {where}", params)[0][0])

    def _allowed_passages(self, filters: Filters) -> int:
        where, params = filter_sql(filters, **PASSAGE_FILTER)
        return int(self.query(f"SELECT count(*) FROM passages WHERE {where}", params)[0][0])

    def _mask(self, filters: Filters) -> np.ndarray:
        where, params = filter_sql(filters, **PASSAGE_FILTER)
        mask = np.zeros(self.size, dtype=bool)
        pids = [row[0] for row in self.query(f"SELECT pid FROM passages WHERE {where}", params)]
        mask[np.asarray(pids, dtype=np.int64)] = True
        return mask

    # --- search ----------------------------------------------------------------------
    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """pgvector's cosine order. Filtered: few allowed passages are scanned exactly (as the local
        HNSW does below the same share), else the index walks on until k allowed ones are found."""
        literal = vector_literal(vector)
        where, params = filter_sql(filters, **PASSAGE_FILTER)
        exact = False
        # The walk's breadth, as FAISS takes it: at least k, and under a filter widened by the
        # share of passages allowed, so it meets about as many allowed ones as an unfiltered walk.
        breadth = max(self.ef_search, k)
        if filters is not None and filters.active and self.hnsw:
            count = self.allowed_passages(filters)
            if count == 0:
                return []
            breadth = int(np.ceil(breadth * self.size / count))
            exact = count <= HNSW_WALK_COST * breadth
        sql = (f"SELECT pid, 1 - (embedding <=> %s::vector) FROM passages WHERE {where} "
               f"ORDER BY embedding <=> %s::vector LIMIT %s")  # the distance alone, or the graph is not used
        if not exact:
            if self.hnsw:
                self._set_breadth(min(breadth, MAX_EF_SEARCH))
            rows = self.query(sql, [literal, *params, literal, k])
            if len(rows) == k or not self.hnsw or filters is None or not filters.active:
                return [(int(pid), float(score)) for pid, score in rows]
        # An exact scan: the planner is told not to use the graph for this one statement.
        rows = self.query(f"SELECT pid, score FROM (SELECT pid, 1 - (embedding <=> %s::vector) AS score, "
                          f"embedding <=> %s::vector AS distance FROM passages WHERE {where} "
                          f"OFFSET 0) AS scanned ORDER BY distance, pid LIMIT %s", [literal, literal, *params, k])
        return [(int(pid), float(score)) for pid, score in rows]

    def _set_breadth(self, ef: int) -> None:
        """hnsw.ef_search for this thread's connection, set only when it changes."""
        if getattr(self._local, "ef", None) != ef or getattr(self._local, "ef_conn", None) is not self._connection():
            self.query(f"SET hnsw.ef_search = {int(ef)}")
            self._local.ef, self._local.ef_conn = ef, self._connection()

    def lexical_search(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """BM25 as rag.search.lexical scores it: each question word once, its stems in both
        languages alternatives of which the better-scoring counts."""
        groups = list(dict.fromkeys(frozenset(t) for t in query_term_sets(query, self.stemmer)))
        terms = sorted(set().union(*groups)) if groups else []
        if not terms or self.size == 0:
            return []
        postings = {term: (np.frombuffer(pids, dtype="<i4"), np.frombuffer(scores, dtype="<f4"))
                    for term, pids, scores in self.query("SELECT term, pids, scores FROM terms WHERE term = ANY(%s)",
                                                         [terms], binary=True)}
        total = np.zeros(self.size, dtype=np.float32)
        for group in groups:
            found = [postings[t] for t in sorted(group) if t in postings]
            if len(found) == 1:
                pids, scores = found[0]
                total[pids] += scores
            elif found:
                best = np.zeros(self.size, dtype=np.float32)
                for pids, scores in found:
                    best[pids] = np.maximum(best[pids], scores)
                total += best
        if filters is not None and filters.active:
            total[~self._lexical_mask(filters)] = 0.0
        candidates = np.flatnonzero(total)
        if not len(candidates):
            return []
        k = min(k, len(candidates))
        top = candidates[np.argpartition(-total[candidates], k - 1)[:k]]
        top = sorted(top, key=lambda i: (-total[i], i))  # ties by passage order, as bm25s's search
        return [(int(i), float(total[i])) for i in top]

    # --- reading by id ---------------------------------------------------------------
    def fetch_passages(self, numbers) -> list[Passage]:
        numbers = [int(i) for i in numbers]
        if not numbers:
            return []
        rows = {row[0]: row for row in self.query(f"SELECT {PASSAGE_COLUMNS} FROM passages WHERE pid = ANY(%s)",
                                                  [numbers])}
        missing = [i for i in numbers if i not in rows]
        if missing:
            raise IndexInvalid(f"build {self.schema} has no passage {missing[0]}")
        return [_passage(rows[i]) for i in numbers]

    def sources(self) -> list[str]:
        return [row[0] for row in self.query("SELECT DISTINCT source FROM documents "
                                             "WHERE source IS NOT NULL AND btrim(source) <> ''")]

    def term_statistics(self) -> tuple[int, "_Frequencies"]:
        return self.size, self._df

    def reusable_vectors(self) -> dict[str, np.ndarray]:
        rows = self.query("SELECT text, vector_send(embedding) FROM passages WHERE embedding IS NOT NULL", binary=True)
        if not rows:
            return {}
        return dict(zip((text for text, _ in rows), vectors_from_binary([bytes(v) for _, v in rows])))

    def stream(self, sql: str, batch: int = 2000):
        """Rows of a long read through a server-side cursor, on a connection of its own."""
        conn = connect(self.dsn)
        try:
            conn.execute(f"SET search_path TO {self.schema}, public")
            with conn.transaction():
                cursor = conn.cursor(name="warta_stream")
                cursor.itersize = batch
                yield from cursor.execute(sql)
        finally:
            conn.close()


def _connection_lost(error) -> bool:
    """Whether an OperationalError is a connection the server closed (worth one new one) rather
    than, say, a statement the server refused."""
    sqlstate = getattr(error, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03")


def _passage(row) -> Passage:
    _, doc_id, chunk_id, start, end, text, lang = row
    return Passage(doc_id, chunk_id, start, end, text, lang)


class _Documents(Mapping):
    """The documents by id, read when asked (a few hundred kept)."""

    def __init__(self, index: PgIndex, count: int) -> None:
        self._index, self._count = index, count
        self._kept: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, doc_id: str) -> Document:
        with self._lock:
            if doc_id in self._kept:
                self._kept.move_to_end(doc_id)
                return self._kept[doc_id]
        rows = self._index.query(f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE doc_id = %s", [doc_id])
        if not rows:
            raise KeyError(doc_id)
        document = Document(*rows[0])
        with self._lock:
            self._kept[doc_id] = document
            if len(self._kept) > 512:
                self._kept.popitem(last=False)
        return document

    def __iter__(self):
        return (row[0] for row in self._index.stream("SELECT doc_id FROM documents ORDER BY doc_id"))

    def __len__(self) -> int:
        return self._count

    def values(self):
        return (Document(*row) for row in self._index.stream(f"SELECT {DOCUMENT_COLUMNS} FROM documents ORDER BY doc_id"))


class _Passages(Sequence):
    """All passages by number, read when asked."""

    def __init__(self, index: PgIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return self._index.size

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self._index.fetch_passages(range(*i.indices(len(self))))
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self._index.fetch_passages([i % len(self)])[0]

    def __iter__(self):
        return (_passage(row) for row in self._index.stream(f"SELECT {PASSAGE_COLUMNS} FROM passages ORDER BY pid"))


class _Frequencies:
    """Document frequency of analysed terms, read when first asked and kept (rag.evidence.weights)."""

    def __init__(self, index: PgIndex) -> None:
        self._index = index
        self._known: dict[str, int] = {}

    def get(self, term: str, default=None):
        if term not in self._known:
            rows = self._index.query("SELECT df FROM terms WHERE term = %s", [term])
            self._known[term] = int(rows[0][0]) if rows else 0
        return self._known[term] or default

    def __getitem__(self, term: str) -> int:
        found = self.get(term)
        if found is None:
            raise KeyError(term)
        return found
