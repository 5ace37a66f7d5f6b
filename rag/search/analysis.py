"""Text -> BM25 terms, for Indonesian and English.

Lower-casing (NFKC case-fold), numbers written one way, function words of both languages
dropped, then Snowball stemming (PyStemmer): Indonesian for Indonesian text, English for
English text. A question may be in either language and ask about either, so a question's words
are stemmed both ways and both forms are searched.

>>> passage_terms("Kawasan industri Biotown diproyeksikan 700.000 unit", "id")
['kawas', 'industr', 'biotown', 'proyeksi', '700000', 'unit']
>>> [sorted(t) for t in query_term_sets("Who is the Director of MiLab?")]
[['director', 'rector'], ['milab']]

('rector' is "director" through the Indonesian stemmer, which strips the prefix di-: such a form
rarely matches anything, while the right one always does.)
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rag.search import stopwords
from rag.numbers import number_token

# A word, or a number with its separators ("700,000", "9.3", "30-40" gives 30 and 40).
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:\d+[^\W\d_]*)*", re.UNICODE)
STEMMER_LANGUAGES = {"id": "indonesian", "en": "english"}


STEMMERS = ("snowball", "sastrawi", "none")


@lru_cache(maxsize=None)
def _snowball(lang: str):
    import Stemmer  # PyStemmer: Snowball stemmers compiled in C

    return Stemmer.Stemmer(STEMMER_LANGUAGES[lang])


@lru_cache(maxsize=1)
def _sastrawi():
    try:
        from Sastrawi.Stemmer.StemmerFactory import StemmerFactory
    except ImportError:
        raise ImportError("the 'sastrawi' stemmer needs the Sastrawi package: pip install Sastrawi==1.0.1") from None
    stemmer = StemmerFactory().create_stemmer()
    return lru_cache(maxsize=200_000)(stemmer.stem)  # pure Python: cache per word


def normalise_number(token: str) -> str:
    """One spelling per number, by the project's one number rule (rag.numbers): '700.000' and
    '700,000' -> '700000'; '9,3' and '9.3' -> '9.3'; '1.234,5' -> '1234.5'."""
    return number_token(token)


def words(text: str) -> list[str]:
    """Case-folded words and normalised numbers, function words and single letters dropped."""
    text = unicodedata.normalize("NFKC", text).casefold()
    out = []
    for token in _TOKEN.findall(text):
        if token[0].isdigit():
            out.append(normalise_number(token))
        elif len(token) > 1 and token not in stopwords.ALL:
            out.append(token)
    return out


# Stems already computed, per (language, stemmer): a corpus repeats its words, and a dict lookup
# is ~10x cheaper than PyStemmer's call (whose own cache holds 10,000 words): stemming 100k passages
# took 7.4 s without it, 1.2 s with it (eval.bench's Zipf text). Emptied when it grows past this.
_STEM_MEMO_MAX = 500_000


@lru_cache(maxsize=None)
def _stem_memo(lang: str, stemmer: str) -> dict[str, str]:
    return {}


def stem(tokens: list[str], lang: str, stemmer: str = "snowball") -> list[str]:
    """Stem `tokens` of language `lang` with the named stemmer ('sastrawi' only for Indonesian)."""
    if stemmer not in STEMMERS:
        raise ValueError(f"stemmer {stemmer!r} is not one of {', '.join(STEMMERS)}")
    if stemmer == "none":
        return list(tokens)
    memo = _stem_memo(lang, stemmer)
    known = {t: memo.get(t) for t in tokens}  # one read each: another thread may empty the memo
    missing = [t for t, s in known.items() if s is None]
    if missing:
        if stemmer == "sastrawi" and lang == "id":
            stemmed = [_sastrawi()(t) or t for t in missing]
        else:
            stemmed = _snowball(lang).stemWords(missing)
        # Numbers are kept as written: a stemmer must never turn 2025 into something else.
        fresh = {t: t if t[0].isdigit() else s for t, s in zip(missing, stemmed)}
        known.update(fresh)
        if len(memo) + len(fresh) > _STEM_MEMO_MAX:
            memo.clear()
        if len(fresh) <= _STEM_MEMO_MAX:
            memo.update(fresh)
    return [known[t] for t in tokens]


def passage_terms(text: str, lang: str, stemmer: str = "snowball") -> list[str]:
    """Terms of a passage, stemmed in the passage's own language."""
    return stem(words(text), lang, stemmer)


def query_term_sets(text: str, stemmer: str = "snowball", translate: bool = False,
                    spread: bool = False) -> list[set[str]]:
    """For each word of a question, the terms that stand for it in a passage of either language:
    its Indonesian and English stems; with `translate`, also the stems of its glossary translations
    (rag.search.glossary, which only the fact checker's comparisons use: on the public QA sets the
    glossary did not help retrieval, `python -m eval.stoplists`). A phrase's translation joins its
    first word only, so each source word counts once; with `spread`, every word of the phrase
    (a name "Korea Selatan" is found where "South Korea" stands).
    """
    tokens = words(text)
    sets = [set(pair) for pair in zip(stem(tokens, "id", stemmer), stem(tokens, "en", stemmer))]
    if translate:
        from rag.search.glossary import translations

        for position, size, target, lang in translations(tokens):
            translated = set(stem([w for w in target if w not in stopwords.ALL], lang, stemmer))
            for covered in range(position, position + (size if spread else 1)):
                sets[covered] |= translated
    return sets
