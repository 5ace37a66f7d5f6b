"""eval.fusion's choice: the rule whose worst breakdown loses least to the better part alone,
in that breakdown's standard errors, ties to the mean over sets."""
from eval.fusion import choose, fuse


def _cell(recall: float, n: int) -> dict:
    return {"n": n, "recall@5": recall, "ndcg@10": recall}


def test_worst_breakdown_in_standard_errors_decides_not_the_mean():
    results = {
        "small": {"dense": {"all": _cell(0.9, 16), "en-id": _cell(0.9, 16)},
                  "lexical": {"all": _cell(0.5, 16), "en-id": _cell(0.5, 16)},
                  "steady": {"all": _cell(0.875, 16), "en-id": _cell(0.875, 16)},  # one question short
                  "greedy": {"all": _cell(1.0, 16), "en-id": _cell(1.0, 16)}},
        "large": {"dense": {"all": _cell(0.99, 240), "id-id": _cell(0.99, 240)},
                  "lexical": {"all": _cell(0.9, 240), "id-id": _cell(0.9, 240)},
                  "steady": {"all": _cell(0.99, 240), "id-id": _cell(0.99, 240)},
                  "greedy": {"all": _cell(0.96, 240), "id-id": _cell(0.96, 240)}},  # 7 questions short
    }
    chosen, ranking = choose(results, ["small", "large"])
    assert chosen == "steady" and [r[0] for r in ranking] == ["steady", "greedy"]
    assert ranking[1][3] > ranking[0][3]  # the greedy rule has the higher mean, and still loses


def test_fuse_ranks_by_the_retrievers_own_rules():
    dense = [(1, 0.9), (2, 0.8), (3, 0.1)]
    lexical = [(3, 12.0), (2, 6.0)]
    # scaled: dense 1 -> 1, 2 -> 0.875, 3 -> 0; lexical 3 -> 1, 2 -> 0
    assert fuse(("convex", 0.6, None), dense, lexical) == [1, 2, 3]  # 0.6, 0.525, 0.4
    assert fuse(("convex", 0.3, None), dense, lexical) == [3, 1, 2]  # 0.7, 0.3, 0.2625
    # reciprocal ranks: 3 -> 1/63 + 1/61, 2 -> 2/62, 1 -> 1/61
    assert fuse(("rrf", 1.0, None), dense, lexical) == [3, 2, 1]
