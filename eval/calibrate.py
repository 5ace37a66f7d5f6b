"""python -m eval.calibrate: the abstention thresholds, chosen on the benchmark.

Each question's candidate sentences are scored once; then every pair of thresholds (sentence in
the question's language, in the other language) is tried. The objective is balanced accuracy:
the mean of (answerable questions answered with the gold fact) and (unanswerable questions
abstained on), so the result does not depend on how many unanswerable questions a set holds.
The product's default (rag/config.py abstain_thresholds) is the best pair.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

from eval.datasets import load_questions
from eval.metrics import abstention_scores, gold_containment
from eval.report import table
from eval.run import EVAL_DIR, settings_for

GRID = [round(0.2 + 0.05 * i, 2) for i in range(13)]


def main(argv: list[str] | None = None) -> int:
    from rag.extractive import ExtractiveAnswerer, candidates
    from rag.pipeline import Warta

    parser = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=EVAL_DIR / "questions.jsonl")
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--embedding-model", default=None)
    parser.add_argument("--top", type=int, default=10, help="rows to print")
    args = parser.parse_args(argv)
    questions = load_questions(args.questions)
    with tempfile.TemporaryDirectory(prefix="warta-calibrate-") as tmp:
        warta = Warta.open(settings_for(args, Path(tmp) / "index"), report=lambda m: None)
        scored = []
        for q in questions:
            hits = warta.retriever.retrieve(q["question"], k=warta.settings.top_k, mode=warta.settings.retrieval_mode)
            scored.append((q, hits, candidates(q["question"], hits, warta.term_weights)))
        rows = []
        for pair in itertools.product(GRID, GRID):
            answerer = ExtractiveAnswerer(warta.term_weights, pair)
            abstained, answerable, gold = [], [], 0
            for q, hits, _ in scored:
                result = answerer.answer(q["question"], q["lang"], hits)
                abstained.append(result is None)
                answerable.append(q["answerable"])
                gold += bool(q["answerable"] and result and gold_containment(result[0], q["answers"]))
            scores = abstention_scores(abstained, answerable)
            gold_rate = gold / sum(answerable)
            rows.append((pair, scores["precision"] or 0.0, scores["recall"] or 0.0, gold_rate,
                         (gold_rate + (scores["recall"] or 0.0)) / 2))
    rows.sort(key=lambda r: (-r[4], -r[3]))
    print(f"{warta.mode()['retrieval']} retrieval, {len(questions)} questions "
          f"({sum(1 for q in questions if not q['answerable'])} unanswerable); best first")
    print("\n".join(table(["same-language", "cross-language", "abstention P", "abstention R",
                           "answerable: gold answered", "balanced accuracy"],
                          [[f"{p[0]:.2f}", f"{p[1]:.2f}", f"{ap:.3f}", f"{ar:.3f}", f"{g:.3f}", f"{b:.3f}"]
                           for p, ap, ar, g, b in rows[:args.top]])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
