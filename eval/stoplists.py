"""python -m eval.stoplists: which stop-word list, and whether the glossary, helps lexical retrieval
on the public QA sets (lexical recall@5 of the gold passage, BM25 exactly as Warta runs it).

    python -m eval.stoplists --devdata ../shared/devdata [--limit 2000]

Candidates:
* `hand`: the short lists Warta grew by hand (rag/search/stopwords.py before 2026-11-30, kept here to compare);
* `iso`: stopwords-iso's Indonesian and English lists (the `stopwordsiso` package);
* `stop-words`: the `stop-words` package's lists;
* `stop-words+sklearn`: its Indonesian list with scikit-learn's English one (Glasgow IR group);
each without the words that say how many or when ("dua", "tahun", "year"), which questions ask
about and answers hold (rag.search.stopwords.COUNTING). The best one by train mean is measured
again with the glossary's query translations off. Warta uses the best maintained list (the
hand-grown one is kept here only to compare). Chosen on the train splits, reported on
validation.
"""
from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

from eval.datasets import load_questions, sample_rows

SETS = ("idk_mrc_train", "facqa_train", "tydiqa_en_train", "idk_mrc_valid", "facqa_valid")
HAND_ID = frozenset("""
ada adalah agar akan aku anda antara apa apakah atas atau bagaimana bagi bahkan bahwa
baik banyak beberapa begitu belum bila bisa boleh bukan dalam dan dapat dari daripada
dengan di dia hanya harus hingga ia ialah ini itu jadi jika juga kah kalau kami kamu kan
kapan karena ke kenapa kepada ketika kita lagi lah maka mana masih melalui memang mengapa
menjadi merupakan mereka namun nya oleh pada para pernah pula pun saat saja sampai sangat
saya secara sedang sejak selama sementara semua seorang seperti serta setelah setiap
sebelum sebagai sebuah siapa sudah supaya tanpa telah tentang terhadap tersebut tetapi
tapi tidak ya yaitu yakni yang berapa bagaimanakah siapakah apakah manakah
""".split())
HAND_EN = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i if in into is it its itself
just me more most my no nor not now of off on once only or other our ours out over own same
she should so some such than that the their theirs them then there these they this those
through to too under until up very was we were what when where which while who whom why
will with would you your yours whose many much name kind type according
""".split())


def candidate_lists() -> dict[str, tuple[frozenset, frozenset]]:
    import stopwordsiso
    from stop_words import get_stop_words

    from rag.search.stopwords import COUNTING, _english

    ENGLISH_STOP_WORDS = _english()

    lists = {"iso": (stopwordsiso.stopwords("id"), stopwordsiso.stopwords("en")),
             "stop-words": (get_stop_words("id"), get_stop_words("en")),
             "stop-words+sklearn": (get_stop_words("id"), ENGLISH_STOP_WORDS)}
    return {"hand": (HAND_ID, HAND_EN)} | {name: (frozenset(i) - COUNTING, frozenset(e) - COUNTING)
                                           for name, (i, e) in lists.items()}


@contextmanager
def configured(lists: tuple[frozenset, frozenset], glossary: bool):
    """Warta's analysis with these stop words, and with or without the glossary."""
    from rag.search import analysis, glossary as glossary_module, stopwords

    saved = stopwords.INDONESIAN, stopwords.ENGLISH, stopwords.ALL, glossary_module.translations
    stopwords.INDONESIAN, stopwords.ENGLISH = lists
    stopwords.ALL = lists[0] | lists[1]
    if not glossary:
        glossary_module.translations = lambda tokens: []
    analysis._stem_memo.cache_clear()
    try:
        yield
    finally:
        stopwords.INDONESIAN, stopwords.ENGLISH, stopwords.ALL, glossary_module.translations = saved
        analysis._stem_memo.cache_clear()


def recall_at_5(split: Path, limit: int | None, seed: int) -> float:
    from rag.config import settings_from_env
    from rag.ingest.chunking import chunk_corpus
    from rag.ingest.corpus import load_corpus
    from rag.search.lexical import LexicalIndex

    settings = settings_from_env()
    passages = chunk_corpus(load_corpus(split / "passages.jsonl").documents, settings.chunk_size, settings.chunk_overlap)
    index = LexicalIndex.build(passages)
    questions = [q for q in sample_rows(load_questions(split / "questions.jsonl"), limit, seed) if q["answerable"]]
    found = 0
    for q in questions:
        top = {passages[i].doc_id for i, _ in index.search(q["question"], 5)}
        found += bool(top & set(q["gold_passage_ids"]))
    return found / max(1, len(questions))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.stoplists", description=__doc__.splitlines()[0])
    parser.add_argument("--devdata", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=2000, help="questions per set (random, --seed)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    rows = []

    def run(name: str, lists, glossary: bool) -> list[float]:
        with configured(lists, glossary):
            scores = [recall_at_5(args.devdata / s, args.limit, args.seed) for s in SETS]
        rows.append((name, "on" if glossary else "off", scores))
        print(f"{name} glossary {'on' if glossary else 'off'}: {scores}", file=sys.stderr, flush=True)
        return scores

    lists = candidate_lists()
    train_mean = {name: sum(run(name, pair, True)[:3]) / 3 for name, pair in lists.items()}
    best = max(train_mean, key=train_mean.get)
    run(best, lists[best], False)
    print("| stop words | glossary | " + " | ".join(SETS) + " | train mean |")
    print("|---|---|" + "---|" * (len(SETS) + 1))
    for name, glossary, scores in rows:
        train = sum(scores[:3]) / 3
        print(f"| {name} | {glossary} | " + " | ".join(f"{s:.3f}" for s in scores) + f" | {train:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
