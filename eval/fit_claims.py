"""Choose the fact checker's thresholds on the tuning claim sets, and show the whole grid.

    python -m eval.fit_claims          # tune on eval/claims.jsonl, claims_dev, claims_holdout, _holdout2, _holdout3
    python -m eval.fit_claims --claims a.jsonl b.jsonl [--top 15]

How much a sentence is about a claim is the larger of its words' share and its meaning's share
(rag.factcheck.compare.Thresholds: the embedding cosine mapped from a low point, one for a sentence
in the claim's language and one for the other language, onto 0..1 over a span); a supporting
sentence must also be nearly the claim's closest in meaning (a slack), and the verdict turns on
how much a sentence is about the claim (found, agrees). This script compares every tuning claim
with its retrieved sentences once, then judges them under every setting of those numbers and
prints accuracy, contradicted claims called supported, and not_found precision. The setting with
the fewest contradicted claims called supported among the most accurate (within one claim) is
the one `Thresholds` holds. The held-out set (eval/claims_holdout5.jsonl) is never read here: it is
what the choice is judged on. (claims_holdout.jsonl to claims_holdout4.jsonl were each held out for
one measurement, README "How claims are checked", and have been tuning sets since.)
"""
from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUNING = tuple(ROOT / "eval" / f"{name}.jsonl"
               for name in ("claims", "claims_dev", "claims_holdout", "claims_holdout2", "claims_holdout3",
                            "claims_holdout4"))
HELD_OUT = ("claims_holdout5.jsonl",)
GRID = {"meaning_low_same": (0.86, 0.88, 0.90, 0.92), "meaning_low_other": (0.80, 0.82, 0.84, 0.86),
        "meaning_span": (0.04, 0.08), "meaning_slack": (None, 0.01, 0.02, 0.04),
        "found_agrees": ((0.45, 0.55), (0.5, 0.6), (0.55, 0.65)), "support_words": (0.0, 0.3, 0.4, 0.5)}
WIDE = 12  # sentences compared per claim, so that any setting's top ones are among them


def settings() -> list:
    from rag.factcheck.compare import DEFAULT

    out = []
    for same, other, span, slack, (found, agrees), words in itertools.product(*GRID.values()):
        out.append(replace(DEFAULT, meaning_low=(same, other), meaning_span=span, meaning_slack=slack,
                           found=found, agrees=agrees, support_words=words))
    return out


def judged(comparisons: list, thresholds) -> str:
    """The verdict for one claim's comparisons under `thresholds`: subjects recomputed, the
    sentences re-ranked, the top CANDIDATES (and any that titles a person otherwise) judged."""
    from rag.factcheck.compare import CANDIDATES
    from rag.factcheck.judge import judge

    fresh = [replace(c, subject=thresholds.subject(c.words, c.meaning, c.same_language)) for c in comparisons]
    fresh.sort(key=lambda c: (c.subject, c.meaning or 0.0), reverse=True)
    kept = fresh[:CANDIDATES] + [c for c in fresh[CANDIDATES:] if c.role_conflicts]
    return judge(kept, None, thresholds).verdict


def scores(verdicts: list[str], claims: list[dict]) -> dict:
    said_not_found = sum(v == "not_found" for v in verdicts)
    right_not_found = sum(v == c["verdict"] == "not_found" for v, c in zip(verdicts, claims))
    return {"accuracy": sum(v == c["verdict"] for v, c in zip(verdicts, claims)) / len(claims),
            "contradicted_supported": sum(c["verdict"] == "contradicted" and v == "supported"
                                          for v, c in zip(verdicts, claims)),
            "not_found_precision": right_not_found / said_not_found if said_not_found else None}


def main(argv: list[str] | None = None) -> int:
    from eval.datasets import load_claims
    from rag.config import settings_from_env
    from rag.factcheck.compare import compare
    from rag.messages import report_to_stderr
    from rag.pipeline import Warta

    parser = argparse.ArgumentParser(prog="python -m eval.fit_claims", description=__doc__.splitlines()[0])
    parser.add_argument("--claims", nargs="+", type=Path, default=list(TUNING))
    parser.add_argument("--top", type=int, default=15, help="rows of the grid to print, best first")
    args = parser.parse_args(argv)
    if any(p.name in HELD_OUT for p in args.claims):
        parser.error("the held-out claims are for judging the choice, not for making it")
    claims = [c for path in args.claims for c in load_claims(path)]
    warta = Warta.open(settings_from_env(), report=report_to_stderr, with_generator=False)
    if warta.retriever.embedder is None:
        parser.error("the meaning thresholds need the embedding model (model-free mode has none)")
    compared = []
    for n, c in enumerate(claims, 1):
        claim, _ = warta.prepare_question(c["claim"], what="claim")
        hits = warta.retriever.retrieve(claim, max(warta.settings.top_k, 8), warta.settings.retrieval_mode)
        compared.append(compare(claim, hits, warta.term_weights, warta.evidence, candidates=WIDE))
        if n % 25 == 0 or n == len(claims):
            print(f"  compared {n}/{len(claims)} claims", file=sys.stderr)
    rows = [(t, scores([judged(cs, t) for cs in compared], claims)) for t in settings()]
    top_accuracy = max(s["accuracy"] for _, s in rows)
    near = [r for r in rows if r[1]["accuracy"] >= top_accuracy - 1 / len(claims) - 1e-9]
    best = min(near, key=lambda r: (r[1]["contradicted_supported"], -r[1]["accuracy"]))
    rows.sort(key=lambda r: (-r[1]["accuracy"], r[1]["contradicted_supported"]))
    print(f"\n{len(claims)} tuning claims ({', '.join(p.name for p in args.claims)}), {len(rows)} settings\n")
    print("| low (same) | low (other) | span | slack | found / agrees | support words | accuracy | contradicted called supported | not_found precision |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t, s in [best] + [r for r in rows[:args.top] if r is not best]:
        precision = "–" if s["not_found_precision"] is None else f"{s['not_found_precision']:.3f}"
        mark = " (chosen)" if t is best[0] else ""
        print(f"| {t.meaning_low[0]:.2f} | {t.meaning_low[1]:.2f} | {t.meaning_span:.2f} | {t.meaning_slack} | "
              f"{t.found:.2f} / {t.agrees:.2f} | {t.support_words:.2f} | {s['accuracy']:.3f}{mark} | {s['contradicted_supported']} | {precision} |")
    t = best[0]
    print(f"\nchosen: Thresholds(found={t.found}, agrees={t.agrees}, meaning_low={t.meaning_low}, "
          f"meaning_span={t.meaning_span}, meaning_slack={t.meaning_slack}, support_words={t.support_words})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
