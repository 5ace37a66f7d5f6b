"""python -m eval.fit: fit the answer-sentence and abstention models on public QA sets, choose
their thresholds on the validation splits, and write rag/answer/answer_model.json.

    python -m eval.fit --devdata ../shared/devdata [--limit N] [--write [PATH]]

For every question of a split, Warta's own retriever (the bundled multilingual model, hybrid;
lexical for the model-free variant) fetches the top passages of that split's corpus and every
sentence of them becomes a candidate with the features of rag.answer.features. A candidate is
positive when it lies in the gold passage and holds a gold answer (eval.metrics.gold_containment).

Fitted on the train splits (IDK-MRC, FacQA), all with scikit-learn's LogisticRegression on
standardised features:
1. the sentence models, one per variant (rag.answer.model): the regularisation C is chosen by
   validation top-1 accuracy (the best candidate holds the answer);
2. the abstention models (answerable or not, IDK-MRC train, whose unanswerable questions were
   written to look answerable from the passage, and FacQA train's questions asked of IDK-MRC
   train's passages, which do not hold their answers: the plainly off-topic case);
3. each variant's threshold: the one with the highest IDK-MRC validation balanced accuracy among
   those that decline at most `--max-declined` of the answerable questions of every validation
   split;
4. `follow`: a further sentence is quoted when its probability is at least this share of the
   best's. The highest share whose validation answer-in-answer rate is within 0.01 of the best
   share's is kept: more quotes only when they add answers.

The "semantic" variant (a question in another language than the sentence) cannot be fitted on
cross-lingual data, as the public sets have none: it is fitted on the same monolingual questions
with the lexical features withheld, so it learns what the embedding alone tells. It is measured
on the project's own en-id and id-en questions by `python -m eval.run`, never fitted on them.

Candidates are cached in eval/out/fit/ (delete the folder or pass --recollect after changing
features or retrieval). Without --write the tables are printed and nothing is changed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from eval.datasets import load_questions, sample_rows

ROOT = Path(__file__).resolve().parent.parent
from rag.answer.model import MODEL_FILE  # noqa: E402 (light: numpy and the feature names)
TRAIN = ("idk_mrc_train", "facqa_train")
VALID = ("idk_mrc_valid", "facqa_valid")
ABSTAIN_SET = "idk_mrc"
# Questions asked of a corpus that does not hold their answers, the situation of a user whose
# articles do not cover the question: FacQA's questions over IDK-MRC's passages (news questions
# over encyclopaedia text). IDK-MRC's own unanswerable questions are written to look answerable
# from their passage; these teach the abstention model the plainly off-topic case too.
OFF_TOPIC = {"facqa_train": "idk_mrc_train", "facqa_valid": "idk_mrc_valid"}
C_GRID = (0.01, 0.1, 1.0, 10.0)
FOLLOW_GRID = (1.01, 0.9, 0.75, 0.6, 0.5, 0.35)


def _progress(items, desc):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="q", file=sys.stderr, leave=False)


def collect(split: Path, out: Path, limit: int | None, seed: int, recollect: bool, corpus: Path | None = None,
            name: str | None = None, off_topic: bool = False) -> dict:
    """Candidates of every question of a split, for the model variants' retrieval modes: arrays
    X (candidates x features), y, question (row -> question number), same_lang; and per question:
    answerable. `corpus`: another corpus than the split's passages (`name` then names the cache);
    `off_topic`: that corpus is another split's, which does not hold these questions' answers (its
    index is reused), so every question is unanswerable there. Cached in `out`."""
    name = name or split.name
    cache = out / f"{name}{'' if limit is None else f'-{limit}-{seed}'}.npz"
    if cache.exists() and not recollect:
        data = np.load(cache)
        return {k: data[k] for k in data.files}
    from eval.metrics import gold_containment
    from rag.answer.features import FEATURES, candidates
    from rag.config import settings_from_env
    from rag.evidence.weights import QuestionWords
    from rag.ingest.language import detect_language
    from rag.index.store import IndexStore
    from rag.ingest.corpus import load_corpus
    from rag.pipeline import Warta
    from rag.index.ensure import ensure_index
    from rag.models import open_embedder
    from rag.messages import report_to_stderr

    questions = sample_rows(load_questions(split / "questions.jsonl"), limit, seed)
    index_name = corpus.parent.name if off_topic else name
    settings = settings_from_env().with_overrides(corpus_dir=corpus or split / "passages.jsonl",
                                                  index_dir=out / "index" / index_name)
    # Opened without Warta.open's warm-up, which answers with the model this script makes.
    embedder, why = open_embedder(settings, report_to_stderr)
    if embedder is None:
        raise SystemExit(f"eval.fit needs the embedding model: {why}")
    corpus = load_corpus(settings.corpus_dir)
    index = ensure_index(IndexStore(settings.index_dir), corpus, embedder, settings, report_to_stderr)
    warta = Warta(settings, index, embedder, None, corpus)
    arrays: dict[str, list] = {}
    for mode, prefix in (("hybrid", ""), ("lexical", "lex_")):
        X, y, owner, same = [], [], [], []
        for number, q in enumerate(_progress(questions, f"{name} {mode}")):
            lang = detect_language(q["question"])
            hits = warta.retriever.retrieve(q["question"], settings.top_k, mode)
            vector = warta.evidence.question_vector(q["question"]) if mode == "hybrid" else None
            gold = set(q["gold_passage_ids"])
            for c in candidates(QuestionWords.of(q["question"]), vector, hits, warta.evidence, warta.term_weights):
                X.append(c.features)
                y.append(c.record.doc_id in gold and gold_containment(c.text, q["answers"]))
                owner.append(number)
                same.append(c.record.lang == lang)
        arrays |= {prefix + "X": np.array(X), prefix + "y": np.array(y, dtype=bool),
                   prefix + "question": np.array(owner), prefix + "same_lang": np.array(same, dtype=bool)}
    arrays["answerable"] = np.array([q["answerable"] and not off_topic for q in questions], dtype=bool)
    arrays["features"] = np.array(FEATURES)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, **arrays)
    return arrays


def drift_sets(devdata: Path, out: Path, seed: int) -> dict[str, tuple[Path, Path, int | None]]:
    """(questions folder, corpus, question limit) of the sets that measure drift: FacQA validation
    over its own passages plus FacQA train's (six times the corpus, the same kind of text), and
    TyDi QA English (another language) over its sampled questions' passages plus as many others."""
    import json
    import random

    folder = out / "drift"
    folder.mkdir(parents=True, exist_ok=True)
    bigger = folder / "facqa_valid+train.jsonl"
    if not bigger.exists():
        bigger.write_text("".join((devdata / s / "passages.jsonl").read_text(encoding="utf-8")
                                  for s in ("facqa_valid", "facqa_train")), encoding="utf-8")
    tydi, english = devdata / "tydiqa_en_train", folder / "tydiqa_en_sample.jsonl"
    limit = 400
    if not english.exists():
        questions = sample_rows(load_questions(tydi / "questions.jsonl"), limit, seed)
        gold = {g for q in questions for g in q["gold_passage_ids"]}
        rows = [json.loads(line) for line in (tydi / "passages.jsonl").read_text(encoding="utf-8").splitlines() if line]
        others = [r for r in rows if r["id"] not in gold]
        keep = [r for r in rows if r["id"] in gold] + random.Random(seed).sample(others, min(len(others), len(gold)))
        english.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in keep), encoding="utf-8")
    return {"facqa_valid, 6x corpus": (devdata / "facqa_valid", bigger, None),
            "tydiqa_en (en), 400 q": (tydi, english, limit)}


