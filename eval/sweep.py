"""python -m eval.sweep: chunking, stemmer and fusion-weight grid, scored on the question set.

    python -m eval.sweep [--questions F] [--corpus DIR_OR_JSONL] [--embedding-model ID_OR_DIR] [--out DIR]

Prints one row per setting, sorted by what users get: the extractive answerer's balanced accuracy
(mean of answerable questions answered with the gold fact and unanswerable ones abstained on),
then recall within a 2,000-character context and writes sweep.json. The defaults in
rag/config.py are set from it. Fusion weights are swept only when the embedding model loads.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

from eval.datasets import DatasetError, load_questions
from eval.evaluate import RETRIEVAL_METRICS, score_retrieval
from eval.metrics import by_kind, gold_containment
from eval.report import table
from eval.run import EVAL_DIR, _warta_retriever

CHUNK_SIZES = (300, 500, 700, 1000)
OVERLAPS = (0, 100, 200)
STEMMERS = ("snowball", "sastrawi", "none")
FUSION_WEIGHTS = ((1.0, 0.5), (1.0, 1.0), (0.5, 1.0), (0.25, 1.0))  # (dense, lexical)


def score(settings, questions: list[dict], mode: str) -> dict | None:
    from rag.pipeline import Warta

    warta = Warta.open(settings, report=lambda message: None)
    if warta.retriever.effective_mode(mode) != mode:
        return None
    passages = [(p.doc_id, p.text) for p in warta.index.passages]
    rows = [r for r in score_retrieval(_warta_retriever(warta, mode), questions, passages) if "mrr@10" in r]
    # End to end: the extractive answer holds the gold fact / abstains on unanswerable questions.
    gold = abstained_right = 0
    for q in questions:
        answer = warta.ask(q["question"], mode=mode)
        if q["answerable"]:
            gold += not answer.abstained and gold_containment(answer.text, q["answers"])
        else:
            abstained_right += answer.abstained
    n_answerable = sum(q["answerable"] for q in questions)
    gold_rate = gold / n_answerable
    abstain_rate = abstained_right / max(1, len(questions) - n_answerable)
    return {"passages": len(passages), "answer_gold": gold_rate, "balanced": (gold_rate + abstain_rate) / 2,
            **by_kind(rows, RETRIEVAL_METRICS)}


def main(argv: list[str] | None = None) -> int:
    from rag.config import model_setting, settings_from_env
    from rag.errors import WartaError
    from tqdm import tqdm

    parser = argparse.ArgumentParser(prog="python -m eval.sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=EVAL_DIR / "questions.jsonl")
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--embedding-model", default=None)
    parser.add_argument("--out", type=Path, default=EVAL_DIR / "out")
    args = parser.parse_args(argv)
    try:
        questions = load_questions(args.questions)
    except DatasetError as e:
        print(f"eval: error: {e}", file=sys.stderr)
        return 1
    base = settings_from_env()
    if args.corpus is not None:
        base = base.with_overrides(corpus_dir=args.corpus)
    if args.embedding_model is not None:
        base = base.with_overrides(embedding_model=model_setting(args.embedding_model))

    grid = [dict(chunk_size=size, chunk_overlap=overlap, stemmer=stemmer)
            for size, overlap, stemmer in itertools.product(CHUNK_SIZES, OVERLAPS, STEMMERS)
            if overlap < size // 2]
    results = []
    with tempfile.TemporaryDirectory(prefix="warta-sweep-") as tmp:
        try:
            for i, values in enumerate(tqdm(grid, desc="lexical grid", file=sys.stderr)):
                settings = base.with_overrides(index_dir=Path(tmp) / f"i{i}", embedding_model=None, **values)
                results.append({"mode": "lexical", **values, **score(settings, questions, "lexical")})
            # Fusion weights at the default chunking, only with a real embedding model.
            weighted = base.with_overrides(index_dir=Path(tmp) / "dense")
            for dense_w, lexical_w in tqdm(FUSION_WEIGHTS, desc="fusion weights", file=sys.stderr):
                figures = score(weighted.with_overrides(dense_weight=dense_w, lexical_weight=lexical_w), questions, "hybrid")
                if figures is None:
                    print("eval: fusion weights not swept: the embedding model is not available (model-free mode)",
                          file=sys.stderr)
                    break
                results.append({"mode": f"hybrid d{dense_w:g}/l{lexical_w:g}", "chunk_size": base.chunk_size,
                                "chunk_overlap": base.chunk_overlap, "stemmer": base.stemmer, **figures})
        except WartaError as e:
            print(f"eval: error: {e}", file=sys.stderr)
            return 1

    results.sort(key=lambda r: (-r["balanced"], -r["all"]["recall@2000c"]))
    rows = [[r["mode"], r["chunk_size"], r["chunk_overlap"], r["stemmer"], r["passages"],
             f"{r['answer_gold']:.3f}", f"{r['balanced']:.3f}",
             *(f"{r['all'][m]:.3f}" for m in ("recall@2000c", "recall@1", "recall@5", "mrr@10", "ndcg@10")),
             *(f"{r.get(kind, {}).get('recall@5', 0):.3f}" for kind in ("id-id", "en-en", "en-id", "id-en", "multi"))]
            for r in results]
    print("\n".join(table(["mode", "size", "overlap", "stemmer", "passages", "answer gold", "balanced acc.", "R@2000ch", "R@1", "R@5", "MRR@10", "nDCG@10",
                           "R@5 id-id", "R@5 en-en", "R@5 en-id", "R@5 id-en", "R@5 multi"], rows)))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sweep.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
