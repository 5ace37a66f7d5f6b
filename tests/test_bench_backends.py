"""python -m eval.bench_backends on a small synthetic corpus against a real PostgreSQL: both backends
measured side by side, and the postgres keyword ranking is bm25s's."""
import json

from eval import bench_backends


def test_both_backends_are_measured_and_rank_words_alike(pg_server, tmp_path):
    assert bench_backends.main(["--sizes", "2000", "--queries", "12", "--pg-dsn", pg_server, "--out", str(tmp_path),
                                "--quiet"]) == 0
    rows = json.loads((tmp_path / "bench_backends.json").read_text(encoding="utf-8"))["rows"]
    by_backend = {row["backend"]: row for row in rows}
    assert set(by_backend) == {"local", "postgres"} and all(row["size"] == 2000 for row in rows)
    postgres = by_backend["postgres"]
    assert postgres["dense"]["type"] == "hnsw"  # forced, so the pgvector graph is what is measured
    for row in rows:
        for mode in ("dense", "lexical", "hybrid", "filtered_hybrid"):
            assert row[f"{mode}_ms"]["n"] == 12 and row[f"{mode}_ms"]["p50"] > 0
    assert postgres["recall@10"] >= 0.9 and postgres["database"] is None  # measured, then dropped
    # bm25s's own scores: the same top 10, under a filter too (ties at the cut-off counted found)
    assert postgres["lexical_overlap_with_bm25s"] == 1.0 and postgres["filtered_lexical_overlap_with_bm25s"] == 1.0
