"""The benchmark report: a text table for the terminal, report.md, report.json and the plots
(eval.plots), answer quality first: it is what a user meets, retrieval only serves it."""
from __future__ import annotations

import json
from pathlib import Path

from eval.evaluate import RETRIEVAL_METRICS

KIND_ORDER = ("all", "id-id", "en-en", "en-id", "id-en", "multi", "unanswerable")
ANSWER_METRICS = ("gold_containment", "token_f1", "abstention_precision", "abstention_recall",
                  "citation_precision", "quote_fidelity")
_SHORT = {"recall@1": "R@1", "recall@3": "R@3", "recall@5": "R@5", "recall@10": "R@10", "mrr@10": "MRR@10",
          "ndcg@10": "nDCG@10", "recall@2000c": "R@2000ch", "gold_containment": "gold", "token_f1": "F1",
          "abstention_precision": "abst.P", "abstention_recall": "abst.R",
          "citation_precision": "cite.P", "quote_fidelity": "quote"}


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def ordered_kinds(breakdown: dict) -> list[str]:
    return [k for k in KIND_ORDER if k in breakdown] + sorted(k for k in breakdown if k not in KIND_ORDER)


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Markdown pipe table, which also reads well in a terminal."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)]


def metric_table(systems: dict[str, dict], metrics, label: str) -> list[str]:
    """One row per system and kind, one column per metric."""
    rows = [[name, kind, breakdown[kind]["n"], *(_fmt(breakdown[kind].get(m)) for m in metrics)]
            for name, breakdown in systems.items() for kind in ordered_kinds(breakdown)]
    return table([label, "kind", "n", *(_SHORT[m] for m in metrics)], rows)


def retrieval_tables(systems: dict[str, dict]) -> list[str]:
    """All answerable questions, one row per system (those that could not run say why); then,
    when the set has several kinds, each kind with the systems beside each other."""
    ran = {name: breakdown for name, breakdown in systems.items() if "unavailable" not in breakdown}
    rows = [[name, breakdown["all"]["n"], *(_fmt(breakdown["all"].get(m)) for m in RETRIEVAL_METRICS), ""]
            if name in ran else [name, "-", *("-" for _ in RETRIEVAL_METRICS), f"unavailable: {breakdown['unavailable']}"]
            for name, breakdown in systems.items()]
    lines = table(["system", "n", *(_SHORT[m] for m in RETRIEVAL_METRICS), "note"], rows)
    kinds = [k for k in ordered_kinds(next(iter(ran.values()), {})) if k != "all"]
    if len(kinds) > 1:
        rows = [[kind, name, ran[name][kind]["n"], *(_fmt(ran[name][kind].get(m)) for m in RETRIEVAL_METRICS)]
                for kind in kinds for name in ran if kind in ran[name]]
        lines += ["", "By kind:", "", *table(["kind", "system", "n", *(_SHORT[m] for m in RETRIEVAL_METRICS)], rows)]
    return lines


def language_groups(by_lang: dict) -> list[str]:
    """The groups of an outcomes breakdown to show: 'all' and each language, or the one language
    (its figures are those of 'all').

    >>> language_groups({"all": {}, "id": {}, "en": {}}), language_groups({"all": {}, "id": {}})
    (['all', 'en', 'id'], ['id'])
    """
    langs = sorted(k for k in by_lang if k != "all")
    return langs if len(langs) == 1 else ["all", *langs]


def outcomes_table(report: dict) -> list[str]:
    """What a user meets, per answerer and question language."""
    rows = []
    for name, by_lang in report["outcomes"].items():
        for lang in language_groups(by_lang):
            o = by_lang[lang]
            rows.append([report["set"], lang, name, o["n"], o["answerable"], _fmt(o["right"]),
                         _fmt(o["answerable_declined"]), o["unanswerable"], _fmt(o["unanswerable_answered"]),
                         _fmt(o.get("balanced_accuracy")), _fmt(o["abstention_precision"]),
                         _fmt(o["abstention_recall"])])
    return table(["set", "lang", "answerer", "questions", "answerable", "answers right", "answerable declined",
                  "unanswerable", "unanswerable answered", "balanced acc.", "abst.P", "abst.R"], rows)


def comparison_table(systems: dict[str, dict], ours: str, baseline: str) -> list[str]:
    """Recall@5 and MRR@10 per kind, ours beside the baseline, with the difference."""
    rows = []
    for kind in ordered_kinds(systems[ours]):
        a, b = systems[ours][kind], systems[baseline].get(kind, {})
        cells = [kind, a["n"]]
        for metric in ("recall@5", "mrr@10"):
            x, y = a.get(metric), b.get(metric)
            diff = "-" if x is None or y is None else f"{x - y:+.3f}"
            cells += [_fmt(x), _fmt(y), diff]
        rows.append(cells)
    return table(["kind", "n", f"R@5 {ours}", "R@5 baseline", "Δ", f"MRR {ours}", "MRR baseline", "Δ"], rows)


