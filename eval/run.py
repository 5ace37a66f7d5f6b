"""python -m eval.run: the benchmark, on our question set or an evaluator's.

    python -m eval.run [--questions F] [--claims F] [--corpus DIR_OR_JSONL] [--mode dense|lexical|hybrid|all]
                       [--out DIR] [--embedding-model ID_OR_DIR]

The index is built in a temporary folder (index/ is never touched), every system is scored on
the same questions, the table is printed and report.json, report.md and recall.png are written.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from eval import report as report_module
from eval.baseline import NaivePipeline
from eval.datasets import DatasetError, load_claims, load_questions
from eval.evaluate import RETRIEVAL_METRICS, score_retrieval
from eval.metrics import (abstention_scores, by_kind, citation_precision, evidence_found, gold_containment,
                          percentile, quote_fidelity, token_f1)

EVAL_DIR = Path(__file__).resolve().parent
MODES = ("dense", "lexical", "hybrid")


def _progress(desc: str):
    from tqdm import tqdm

    return lambda items: tqdm(items, desc=desc, unit="q", file=sys.stderr, leave=False)


def _latency(rows: list[dict]) -> dict:
    stages = sorted({stage for row in rows for stage in row["timings_ms"]})
    return {stage: {"p50": percentile([r["timings_ms"][stage] for r in rows if stage in r["timings_ms"]], 50),
                    "p95": percentile([r["timings_ms"][stage] for r in rows if stage in r["timings_ms"]], 95)}
            for stage in stages}


def _warta_retriever(warta, mode: str):
    def retrieve(question: str):
        timings: dict = {}
        hits = warta.retriever.retrieve(question, k=10, mode=mode, timings=timings)
        return [(h.passage.doc_id, h.passage.text) for h in hits], timings
    return retrieve


def _baseline_retriever(baseline: NaivePipeline):
    def retrieve(question: str):
        return baseline.retrieve(question, k=10), {}
    return retrieve


def _baseline_answers(baseline: NaivePipeline, questions: list[dict]) -> list[dict]:
    rows = []
    for q in questions:
        answer = baseline.answer(q["question"])
        row = {"id": q["id"], "kind": q["kind"], "abstention_recall": None if q["answerable"] else 0.0}
        if q["answerable"]:
            row.update(gold_containment=float(gold_containment(answer, q["answers"])),
                       token_f1=token_f1(answer, q["answers"]))
        rows.append(row)
    return rows


def _warta_answers(warta, questions: list[dict], progress) -> tuple[list[dict], list[dict]]:
    """Per-question answer figures, and per-question latency rows."""
    documents = {d.doc_id: d.text for d in warta.index.documents.values()}
    passages = {p.chunk_id: p.text for p in warta.index.passages}
    rows, timing_rows = [], []
    for q in (progress(questions) if progress else questions):
        answer = warta.ask(q["question"]).to_json(q["id"])
        timing_rows.append({"timings_ms": answer["timings_ms"]})
        citations = answer["citations"]
        row = {"id": q["id"], "kind": q["kind"], "abstained": answer["abstained"], "answerable": q["answerable"],
               "quote_fidelity": quote_fidelity(citations, documents)}
        if q["answerable"]:
            row["gold_containment"] = float(not answer["abstained"] and gold_containment(answer["answer"], q["answers"]))
            row["token_f1"] = 0.0 if answer["abstained"] else token_f1(answer["answer"], q["answers"])
            # a citation is right when its passage (or its quote, which may run past the passage) holds evidence
            row["citation_precision"] = citation_precision(
                [passages[c["chunk_id"]] + "\n" + c["quote"] for c in citations], q["evidence"]) if q["evidence"] else None
        rows.append(row)
    return rows, timing_rows


def _answer_breakdown(rows: list[dict]) -> dict:
    """by_kind means, plus abstention precision and recall computed within each group."""
    breakdown = by_kind(rows, ("gold_containment", "token_f1", "citation_precision", "quote_fidelity"))
    for kind, figures in breakdown.items():
        group = [r for r in rows if kind == "all" or r["kind"] == kind]
        scores = abstention_scores([r["abstained"] for r in group], [r["answerable"] for r in group])
        figures["abstention_precision"], figures["abstention_recall"] = scores["precision"], scores["recall"]
    return breakdown


def score_claims(warta, claims: list[dict], progress=None) -> tuple[dict, list[dict]]:
    """Accuracy and confusion matrix of the fact checker's verdicts, overall and per language."""
    from eval.metrics import accuracy, confusion_matrix, evidence_matches

    rows = []
    for claim in (progress(claims) if progress else claims):
        verdict = warta.check(claim["claim"])
        # A right verdict on the wrong sentence is luck: with gold evidence, the quote must match.
        cited = [c.quote for c in verdict.evidence]
        rows.append({"id": claim["id"], "lang": claim["lang"], "expected": claim["verdict"],
                     "predicted": verdict.verdict, "rule": verdict.rule, "confidence": verdict.confidence,
                     "evidence_ok": (verdict.verdict == claim["verdict"]
                                     and (not claim.get("evidence") or evidence_matches(claim["evidence"], cited))),
                     "quote": cited[0] if cited else None, "timings_ms": verdict.timings_ms})
    groups = {"all": rows} | {lang: [r for r in rows if r["lang"] == lang] for lang in sorted({r["lang"] for r in rows})}
    scores = {name: {"n": len(group),
                     "accuracy": accuracy([r["expected"] for r in group], [r["predicted"] for r in group]),
                     "with_evidence": sum(r["evidence_ok"] for r in group) / len(group) if group else None,
                     "confusion": confusion_matrix([r["expected"] for r in group], [r["predicted"] for r in group])}
              for name, group in groups.items()}
    return {"by_lang": scores}, rows


