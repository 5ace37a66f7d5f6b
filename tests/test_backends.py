"""The two index backends answer alike: every question of eval/questions.jsonl retrieves the same
passages with the same scores from local files and from PostgreSQL + pgvector, filters let the
same documents through, term statistics agree, and the pgvector HNSW graph measures its
ef_search as the local one does. (The answer and fact-check tests themselves run on both
backends too: tests/test_answers.py and tests/test_factcheck_cases.py.)"""
import json

import numpy as np
import pytest

from rag.search.filters import Filters
from tests.conftest import ROOT

QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]


def _ranked(warta, question: str, mode: str, filters=None) -> list[tuple[str, float]]:
    return [(hit.passage.chunk_id, hit.score) for hit in warta.retriever.retrieve(question, 10, mode, filters=filters)]


def _same(local: list, postgres: list, what: str) -> None:
    assert [c for c, _ in local] == [c for c, _ in postgres], what
    assert np.allclose([s for _, s in local], [s for _, s in postgres], atol=1e-5), what


@pytest.mark.parametrize("fixture, mode", [("seed_warta", "lexical"), ("seed_bundled", "hybrid"), ("seed_bundled", "dense")])
def test_every_benchmark_question_retrieves_the_same_passages_on_both_backends(request, fixture, mode):
    local, postgres = request.getfixturevalue(f"{fixture}_local"), request.getfixturevalue(f"{fixture}_postgres")
    assert postgres.index.backend == "postgres" and local.index.backend == "local"
    assert len(QUESTIONS) > 100
    for question in QUESTIONS:
        _same(_ranked(local, question, mode), _ranked(postgres, question, mode), f"{mode}: {question}")


FILTERS = [Filters.parse(sources=["tribunnews.com"]), Filters.parse(since="2025-12-01", until="2026-01-31"),
           Filters.parse(langs=["en"]), Filters.parse(sources=["nobody's outlet"]),
           Filters(doc_ids=("000_e05857b49ea00b42", "003_d4d97345020dbe3e"))]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: f.describe("en"))
def test_filters_let_the_same_documents_and_passages_through(seed_bundled_local, seed_bundled_postgres, filters):
    local, postgres = seed_bundled_local, seed_bundled_postgres
    assert local.index.allowed_documents(filters) == postgres.index.allowed_documents(filters)
    for question in QUESTIONS[::10]:
        for mode in ("dense", "lexical", "hybrid"):
            _same(_ranked(local, question, mode, filters), _ranked(postgres, question, mode, filters),
                  f"{mode} {filters.describe('en')}: {question}")


def test_outlets_documents_and_term_statistics_agree(seed_warta_local, seed_warta_postgres):
    local, postgres = seed_warta_local, seed_warta_postgres
    assert local.outlets() == postgres.outlets() and local.outlets()
    assert {d.doc_id: d for d in local.index.documents.values()} == {d.doc_id: d for d in postgres.index.documents.values()}
    assert list(local.index.passages) == list(postgres.index.passages)
    n_local, df_local = local.index.term_statistics()
    n_postgres, df_postgres = postgres.index.term_statistics()
    assert n_local == n_postgres == len(local.index.passages)
    assert all(df_postgres.get(term) == count for term, count in list(df_local.items())[::7])
    assert df_postgres.get("no-such-term-anywhere") is None


def test_a_migration_reuses_the_local_builds_vectors(seed_bundled_postgres):
    counts = seed_bundled_postgres.index.manifest["counts"]
    assert counts["vectors"] == counts["passages"] and counts["embedded"] == 0 and counts["reused"] == counts["passages"]


def test_the_pgvector_graph_measures_its_ef_search_and_finds_the_exact_neighbours(seed_bundled_local, pg_dsn):
    from rag.pipeline import Warta

    settings = seed_bundled_local.settings.with_overrides(backend="postgres", pg_dsn=pg_dsn, dense_index="hnsw")
    warta = Warta.open(settings, report=lambda message: None)
    try:
        dense = warta.index.manifest["dense"]
        assert dense["type"] == "hnsw" and dense["library"] == "pgvector"
        assert dense["recall_at_10"] >= settings.hnsw_target_recall and dense["efSearch"] >= 1
        for question in QUESTIONS[::5]:
            _same(_ranked(seed_bundled_local, question, "dense"), _ranked(warta, question, "dense"), question)
            # Filtered: few allowed passages are scanned exactly, as the local graph does.
            only = Filters.parse(langs=["en"])
            _same(_ranked(seed_bundled_local, question, "dense", only), _ranked(warta, question, "dense", only), question)
    finally:
        warta.index.close()


def test_the_backend_setting_is_checked_in_one_line():
    from rag.config import settings_from_env
    from rag.errors import ConfigError

    assert settings_from_env({}).backend == "local"
    chosen = settings_from_env({"WARTA_BACKEND": "Postgres", "WARTA_PG_DSN": "host=db dbname=warta"})
    assert (chosen.backend, chosen.pg_dsn) == ("postgres", "host=db dbname=warta")
    with pytest.raises(ConfigError, match="needs WARTA_PG_DSN"):
        settings_from_env({"WARTA_BACKEND": "postgres"})
    with pytest.raises(ConfigError, match="not one of local, postgres"):
        settings_from_env({"WARTA_BACKEND": "mysql"})


def test_an_unreachable_server_is_one_line_naming_it_without_the_password(tmp_path):
    import subprocess
    import sys

    from tests.conftest import CORPUS
    from rag.index.pgserver import free_port

    dsn = f"host=127.0.0.1 port={free_port()} user=warta password=s3cret dbname=warta"
    out = subprocess.run([sys.executable, "-m", "rag", "search", "Biotown", "--backend", "postgres", "--pg-dsn", dsn,
                          "--embedding-model", "none", "--corpus", str(CORPUS)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 1 and "Traceback" not in out.stderr
    error = [line for line in out.stderr.splitlines() if line.startswith("warta: error:")]
    assert len(error) == 1 and "cannot reach the PostgreSQL server 127.0.0.1:" in error[0]
    assert "s3cret" not in out.stderr