def latency_table(latency: dict[str, dict]) -> list[str]:
    rows = [[name, stage, _fmt(v["p50"]), _fmt(v["p95"])] for name, stages in latency.items()
            for stage, v in stages.items()]
    return table(["system", "stage", "p50 ms", "p95 ms"], rows)


def claims_table(claims: dict) -> list[str]:
    """Accuracy per language (also counting only verdicts that quote the gold evidence), then a
    confusion matrix for each language and for all claims."""
    lines = table(["claims", "n", "accuracy", "right verdict and evidence", "supported found", "contradicted found",
                   "not_found found", "not_found precision", "contradicted called supported"],
                  [[lang, v["n"], _fmt(v["accuracy"]), _fmt(v.get("with_evidence")),
                    *(_fmt(v.get("recall", {}).get(k)) for k in ("supported", "contradicted", "not_found")),
                    _fmt(v.get("not_found_precision")), v.get("contradicted_supported", "-")]
                   for lang, v in claims["by_lang"].items()])
    for lang, scores in claims["by_lang"].items():
        if lang in ("same language", "cross-lingual"):
            continue  # their matrices add up to the per-language ones
        matrix = scores["confusion"]
        verdicts = list(matrix)
        lines += ["", f"{lang}:", "", *table(["expected \\ predicted", *verdicts],
                                              [[e, *(matrix[e][p] for p in verdicts)] for e in verdicts])]
    return lines


def render(report: dict, images: bool = False) -> str:
    """The whole report as Markdown (printed as-is to the terminal too). Answer quality leads:
    retrieval can look good while users get wrong answers, so it comes after answers and claims.
    `images`: link answers.png and recall.png (report.md sits beside them; a terminal shows none)."""
    counts, used = report["counts"], report["answer_retrieval"]
    sample = f"; {report['sample']}" if report.get("sample") else ""
    out = ["# Warta benchmark", "", f"- questions: {report['questions_file']} ({counts['questions']}, "
           f"{counts['answerable']} answerable{sample})", f"- corpus: {report['corpus']} "
           f"({counts['documents']} documents, {counts['passages']} passages; index backend "
           f"{report.get('backend', 'local')})",
           f"- models: {report['models']}",
           f"- answers and claims use {used['used']} retrieval"
           + (f" ({used['requested']} unavailable: {used['reason']})" if used["reason"] else "")]
    out += [f"- note: {note}" for note in report["notes"]]
    out += ["", "## Answers: what a user gets", "",
            "Right: the answer holds one of the acceptable answers (case, spacing and punctuation aside), "
            "over answerable questions; declining an answerable question counts as wrong.", ""]
    out += outcomes_table(report)
    out += ["", "![Answers right, answerable declined, unanswerable answered](answers.png)"] if images else []
    out += ["", "## Answers by kind", ""] + metric_table(report["answers"], ANSWER_METRICS, "answerer")
    if report.get("claims"):
        out += ["", "## Claims", ""] + claims_table(report["claims"])
    out += ["", "## Retrieval (answerable questions)", "",
            "A passage is relevant when it contains an evidence snippet (whitespace- and quote-normalised); "
            "a gold document (gold_passage_ids) counts once, at its best-ranked passage. Recall@k is the "
            "share of a question's evidence snippets and gold documents found in the top k.", ""]
    out += retrieval_tables(report["retrieval"])
    out += ["", "![Recall@k per system, Recall@5 per kind](recall.png)"] if images else []
    if report.get("comparison"):
        ours, baseline = report["comparison"]
        out += ["", f"## {ours} against the {baseline}", ""] + comparison_table(report["retrieval"], ours, baseline)
    out += ["", "## Latency", ""] + latency_table(report["latency"])
    return "\n".join(out) + "\n"


def write(report: dict, out_dir: Path) -> dict[str, Path]:
    """report.json, report.md, answers.png and recall.png in `out_dir`; their paths by name."""
    from eval import plots

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / name for name in ("report.md", "report.json", "answers.png", "recall.png")}
    paths["report.json"].write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths["report.md"].write_text(render(report, images=True), encoding="utf-8")
    plots.answers(report, paths["answers.png"])
    plots.recall(report, paths["recall.png"])
    return paths
