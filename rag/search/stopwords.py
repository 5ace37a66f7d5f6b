"""Function words of Indonesian and English, for BM25 analysis and as a language cue.

From maintained lists, not grown by hand: Indonesian from the `stop-words` package (Alir3z4),
English from scikit-learn's list (the Glasgow Information Retrieval Group's). Both without the
words that say how many or when (COUNTING), which questions ask about and answers hold.
`python -m eval.stoplists` chose these on the public QA sets' train splits: lexical recall@5 within
0.2 points of the hand-grown lists Warta had, equal on validation (README, "How retrieval works").

scikit-learn's list is read from its file: importing scikit-learn itself takes seconds.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

# Words that say how many or when: questions ask about them and answers hold them, so they stay
# searchable whatever list the function words come from.
COUNTING = frozenset("""
satu dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas seratus seribu sejuta
pertama kedua ketiga keempat kelima terakhir tahun bulan hari minggu pekan jam menit abad
tanggal juta ribu miliar triliun persen
one two three four five six seven eight nine ten eleven twelve hundred thousand million billion
first second third fourth fifth last year years month months day days week weeks hour hours
minute minutes century date percent
""".split())


def _indonesian() -> frozenset:
    from stop_words import get_stop_words

    return frozenset(get_stop_words("id"))


def _english() -> frozenset:
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("Warta's English stop words come from scikit-learn: pip install -r requirements.txt")
    path = Path(next(iter(spec.submodule_search_locations))) / "feature_extraction" / "_stop_words.py"
    namespace: dict = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    return frozenset(namespace["ENGLISH_STOP_WORDS"])


INDONESIAN = _indonesian() - COUNTING
ENGLISH = _english() - COUNTING

# Words that exist in both lists would be no cue for the language of a question.
INDONESIAN_ONLY = INDONESIAN - ENGLISH
ENGLISH_ONLY = ENGLISH - INDONESIAN
ALL = INDONESIAN | ENGLISH
