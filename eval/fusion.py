"""python -m eval.fusion: choose how hybrid retrieval fuses the dense and lexical rankings, by
measuring every candidate rule on public QA sets and on the project's cross-lingual questions.

    python -m eval.fusion --devdata ../shared/devdata            # fit on train, report validation too

Each set's candidates (50 dense, 50 lexical, with scores) are computed once with the embedding
model in force (default: the bundled multilingual-e5-small); every rule then re-ranks the same
candidates, so the sweep costs one retrieval per question. The rules:

* `rrf lex=W`: reciprocal-rank fusion (k=60), the lexical list weighted W, the dense list 1;
* `convex a=A`: A x dense cosine + (1 - A) x BM25, each min-max scaled over its candidates
  (rag.search.retrieval.convex_fusion).

A third family was measured and dropped: counting the dense rank of a passage in another
language than the question extra (as if the lexical side, which cannot see it, had ranked it
the same) pushed every other-language passage above the right same-language one (own set,
en-en recall@5 0.94 -> 0.25 at RRF weight 1).

The rule chosen is the one whose worst breakdown (set x question-passage language pair, 9
questions or more) on the fitting sets loses least recall@5 to the better of dense and lexical
alone, counted in that breakdown's standard errors (so a 16-question breakdown's one miss does
not outweigh a 240-question set's six); ties go to the higher mean over sets. Fitting sets: the train splits and the project's own
questions (the only cross-lingual ones there are); the validation splits are reported beside
them and play no part in the choice. Large train corpora are cut to the documents of the
sampled questions plus random others (`--distractors`), said so in the table.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from eval.datasets import fill_kinds, load_questions, sample_rows
from eval.evaluate import score_retrieval

ROOT = Path(__file__).resolve().parent.parent
OWN = ("own", ROOT / "corpus", ROOT / "eval" / "questions.jsonl")
FIT = ("idk_mrc_train", "facqa_train", "tydiqa_en_train")
VALID = ("idk_mrc_valid", "facqa_valid")
POOL = 50
MIN_GROUP = 9
RULES = ([("rrf", w, None) for w in (0.25, 0.5, 0.75, 1.0)]
         + [("convex", a, None) for a in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)])


def rule_name(rule: tuple) -> str:
    family, a, _ = rule
    return f"rrf lex={a:g}" if family == "rrf" else f"convex a={a:g}"


def fuse(rule: tuple, dense: list[tuple[int, float]], lexical: list[tuple[int, float]], k: int = 10) -> list[int]:
    """The top `k` passage numbers under `rule`, by the retriever's own fusion code."""
    from rag.search.retrieval import convex_fusion, reciprocal_rank_fusion

    family, a, _ = rule
    if family == "rrf":
        fused = reciprocal_rank_fusion({"dense": [i for i, _ in dense], "lexical": [i for i, _ in lexical]},
                                       {"dense": 1.0, "lexical": a}, 60)
    else:
        fused = convex_fusion({"dense": dense, "lexical": lexical}, {"dense": a, "lexical": 1.0 - a})
    return [i for i, _ in fused[:k]]


def _corpus_for(folder: Path, questions: list[dict], distractors: int | None, seed: int, work: Path) -> Path:
    """The set's passages file, or (with `distractors`) the sampled questions' documents plus
    that many random others, written under `work`."""
    source = folder / "passages.jsonl"
    if distractors is None:
        return source
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    needed = {d for q in questions for d in (*q["gold_passage_ids"], q.get("source_passage_id")) if d}
    others = [r for r in rows if r["id"] not in needed]
    keep = needed | {r["id"] for r in random.Random(seed).sample(others, min(distractors, len(others)))}
    out = work / "passages.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows if r["id"] in keep),
                   encoding="utf-8")
    return out


def candidates(name: str, corpus: Path, questions: list[dict], work: Path, embedding_model: str | None) -> dict:
    """Open Warta on `corpus` (index kept in `work`) and collect each question's candidates."""
    from rag.config import settings_from_env
    from rag.pipeline import Warta

    overrides = {"corpus_dir": corpus, "index_dir": work / "index", "generator_model": None}
    if embedding_model is not None:
        overrides["embedding_model"] = embedding_model
    warta = Warta.open(settings_from_env().with_overrides(**overrides),
                       report=lambda message: print(f"fusion [{name}]: {message}", file=sys.stderr, flush=True))
    if warta.retriever.embedder is None:
        raise SystemExit(f"eval.fusion needs an embedding model: {warta.model_free_reason}")
    fill_kinds(questions, {d.doc_id: d.lang for d in warta.index.documents.values()})
    index = warta.index
    per_question = {}
    for q in questions:
        vector = warta.embedder.embed_batch([q["question"]], "query")[0]
        per_question[q["question"]] = (index.dense.search(vector, POOL), index.lexical.search(q["question"], POOL))
    return {"warta": warta, "questions": questions, "candidates": per_question,
            "model": warta.embedder.model_id}