def run_benchmark(warta, questions: list[dict], claims: list[dict] | None, modes: tuple[str, ...],
                  questions_file: str, progress: bool = True) -> dict:
    notes, retrieval, latency, per_question = [], {}, {}, {}
    all_passages = [(p.doc_id, p.text) for p in warta.index.passages]
    answerable = [q for q in questions if q["answerable"]]

    skipped = [mode for mode in modes if warta.retriever.effective_mode(mode) != mode]
    if skipped:
        notes.append(f"{' and '.join(skipped)} retrieval not run: model-free mode ({warta.model_free_reason})")
    for mode in modes:
        if mode in skipped:
            continue
        name = f"warta {mode}"
        rows = score_retrieval(_warta_retriever(warta, mode), questions, all_passages,
                               _progress(name) if progress else None)
        scored = [r for r in rows if "mrr@10" in r]
        retrieval[name], latency[name], per_question[name] = by_kind(scored, RETRIEVAL_METRICS), _latency(rows), rows

    baselines = [NaivePipeline(warta.index.documents.values())]
    if warta.retriever.embedder is not None:
        baselines.append(NaivePipeline(warta.index.documents.values(), warta.retriever.embedder))
    for baseline in baselines:
        name = f"baseline {baseline.mode}"
        chunks = [(doc_id, text) for doc_id, _, text in baseline.chunks]
        rows = score_retrieval(_baseline_retriever(baseline), questions, chunks, _progress(name) if progress else None)
        scored = [r for r in rows if "mrr@10" in r]
        retrieval[name], latency[name], per_question[name] = by_kind(scored, RETRIEVAL_METRICS), _latency(rows), rows

    answer_rows, answer_timings = _warta_answers(warta, questions, _progress("answers") if progress else None)
    answerer_name = f"warta {warta.answerer.name}"
    latency[f"{answerer_name} (ask)"] = _latency(answer_timings)
    per_question[answerer_name] = answer_rows
    answers = {answerer_name: _answer_breakdown(answer_rows),
               "baseline (first retrieved sentence)": by_kind(
                   _baseline_answers(baselines[0], questions), ("gold_containment", "token_f1", "abstention_recall"))}
    claim_scores = None
    if claims is not None:
        claim_scores, per_question["claims"] = score_claims(warta, claims, _progress("claims") if progress else None)
        latency["warta check"] = _latency(per_question["claims"])
    ours = next((n for n in ("warta hybrid", "warta lexical", "warta dense") if n in retrieval), None)
    baseline_name = "baseline lexical" if ours != "warta dense" else "baseline dense"
    embedding = warta.index.manifest.get("embedding")
    return {
        "questions_file": questions_file,
        "corpus": str(warta.settings.corpus_dir),
        "counts": {"questions": len(questions), "answerable": len(answerable),
                   "documents": len(warta.index.documents), "passages": len(warta.index.passages)},
        "models": (f"embedding {embedding['model']}" if embedding and warta.retriever.embedder
                   else f"model-free (lexical only): {warta.model_free_reason}")
                  + (f"; claims: NLI {warta.nli.model_id}" if claims and warta.nli else
                     "; claims: structured comparison only (no NLI model)" if claims else ""),
        "settings": {"chunk_size": warta.settings.chunk_size, "chunk_overlap": warta.settings.chunk_overlap,
                     "stemmer": warta.settings.stemmer, "rrf_k": warta.settings.rrf_k},
        "notes": notes,
        "retrieval": retrieval,
        "comparison": [ours, baseline_name] if ours and baseline_name in retrieval else None,
        "answers": answers,
        "claims": claim_scores,
        "latency": latency,
        "per_question": per_question,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval.run", description="Warta's QA benchmark.")
    parser.add_argument("--questions", type=Path, default=EVAL_DIR / "questions.jsonl")
    parser.add_argument("--claims", type=Path, default=None, help="claims file (default eval/claims.jsonl "
                        "when the default questions are used)")
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder or .jsonl (default corpus/)")
    parser.add_argument("--mode", choices=(*MODES, "all"), default="all")
    parser.add_argument("--out", type=Path, default=EVAL_DIR / "out")
    parser.add_argument("--embedding-model", default=None, help="model id or directory; 'none' for model-free")
    parser.add_argument("--nli-model", default=None, help="NLI model id or directory for the claims (default: "
                        "WARTA_NLI_MODEL, else none)")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--chunk-overlap", type=int, default=None)
    parser.add_argument("--stemmer", default=None, help="snowball (default), sastrawi or none")
    return parser


def settings_for(args, index_dir: Path):
    from rag.config import model_setting, settings_from_env

    overrides = {"index_dir": index_dir}
    if args.corpus is not None:
        overrides["corpus_dir"] = args.corpus
    if args.embedding_model is not None:
        overrides["embedding_model"] = model_setting(args.embedding_model)
    if getattr(args, "nli_model", None) is not None:
        overrides["nli_model"] = model_setting(args.nli_model)
    for field in ("chunk_size", "chunk_overlap", "stemmer"):
        if getattr(args, field, None) is not None:
            overrides[field] = getattr(args, field)
    return settings_from_env().with_overrides(**overrides)


def main(argv: list[str] | None = None) -> int:
    from rag.errors import WartaError
    from rag.pipeline import Warta

    args = _parser().parse_args(argv)
    if args.claims is None and args.questions == EVAL_DIR / "questions.jsonl":
        args.claims = EVAL_DIR / "claims.jsonl"
    try:
        questions = load_questions(args.questions)
        claims = load_claims(args.claims) if args.claims else None
        with tempfile.TemporaryDirectory(prefix="warta-eval-") as tmp:
            warta = Warta.open(settings_for(args, Path(tmp) / "index"), with_nli=bool(claims))
            modes = MODES if args.mode == "all" else (args.mode,)
            result = run_benchmark(warta, questions, claims, modes, str(args.questions))
    except (DatasetError, WartaError) as e:
        print(f"eval: error: {e}", file=sys.stderr)
        return 1
    print(report_module.render(result))
    paths = report_module.write(result, args.out)
    print(f"wrote {paths['md']}, {paths['json']} and {paths['png']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
