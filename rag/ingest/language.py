"""Indonesian or English? Detection for documents and questions.

Short questions are where detectors fail ("Apa itu Biotown?" is 55% English to lingua), so
function words decide first: "apa", "siapa", "berapa" are Indonesian, "who", "the" English.
Only when they tie does lingua (a detector that ships its own model, so it works offline),
restricted to the two languages, decide.
"""
from __future__ import annotations

import re
from functools import lru_cache

from rag.search import stopwords

LANGUAGES = ("id", "en")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _lingua_detector():
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.INDONESIAN).build()


def function_word_vote(text: str) -> int:
    """Indonesian function words minus English ones, e.g. "Siapa Direktur Hebei MPA?" -> 1."""
    words = [w.casefold() for w in _WORD.findall(text)]
    return sum(w in stopwords.INDONESIAN_ONLY for w in words) - sum(
        w in stopwords.ENGLISH_ONLY for w in words
    )


def detect_language(text: str) -> str:
    """'id' or 'en'. Long texts go to lingua; short ones are decided by function words first."""
    if len(text) < 400:
        vote = function_word_vote(text)
        if vote:
            return "id" if vote > 0 else "en"
    from lingua import Language

    found = _lingua_detector().detect_language_of(text[:4000])
    return "en" if found == Language.ENGLISH else "id"