def _fit_logistic(X: np.ndarray, y: np.ndarray, names: tuple[str, ...], C: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from rag.answer.model import Logistic

    scaler = StandardScaler().fit(X)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    fitted = LogisticRegression(C=C, max_iter=2000).fit((X - scaler.mean_) / scale, y)
    return Logistic(names, scaler.mean_, scale, fitted.coef_[0], float(fitted.intercept_[0]))


def _view(data: dict, variant: str) -> dict:
    """The rows and columns one variant sees (columns by name: a cache may hold more features)."""
    from rag.answer.model import variant_features

    prefix = "lex_" if variant == "lexical" else ""
    names = list(data["features"])
    return {"X": data[prefix + "X"][:, [names.index(f) for f in variant_features(variant)]], "y": data[prefix + "y"],
            "question": data[prefix + "question"], "answerable": data["answerable"]}


def _per_question(view: dict, p: np.ndarray) -> list[np.ndarray]:
    """Row numbers of each question's candidates, best probability first."""
    order = np.lexsort((np.arange(len(p)), -p, view["question"]))
    groups = [[] for _ in range(len(view["answerable"]))]
    for row in order:
        groups[view["question"][row]].append(row)
    return [np.array(g, dtype=int) for g in groups]


def top1(view: dict, p: np.ndarray) -> float:
    """Share of answerable questions whose best-scored candidate holds the answer."""
    groups = _per_question(view, p)
    hits = [bool(len(g) and view["y"][g[0]]) for g, ok in zip(groups, view["answerable"]) if ok]
    return sum(hits) / max(1, len(hits))


def abstain_rows(view: dict, p: np.ndarray, variant: str) -> np.ndarray:
    from rag.answer.features import FEATURES
    from rag.answer.model import ABSTAIN_FEATURES, abstain_row, columns, variant_features

    full = np.zeros((len(view["X"]), len(FEATURES)))
    full[:, columns(variant_features(variant))] = view["X"]
    rows = []
    for g in _per_question(view, p):
        if not len(g):
            rows.append(np.full(len(ABSTAIN_FEATURES), -20.0))  # nothing retrieved: nothing to answer from
            continue
        rows.append(abstain_row(full[g[0]], p[g[0]], p[g[1]] if len(g) > 1 else None, variant))
    return np.array(rows)


def outcomes(view: dict, p: np.ndarray, answer_p: np.ndarray, threshold: float, follow: float) -> dict:
    """What eval.run measures, from the candidates: right (answerable, answered, a quoted sentence
    holds the answer), answerable declined, unanswerable answered, balanced accuracy, sentences."""
    groups = _per_question(view, p)
    answered = answer_p >= threshold
    right, quoted = [], []
    for g, ok, said in zip(groups, view["answerable"], answered):
        if not said or not len(g):
            if ok:
                right.append(False)
            continue
        chosen = [g[0]] + [r for r in g[1:3] if p[r] >= follow * p[g[0]]]
        quoted.append(len(chosen))
        if ok:
            right.append(bool(view["y"][chosen].any()))
    ans, unans = view["answerable"], ~view["answerable"]
    declined = float((~answered[ans]).mean()) if ans.any() else None
    answered_unans = float(answered[unans].mean()) if unans.any() else None
    balanced = None if answered_unans is None or declined is None else ((1 - declined) + (1 - answered_unans)) / 2
    return {"right": float(np.mean(right)) if right else None, "declined": declined,
            "unanswerable_answered": answered_unans, "balanced": balanced,
            "sentences": float(np.mean(quoted)) if quoted else None}


def _table(title: str, header: list[str], rows: list[list]) -> str:
    fmt = lambda v: "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)
    lines = [f"\n{title}\n", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from rag.answer.model import VARIANTS, AnswerModel, save, variant_features

    parser = argparse.ArgumentParser(prog="python -m eval.fit", description=__doc__.splitlines()[0])
    parser.add_argument("--devdata", type=Path, required=True, help="folder of the public QA splits (README there)")
    parser.add_argument("--limit", type=int, default=None, help="a random N questions of each train split")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--max-declined", type=float, default=0.08,
                        help="most answerable validation questions a threshold may decline (default 0.08)")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "out" / "fit")
    parser.add_argument("--recollect", action="store_true")
    parser.add_argument("--drift", action="store_true", help="also measure the chosen thresholds on FacQA validation "
                        "over a six times bigger corpus and on TyDi QA English")
    parser.add_argument("--write", nargs="?", type=Path, const=MODEL_FILE, default=None, metavar="PATH",
                        help="write the fitted model (default path: rag/answer/answer_model.json)")
    args = parser.parse_args(argv)
    for name in TRAIN + VALID:
        if not (args.devdata / name / "questions.jsonl").exists():
            parser.error(f"{args.devdata / name} has no questions.jsonl")
    data = {name: collect(args.devdata / name, args.out, args.limit if name in TRAIN else None, args.seed,
                          args.recollect) for name in TRAIN + VALID}
    off_topic = {f"{q} over {c}": collect(args.devdata / q, args.out, args.limit if q in TRAIN else None, args.seed,
                                          args.recollect, corpus=args.devdata / c / "passages.jsonl",
                                          name=f"{q}-over-{c}", off_topic=True)
                 for q, c in OFF_TOPIC.items()}
    data |= off_topic
    off_train = [name for name in off_topic if name.split(" ")[0] in TRAIN]

    sentence, abstain, thresholds = {}, {}, {}
    follow_rows, threshold_rows, fit_rows = [], [], []
    chosen_follow, chosen_C = {}, {}
    for variant in VARIANTS:
        names = variant_features(variant)
        train = {k: np.concatenate([_view(data[s], variant)[k] for s in TRAIN]) for k in ("X", "y")}
        answerable_rows = np.concatenate([_view(data[s], variant)["answerable"][_view(data[s], variant)["question"]]
                                          for s in TRAIN])
        views = {s: _view(data[s], variant) for s in data}
        best = None
        for C in C_GRID:
            model = _fit_logistic(train["X"][answerable_rows], train["y"][answerable_rows], names, C)
            score = np.mean([top1(views[s], model.probability(views[s]["X"])) for s in VALID])
            fit_rows.append([variant, C, *[top1(views[s], model.probability(views[s]["X"])) for s in TRAIN + VALID]])
            if best is None or score > best[0] + 1e-9:
                best = (score, C, model)
        sentence[variant] = model = best[2]
        chosen_C[variant] = best[1]
        p = {s: model.probability(views[s]["X"]) for s in data}
        a_train = [s for s in TRAIN if s.startswith(ABSTAIN_SET)] + off_train
        rows = np.concatenate([abstain_rows(views[s], p[s], variant) for s in a_train])
        labels = np.concatenate([views[s]["answerable"] for s in a_train])
        from rag.answer.model import ABSTAIN_FEATURES

        abstain[variant] = _fit_logistic(rows, labels, ABSTAIN_FEATURES, 1.0)
        answer_p = {s: abstain[variant].probability(abstain_rows(views[s], p[s], variant)) for s in data}
        candidates = []
        for t in np.linspace(0.02, 0.98, 97):
            per = {s: outcomes(views[s], p[s], answer_p[s], t, 1.01) for s in VALID}
            ok = all(per[s]["declined"] <= args.max_declined for s in VALID)
            idk = per[next(s for s in VALID if s.startswith(ABSTAIN_SET))]
            candidates.append((ok, idk["balanced"], t))
        allowed = [c for c in candidates if c[0]] or [max(candidates, key=lambda c: -c[2])]
        thresholds[variant] = round(float(max(allowed, key=lambda c: (c[1], -c[2]))[2]), 2)
        for s in [*TRAIN, *VALID, *off_topic]:
            o = outcomes(views[s], p[s], answer_p[s], thresholds[variant], 1.01)
            threshold_rows.append([variant, s, thresholds[variant], o["right"], o["declined"],
                                   o["unanswerable_answered"], o["balanced"]])
        rights = {}
        for f in FOLLOW_GRID:
            per = {s: outcomes(views[s], p[s], answer_p[s], thresholds[variant], f) for s in VALID}
            rights[f] = np.mean([per[s]["right"] for s in VALID])
            follow_rows.append([variant, f, *[x for s in VALID for x in (per[s]["right"], per[s]["sentences"])]])
        top = max(rights.values())
        chosen_follow[variant] = max(f for f in FOLLOW_GRID if rights[f] >= top - 0.01)
    follow = chosen_follow["full"]
    print(_table("Sentence model: top-1 (best candidate holds the answer), by C",
                 ["variant", "C", *TRAIN, *VALID], fit_rows))
    print(_table("Abstention threshold (one sentence quoted)",
                 ["variant", "split", "threshold", "right", "declined", "unans. answered", "balanced acc."],
                 threshold_rows))
    print(_table("Further sentences: quoted when p >= share x best p",
                 ["variant", "share", *[f"{s} {m}" for s in VALID for m in ("right", "sentences")]], follow_rows))
    print(f"\nchosen: thresholds {thresholds}, follow share {follow} (full model's choice)")
    if args.drift:
        drift_rows = []
        for label, (folder, corpus, limit) in drift_sets(args.devdata, args.out, args.seed).items():
            extra = collect(folder, args.out, limit, args.seed, args.recollect, corpus=corpus,
                            name=label.split(",")[0].replace(" ", "_") + "-drift")
            for variant in ("full", "lexical"):
                view = _view(extra, variant)
                p_extra = sentence[variant].probability(view["X"])
                a_extra = abstain[variant].probability(abstain_rows(view, p_extra, variant))
                o = outcomes(view, p_extra, a_extra, thresholds[variant], follow)
                drift_rows.append([label, variant, o["right"], o["declined"], o["sentences"]])
        print(_table("Drift: the chosen thresholds on a bigger corpus and in another language",
                     ["set", "variant", "right", "declined", "sentences"], drift_rows))
    about = {"fitted_by": "python -m eval.fit", "train": list(TRAIN), "valid": list(VALID),
             "abstention_fitted_on": [s for s in TRAIN if s.startswith(ABSTAIN_SET)] + off_train,
             "max_declined": args.max_declined, "limit": args.limit, "seed": args.seed,
             "C": chosen_C, "follow_by_variant": chosen_follow}
    result = AnswerModel(sentence, abstain, thresholds, follow, about)
    if args.write:
        save(result, args.write)
        print(f"wrote {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
