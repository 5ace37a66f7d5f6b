"""Names in claims and evidence: capitalised runs that are not figures nor a sentence's first
word, the places that follow a word of place, and whether an article names the same thing in
either language (stems and the glossary: "Tiongkok" is "China").

>>> claim_names("Kepala BPOM bertemu Commissioner NMPA Li Li di Shanghai.", common={"kepala"})
['BPOM', 'Commissioner NMPA Li Li', 'Shanghai']
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.evidence.quantities import extract_quantities
from rag.ingest.sentences import split_sentences
from rag.search import stopwords
from rag.search.analysis import passage_terms, query_term_sets

_LOCATIVE = re.compile(r"\b(?:di|in|at|ke|to|dari|from|near|dekat)\s+$", re.I)
_NAME = re.compile(r"[A-Z][\w&'’.-]*(?:\s+(?:[A-Z][\w&'’.-]*|&))*(?:\s+\d{2,6}\b(?=\s+|[.,;]|$))?")
_CODE = re.compile(r"[A-Z]{2,}\s+\d+")  # "ISO 9001", an identifier: the number is part of the name
_ATTACHED = re.compile(r"-[a-z]+$")
_JOINED = re.compile(r"[A-Z][\w&'’.]*-[A-Z][\w&'’.]*")
LOWER_WORD = re.compile(r"(?<![\w-])[a-z][a-z'-]+")


@lru_cache(maxsize=1)
def _weekdays() -> frozenset:
    """Weekday names of both languages (CLDR via Babel): they open dates, not names."""
    from babel.dates import get_day_names

    return frozenset(n.casefold() for locale in ("id", "en") for width in ("wide", "abbreviated")
                     for n in get_day_names(width, locale=locale).values())


@lru_cache(maxsize=1)
def openers() -> frozenset:
    """Words that open a capitalised run without being part of the name ("Menurut Kim Min Jun",
    "Selain Korea Selatan"): the function words of both languages (Warta's lists and the larger
    stopwords-iso ones) and weekday names."""
    import stopwordsiso

    return frozenset(stopwords.ALL | stopwordsiso.stopwords("id") | stopwordsiso.stopwords("en") | _weekdays())


def _plain(word: str) -> bool:
    """Capitalised like any word at a sentence's start: "Kontainer", "Autumn" (not "Medisa", "BPOM")."""
    return word[:1].isupper() and word[1:].islower()


@lru_cache(maxsize=4096)
def _figure_spans(text: str) -> tuple[tuple[int, int], ...]:
    return tuple((q.start, q.end) for q in extract_quantities(text))


def claim_names(text: str, common: set[str] = frozenset()) -> list[str]:
    """Capitalised word runs, minus a sentence-initial word that is a common word: a function
    word, or one of `common` (words the texts also write in lower case, like "Kedua", "Heavy")."""
    return [name for name, _ in name_spans(text, common)]


def name_spans(text: str, common: set[str]) -> list[tuple[str, int]]:
    """(name, where it starts) for each name in `text`, as `claim_names` reads them. A capitalised
    word inside a figure is not a name: "Rp" of "Rp 10 triliun", "February" of a date."""
    names = []
    figures = _figure_spans(text)
    for match in _NAME.finditer(text):
        if any(s <= match.start() < e for s, e in figures):
            continue
        # "China-bound", "Korea-based": the name is the part before the hyphen
        words = [_ATTACHED.sub("", w) for w in match.group().rstrip(".,").split()]
        if words[-1].isdigit() and not (len(words) > 1 and words[-2].isupper()):
            words = words[:-1]  # a year after a name ("Summit 2025") is a figure; after "ISO", a code
        before = text[:match.start()].rstrip()
        opens = not before or before[-1] in ".!?\"“("
        if opens and (words[0].casefold() in common or (len(words) == 1 and _plain(words[0]))):
            # A sentence's first word is capitalised anyway: a name only when it could not be a
            # common word ("Medisa", "BPOM"), or when more capitalised words follow it.
            words = words[1:]
        while words and words[0].casefold() in openers():
            words = words[1:]
        if words and any(ch.isalpha() for ch in words[0]):
            name = " ".join(words)
            start = text.index(words[0], match.start())
            if len(words) == 1 and _JOINED.fullmatch(name):
                # "RI-Tiongkok", "Indonesia-Korea": two names joined, each looked for on its own
                first, second = name.split("-", 1)
                names += [(first, start), (second, start + len(first) + 1)]
            else:
                names.append((name, start))
    return names


@dataclass(frozen=True)
class Place:
    name: str
    start: int


def place_spans(text: str, common: set[str]) -> list[Place]:
    """Names right after a word of place ("di Beijing", "based in Karawang", "ke Tiongkok"), and
    the region that may follow one ("Surabaya, East Java").

    >>> [p.name for p in place_spans("Li Li di Shanghai, lalu terbang ke Beijing.", set())]
    ['Shanghai', 'Beijing']
    """
    found: list[Place] = []
    for name, start in name_spans(text, common):
        after_place = found and text[found[-1].start + len(found[-1].name):start] == ", "
        if _LOCATIVE.search(text[:start]) or after_place:
            found.append(Place(name, start))
    return found


@lru_cache(maxsize=1024)
def lower_words(document) -> frozenset:
    """Words the article writes in lower case: capitalised, they start a sentence, not a name."""
    return frozenset(LOWER_WORD.findall(document.text))


@lru_cache(maxsize=1024)
def _sentence_terms(document) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(passage_terms(s.text, document.lang)) for s in split_sentences(document.text))


NAME_SPREAD = 6  # other words a name's words may be spread over: "Commissioner [...] (NMPA) Tiongkok, Li Li"


@lru_cache(maxsize=4096)
def _name_sets(name: str) -> tuple[frozenset, ...]:
    """Per content word of a name, the terms that stand for it (stemmed both ways, glossary)."""
    return tuple(frozenset(s) for s in query_term_sets(name, translate=True, spread=True) if s)


def name_in(name: str, terms) -> bool:
    """The name's content words (or their glossary translations) close together among `terms`:
    "Kementerian Kesehatan" is not "Kementerian Perindustrian ... alat kesehatan"."""
    sets = _name_sets(name)
    if not sets:
        return False
    width = len(sets) + NAME_SPREAD
    for start, term in enumerate(terms):
        if any(term in s for s in sets):
            window = set(terms[start:start + width])
            if all(s & window for s in sets):
                return True
    return False


@lru_cache(maxsize=4096)
def name_found(name: str, document) -> bool:
    """The name in one sentence of the article (news text names a subject once, then "the company")."""
    return any(name_in(name, terms) for terms in _sentence_terms(document))


def is_code(name: str) -> bool:
    return bool(_CODE.fullmatch(name))


def same_kind(a: str, b: str) -> bool:
    """Two names of one kind: their first words meet in either language ("Kementerian Kesehatan"
    and "Kementerian Perindustrian", "Universitas Xiamen" and "Tsinghua University" do not)."""
    if is_code(a) or is_code(b):  # "ISO 9001" is not "ISO 14001" wrongly named: it is another one
        return False
    first_a, first_b = _name_sets(a)[:1], _name_sets(b)[:1]
    return bool(first_a and first_b and first_a[0] & first_b[0]) and _name_sets(a) != _name_sets(b)
