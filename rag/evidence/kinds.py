"""What kind of thing a question asks for, and which kinds a sentence holds.

A "how many" question is answered by a sentence with a number, a "when" question by one with a
date of any year or a month or weekday, a "who" or "where" question by one that names someone or
somewhere. The answer-sentence model (rag.answer.model) weighs these as features; nothing here
decides alone.

Question words are matched in every form a question writes them: "berapa", "berapakah",
"Berapa?", "dimana", "di mana", "dimanakah", "how many", "in which year". Month and weekday
names come from the Unicode CLDR through Babel, in Indonesian and English, full and short.

>>> asked_kind("berapakah jumlah pabrik vaksin di indonesia"), asked_kind("In which year was it founded?")
('number', 'date')
>>> asked_kind("Dimanakah kantor pusatnya?"), asked_kind("siapakah pendirinya"), asked_kind("Apa itu fotosintesis?")
('place', 'person', 'thing')
>>> asked_kind("Apa nama ibu kota Jepang?"), asked_kind("Negara apakah yang pertama kali mengekspor?")
('name', 'place')
>>> sorted(kinds_in("Jembatan itu dibuka pada 12 Maret 1998 oleh Gubernur Sutan Nasution di Medan."))
['date', 'name', 'number']
"""
from __future__ import annotations

import re
from functools import lru_cache

KINDS = ("number", "date", "person", "place", "name", "thing", "reason", "manner")

# Each question word in its forms: -kah and -pun suffixes, "di mana" written together or apart.
_QUESTION_WORDS = [
    ("date", r"kapan(?:kah)?|bila(?:mana)?(?:kah)?|(?:pada\s+|di\s+)?tahun\s+berapa|tanggal\s+berapa|bulan\s+apa|"
             r"hari\s+apa|when|(?:in\s+)?what\s+(?:year|date|day|month|century)|(?:in\s+)?which\s+(?:year|month|century)"),
    ("number", r"berapa(?:kah)?|how\s+(?:many|much|long|old|far|big|large|tall|high)|"
               r"what\s+(?:percentage|share|amount|number|proportion)"),
    ("person", r"siapa(?:kah)?|who(?:m|se)?"),
    # "apa nama ...", "what is the name of ...", "disebut apa": a name, not a description
    ("name", r"apa(?:kah)?\s+nama|nama\s+\w+(?:\s+\w+)?\s+apa(?:kah)?|what\s+(?:is|was|are|were)\s+the\s+names?|"
             r"what\s+\w+\s+(?:is|was)\s+(?:it\s+)?called|disebut\s+apa|dikenal\s+sebagai\s+apa"),
    ("place", r"di\s*mana(?:kah)?|ke\s*mana(?:kah)?|dari\s*mana(?:kah)?|where|(?:in\s+)?which\s+(?:country|city|"
              r"province|region|place)|(?:negara|kota|provinsi|pulau|kabupaten|ibu\s*kota)\s+(?:apa|mana)(?:kah)?"),
    ("reason", r"mengapa|kenapa|why"),
    ("manner", r"bagaimana(?:kah)?|how"),
    ("thing", r"apa(?:kah)?|manakah|what|which"),
]
_ASKS = [(kind, re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.I)) for kind, pattern in _QUESTION_WORDS]

_DIGIT = re.compile(r"\d")
_NUMBER_WORDS = re.compile(r"(?<!\w)(?:satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|"
                           r"puluhan|ratusan|ribuan|jutaan|seratus|seribu|sejuta|one|two|three|four|five|six|"
                           r"seven|eight|nine|ten|eleven|twelve|hundred|thousand|million|billion|dozen)(?!\w)", re.I)
# A year of any century ("tahun 750", "1945", "2030"), a century, a numeric date.
_YEAR = re.compile(r"(?<![\w.,])(?:1\d{3}|20\d{2}|21\d{2})(?![\w]|[.,]\d)|(?:tahun|year|abad|century)\s+\d{1,4}\b|"
                   r"\b\d{1,2}[/-]\d{1,2}[/-]\d{2,4}\b|\b(?:abad|century)\b|\b\d{1,2}(?:st|nd|rd|th)\s+century\b", re.I)
_CAPITALISED = re.compile(r"(?<![\w])[A-Z][\w’'-]+")


@lru_cache(maxsize=1)
def _calendar() -> re.Pattern:
    """Month and weekday names, Indonesian and English (CLDR via Babel), as a pattern."""
    from babel.dates import get_day_names, get_month_names

    names = set()
    for locale in ("id", "en"):
        for width in ("wide", "abbreviated"):
            names |= set(get_month_names(width, locale=locale).values())
            names |= set(get_day_names(width, locale=locale).values())
    # Capitalised only: "may", "mar", "sun" are words too.
    names = sorted((n.rstrip(".") for n in names if len(n.rstrip(".")) >= 3), key=len, reverse=True)
    return re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, names))})\.?(?!\w)")


def asked_kind(question: str) -> str | None:
    """The kind of answer the question asks for (one of KINDS), or None when it says nothing."""
    best = None
    for kind, pattern in _ASKS:
        match = pattern.search(question)
        # the earliest question word wins; at one position the more specific pattern (listed first)
        if match and (best is None or match.start() < best[1]):
            best = (kind, match.start())
    return best[0] if best else None


def without_question_words(question: str) -> str:
    """The question with its question words taken out: "berapakah", "dimanakah", "how many" say
    what kind of answer is wanted (asked_kind), not what it is about.

    >>> without_question_words("Dimanakah kantor pusat PT Sinar Jaya berada?")
    'kantor pusat PT Sinar Jaya berada?'
    """
    for _, pattern in _ASKS:
        question = pattern.sub(" ", question)
    return " ".join(question.split())


def kinds_in(sentence: str) -> set[str]:
    """The kinds of answer a sentence can give: "number", "date", "name"."""
    found = set()
    if _DIGIT.search(sentence) or _NUMBER_WORDS.search(sentence):
        found.add("number")
    if _YEAR.search(sentence) or _calendar().search(sentence):
        found.add("date")
    if capitalised_words(sentence):
        found.add("name")
    return found


def capitalised_words(text: str) -> set[str]:
    """Capitalised words (names, places, organisations), the text's first word only when it is no
    function word.

    >>> sorted(capitalised_words("The Direktur Dinas Kesehatan met Budi Santoso"))
    ['Budi', 'Dinas', 'Direktur', 'Kesehatan', 'Santoso']
    """
    from rag.search import stopwords

    found = set()
    for match in _CAPITALISED.finditer(text):
        word = match.group()
        if match.start() == len(text) - len(text.lstrip()) and word.casefold() in stopwords.ALL:
            continue
        found.add(word)
    return found


# What each asked kind needs to find in a sentence.
NEEDS = {"number": "number", "date": "date", "person": "name", "place": "name", "name": "name"}


def holds_asked(asked: str | None, kinds: set[str]) -> bool | None:
    """Whether a sentence with `kinds` holds what is asked; None when the question asks for no
    kind a sentence visibly holds (what, why, how)."""
    need = NEEDS.get(asked)
    return None if need is None else need in kinds