def score_rules(data: dict) -> dict[str, dict[str, dict]]:
    """rule name -> kind -> {"n", "recall@5", "ndcg@10"} (plus "all")."""
    passages = data["warta"].index.passages
    all_passages = [(p.doc_id, p.text) for p in passages]
    answerable = [q for q in data["questions"] if q["answerable"]]
    systems = {"dense": lambda c: [i for i, _ in c[0][:10]], "lexical": lambda c: [i for i, _ in c[1][:10]]}
    for rule in RULES:
        systems[rule_name(rule)] = lambda c, rule=rule: fuse(rule, c[0], c[1])
    out = {}
    for name, ranked in systems.items():
        def retrieve(question: str, ranked=ranked):
            return [(passages[i].doc_id, passages[i].text) for i in ranked(data["candidates"][question])], {}

        rows = score_retrieval(retrieve, answerable, all_passages)
        groups = defaultdict(list)
        for row in rows:
            groups[row["kind"]].append(row)
            groups["all"].append(row)
        out[name] = {kind: {"n": len(g), "recall@5": float(np.mean([r["recall@5"] for r in g])),
                            "ndcg@10": float(np.mean([r["ndcg@10"] for r in g]))} for kind, g in groups.items()}
    return out


def choose(results: dict[str, dict], fit_sets: list[str]) -> tuple[str, list[tuple]]:
    """(chosen rule, [(rule, worst margin in standard errors, worst margin, mean recall@5)] best
    first) over the fitting sets. A margin is the rule's recall@5 minus the better part's, in
    that breakdown's binomial standard error (sqrt(p(1-p)/n), at least 1/n): one question of 16
    weighs as much as four of 240. Ties go to the mean over sets, each set weighing the same."""
    ranking = []
    for name in results[fit_sets[0]]:
        if name in ("dense", "lexical"):
            continue
        scaled, margins, per_set = [], [], []
        for set_name in fit_sets:
            per_set.append(results[set_name][name]["all"]["recall@5"])
            for kind, cell in results[set_name][name].items():
                if kind == "all" or cell["n"] < MIN_GROUP:
                    continue
                best = max(results[set_name]["dense"][kind]["recall@5"], results[set_name]["lexical"][kind]["recall@5"])
                margin = cell["recall@5"] - best
                margins.append(margin)
                scaled.append(margin / max((best * (1 - best) / cell["n"]) ** 0.5, 1 / cell["n"]))
        worst = int(np.argmin(scaled))
        ranking.append((name, scaled[worst], margins[worst], float(np.mean(per_set))))
    ranking.sort(key=lambda r: (-round(r[1], 6), -r[3]))
    return ranking[0][0], ranking


def table(results: dict[str, dict], systems: list[str]) -> str:
    """Markdown: one row per set x kind, recall@5 per system (nDCG@10 after a slash)."""
    lines = ["| set | pair | n | " + " | ".join(systems) + " |", "|---|---|---|" + "---|" * len(systems)]
    for set_name, by_system in results.items():
        for kind in sorted(by_system["dense"], key=lambda k: (k != "all", k)):
            n = by_system["dense"][kind]["n"]
            cells = [f"{by_system[s][kind]['recall@5']:.3f} / {by_system[s][kind]['ndcg@10']:.3f}" for s in systems]
            lines.append(f"| {set_name} | {kind} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.fusion", description=__doc__.split("\n\n")[0])
    parser.add_argument("--devdata", type=Path, required=True, help="folder of the public QA sets (README there)")
    parser.add_argument("--limit", type=int, default=600, help="questions sampled per train set (default 600)")
    parser.add_argument("--distractors", type=int, default=1500,
                        help="random other documents kept beside the sampled train questions' own (default 1500)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--embedding-model", help="default: the configured one (auto: original, else bundled)")
    parser.add_argument("--work", type=Path, default=ROOT / "eval" / "out" / "fusion", help="indexes are kept here")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "out" / "fusion.md")
    args = parser.parse_args(argv)
    sets = [OWN] + [(n, args.devdata / n, args.devdata / n / "questions.jsonl") for n in FIT + VALID]
    results, notes, model = {}, [], None
    for name, folder, questions_file in sets:
        if not questions_file.exists():
            notes.append(f"{name}: not found at {questions_file}, left out")
            continue
        questions = load_questions(questions_file)
        corpus, limit = folder, None
        if name in FIT:
            limit = args.limit
            questions = sample_rows(questions, limit, args.seed)
            corpus = _corpus_for(folder, questions, args.distractors, args.seed, args.work / name)
            notes.append(f"{name}: {len(questions)} sampled questions, their documents plus {args.distractors} "
                         "random others")
        elif name != "own":
            corpus = folder / "passages.jsonl"
        data = candidates(name, corpus, questions, args.work / name, args.embedding_model)
        model = data["model"]
        results[name] = score_rules(data)
    fit_sets = [n for n in results if n == "own" or n in FIT]
    chosen, ranking = choose(results, fit_sets)
    shown = ["dense", "lexical", "rrf lex=1", chosen]
    shown = list(dict.fromkeys(shown))
    text = [f"# Fusion sweep ({model})", "",
            "recall@5 / nDCG@10 per set and question-passage language pair; fitting sets: "
            f"{', '.join(fit_sets)}; validation: {', '.join(n for n in results if n in VALID)}.", ""]
    text += [f"- {note}" for note in notes] + ["", f"## Chosen: {chosen}", "", table(results, shown), "",
                                              "## Every rule on the fitting sets (its worst breakdown against the better part alone)", "",
                                              "| rule | worst margin, standard errors | that margin, recall@5 | mean recall@5 over sets |",
                                              "|---|---|---|---|"]
    text += [f"| {name} | {z:+.2f} | {margin:+.3f} | {value:.3f} |" for name, z, margin, value in ranking]
    text += ["", "## Every rule, every breakdown", "", table(results, list(results[next(iter(results))]))]
    report = "\n".join(text)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
