"""python -m eval.compare_backends A/report.json B/report.json: how far two eval.run reports of the
same questions differ, question by question (retrieved passages, answers, verdicts), and their
headline figures side by side. Made for `eval.run --backend local` beside `--backend postgres`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eval.report import table


def _rows(report: dict, name: str) -> dict:
    return {row.get("id") or row.get("question") or row.get("claim"): row for row in report["per_question"].get(name, [])}


def compare(a: dict, b: dict) -> dict:
    """Per per-question list present in both: rows compared, rows whose ranked passages, answer
    text or verdict differ."""
    out = {}
    for name in sorted(set(a["per_question"]) & set(b["per_question"])):
        left, right = _rows(a, name), _rows(b, name)
        shared = left.keys() & right.keys()
        differ = {}
        for field in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "answer", "abstained",
                      "gold_containment", "predicted", "quote"):
            if any(field in left[k] for k in shared):
                differ[field] = sum(1 for k in shared if left[k].get(field) != right[k].get(field))
        out[name] = {"rows": len(shared), "differ": differ}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.compare_backends", description=__doc__)
    parser.add_argument("reports", nargs=2, type=Path, help="two eval.run report.json files")
    args = parser.parse_args(argv)
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in args.reports)
    labels = [a.get("backend", "local"), b.get("backend", "local")]
    rows = []
    for name, found in compare(a, b).items():
        for field, count in found["differ"].items():
            rows.append([name, field, found["rows"], count])
    print(f"{a['set']}: {labels[0]} vs {labels[1]}\n")
    print("\n".join(table(["list", "field", "rows in both", "rows that differ"], rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
