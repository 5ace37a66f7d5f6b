"""Quantities of a claim and of its evidence, in one form, so a fact-checker can compare them.

Indonesian and English news write the same quantity differently: "700.000" / "700,000",
"9,3 juta" / "9.3 million", "Rp10 triliun" / "IDR 10 trillion", "30 hingga 40 persen" /
"30-40%", "11 November 2025" / "November 11, 2025". `extract_quantities` reads them into
`Quantity` values; `conflicts` pairs each claim quantity the evidence contradicts with the
evidence's closest quantity of the same kind.

>>> claim = extract_quantities("Ekspor naik 30-40% menjadi 700.000 unit pada 2023.")
>>> [(q.kind, q.low, q.high, q.unit) for q in claim]
[('percent', 30.0, 40.0, None), ('number', 700000.0, 700000.0, 'unit'), ('year', 2023.0, 2023.0, None)]
>>> evidence = extract_quantities("Exports rose 30 to 40 percent to 900,000 units in 2023.")
>>> [(c.text, e.text) for c, e in conflicts(claim, evidence)]
[('700.000 unit', '900,000 units')]

Rules where the text is ambiguous:
- one separator followed by exactly three digits ("700.000", "1,500") or repeated separators
  group thousands; otherwise the separator is the decimal mark ("9,3"). With both "." and ","
  the last one is the decimal mark ("1.234,5").
- "M"/"m" after a currency is miliar for rupiah ("Rp10 M") and million otherwise ("$5m").
- only percentages are read as ranges ("30-40%"); a range equals only a range with the same ends.
- month names must be capitalised; month-before-day ("November 11") is read for English names only.
- a number right after an all-caps word ("ISO 14001", "COVID-19") is an identifier and skipped,
  unless it is a year ("APBN 2025"). "salah satu" / "one of" and compound number words
  ("dua puluh") are not read; "belasan"/"puluhan" are not numbers.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rag.search import stopwords


@dataclass(frozen=True)
class Quantity:
    kind: str           # "number", "percent", "money", "year" or "date"
    low: float          # the value; a date is month*100+day (11 November -> 1111)
    high: float         # == low unless a range
    unit: str | None    # next word for numbers (casefolded, plural "s" stripped), currency for money
    start: int
    end: int
    text: str
    # Numbers: up to two words after them saying what is counted ("sesi presentasi"), to tell
    # "lima sesi" from "five decades" and match "three presentation sessions".
    counted: tuple[str, ...] = ()


_ID_MONTHS = "januari februari maret april mei juni juli agustus september oktober november desember"
_EN_MONTHS = "january february march april may june july august september october november december"
_EN_SHORT = dict(jan=1, feb=2, mar=3, apr=4, jun=6, jul=7, aug=8, sep=9, sept=9, oct=10, nov=11, dec=12)
_MONTHS = {name: i for names in (_ID_MONTHS, _EN_MONTHS) for i, name in enumerate(names.split(), 1)}
_MONTHS |= _EN_SHORT | dict(agu=8, agt=8, okt=10, des=12)
_EN = set(_EN_MONTHS.split()) | set(_EN_SHORT)


def _names(names) -> str:
    # Longest first so "Juni" is not read as "Jun"; Title case because "may"/"mar" are words too.
    return "|".join(sorted((n.title() for n in names), key=len, reverse=True))


_NUM = r"\d+(?:[.,]\d+)*"
_ORD = r"(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<y>\d{4})(?!\w))?"
_DATES = [re.compile(r"\((?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})\)"),  # Indonesian (2/1/2026)
          re.compile(rf"(?<![\w.,])(?P<d>\d{{1,2}}){_ORD}\s+(?P<m>{_names(_MONTHS)})\b\.?{_YEAR}"),
          re.compile(rf"\b(?P<m>{_names(_EN)})\b\.?\s+(?P<d>\d{{1,2}}){_ORD}(?![\w]|[.,]\d){_YEAR}")]

_SCALES = dict(ribu=1e3, rb=1e3, thousand=1e3, k=1e3, juta=1e6, jt=1e6, million=1e6, m=1e6,
               miliar=1e9, milyar=1e9, billion=1e9, bn=1e9, triliun=1e12, trillion=1e12, tn=1e12, t=1e12)
# Single letters (m, k, t) are scales only right after a currency: "5 m" is five metres.
_WORD_SCALE = "|".join(s for s in _SCALES if len(s) > 1)
_MONEY_SCALE = "|".join(_SCALES)
_SCALED = rf"(?P<num>{_NUM})(?:\s*(?P<scale>{{}})(?!\w)|(?!\w))"
_MONEY = [re.compile(r"(?<!\w)(?P<cur>Rp\.?|IDR|US\$|USD|CNY|RMB|EUR|SGD|S\$|GBP|JPY|\$|€|£)\s*"
                     + _SCALED.format(_MONEY_SCALE), re.I),
          re.compile(rf"(?<![\w.,])(?P<num>{_NUM})(?:\s*(?P<scale>{_WORD_SCALE})(?!\w))?\s+(?P<cur>rupiah|"
                     r"dolar(?:\s+AS)?|(?:US\s+)?dollars?|yuan|renminbi|euros?|USD|IDR|CNY|RMB|EUR)(?!\w)", re.I)]
_CURRENCIES = {"rp": "IDR", "rupiah": "IDR", "us$": "USD", "$": "USD", "us": "USD", "dolar": "USD",
               "dollar": "USD", "yuan": "CNY", "renminbi": "CNY", "rmb": "CNY", "€": "EUR", "euro": "EUR",
               "s$": "SGD", "£": "GBP"}
_PERCENT = re.compile(rf"(?<![\w.,])(?P<num>{_NUM})(?:\s*%?\s*(?:-|–|—|to|hingga|sampai|s\.?d\.?|s/d)\s*"
                      rf"(?P<num2>{_NUM}))?\s*(?:%|persen\b|percent\b|per\s+cent\b)", re.I)
_PLAIN = re.compile(r"(?<![\w.,])" + _SCALED.format(_WORD_SCALE), re.I)
_IDENTIFIER = re.compile(r"(?:^|[^\w])[A-Z]{2,}[ -]?$")  # "ISO 14001", "COVID-19"

_COUNTS = dict(satu=1, dua=2, tiga=3, empat=4, lima=5, enam=6, tujuh=7, delapan=8, sembilan=9, sepuluh=10,
               one=1, two=2, three=3, four=4, five=5, six=6, seven=7, eight=8, nine=9, ten=10)
_TIMES = dict(twice=2, double=2, twofold=2, threefold=3, fourfold=4, fivefold=5, tenfold=10)
_WORD_VALUES = _COUNTS | _TIMES
_WORD = re.compile(rf"(?<![\w-])(?P<word>{'|'.join(_WORD_VALUES)})(?:\s+(?P<scale>{_WORD_SCALE})(?!\w))?"
                   r"(?P<times>\s+kali\s+lipat)?(?![\w-])", re.I)
_COMPOUND = re.compile(r"\s+(?:puluh|belas|ratus|hundred)\b", re.I)  # "dua puluh" is 20, not 2
# "salah satu" / "one of" single a thing out; they do not count it.
_ONE_OF, _SALAH = re.compile(r"\s+of\b", re.I), re.compile(r"salah\s+$", re.I)

_UNIT = re.compile(r"[^\S\n]+([^\W\d_]+)(?!\w)")
# A function word after a number says nothing about what is counted ("700.000 in 2024"): the
# stop words BM25 drops (so what is counted always has terms to compare), and a few more.
_NOT_UNITS = stopwords.ALL | {"lebih", "per", "since", "untuk"}


def _number(written: str) -> float:
    if "." in written and "," in written:  # "1.234,5" / "1,234.5": the last mark is the decimal one
        cut = max(written.rfind("."), written.rfind(","))
        return float(re.sub(r"[.,]", "", written[:cut]) + "." + written[cut + 1:])
    if len(re.findall(r"[.,]", written)) > 1 or re.fullmatch(r"[1-9]\d{0,2}[.,]\d{3}", written):
        return float(re.sub(r"[.,]", "", written))  # both languages group thousands in news text
    return float(written.replace(",", "."))


def _scale(word: str | None, currency: str | None = None) -> float:
    if word is None:
        return 1.0
    if word.lower() == "m" and currency == "IDR":  # "Rp10 M" is Rp10 miliar
        return 1e9
    return _SCALES[word.lower()]


def _currency(written: str) -> str:
    word = written.split()[0].casefold().rstrip(".")
    word = word[:-1] if len(word) > 3 and word.endswith("s") else word  # "dollars", "euros"
    return _CURRENCIES.get(word, word.upper())


def _unit(text: str, end: int) -> tuple[str | None, int]:
    """The word after a number, as a crude stem, and where it ends (or None and `end`)."""
    m = _UNIT.match(text, end)
    word = m.group(1).casefold() if m else ""
    if not word or word in _NOT_UNITS or word in _MONTHS:
        return None, end
    plural = len(word) > 3 and word.endswith("s") and not word.endswith("ss")
    return (word[:-1] if plural else word), m.end()


def _counted(text: str, end: int) -> tuple[str, ...]:
    """Up to two content words right after a number, casefolded; a function word ends them."""
    words = []
    while len(words) < 2 and (m := _UNIT.match(text, end)):
        word = m.group(1).casefold()
        if word in _NOT_UNITS or word in _MONTHS:
            break
        words.append(word)
        end = m.end()
    return tuple(words)


def extract_quantities(text: str) -> list[Quantity]:
    """Every quantity in `text`, in order. Dates, money and percentages are read before plain
    numbers, so the "2025" of a date or the "10" of "Rp10 triliun" is not read twice."""
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    def add(kind: str, low: float, high: float, unit: str | None, start: int, end: int,
            counted: tuple[str, ...] = ()) -> None:
        found.append(Quantity(kind, float(low), float(high), unit, start, end, text[start:end], counted))
        taken.append((start, end))

    for pattern in _DATES:
        for m in pattern.finditer(text):
            day = int(m["d"])
            month = int(m["m"]) if m["m"].isdigit() else _MONTHS[m["m"].lower()]
            if 1 <= day <= 31 and 1 <= month <= 12 and free(*m.span()):
                add("date", month * 100 + day, month * 100 + day, None, *m.span())
                if m["y"]:  # the year is checked on its own: 11 November 2024 is not 2025's
                    add("year", int(m["y"]), int(m["y"]), None, *m.span("y"))
    for pattern in _MONEY:
        for m in pattern.finditer(text):
            if free(*m.span()):
                cur = _currency(m["cur"])
                value = _number(m["num"]) * _scale(m["scale"], cur)
                add("money", value, value, cur, *m.span())
    for m in _PERCENT.finditer(text):
        if free(*m.span()):
            add("percent", _number(m["num"]), _number(m["num2"] or m["num"]), None, *m.span())
    for m in _PLAIN.finditer(text):
        start, end = m.span()
        if not free(start, end):
            continue
        if not m["scale"] and re.fullmatch(r"\d{4}", m["num"]) and 1900 <= int(m["num"]) <= 2100:
            add("year", int(m["num"]), int(m["num"]), None, start, end)
        elif not _IDENTIFIER.search(text[max(0, start - 12):start]):
            value = _number(m["num"]) * _scale(m["scale"])
            counted = _counted(text, end)
            unit, end = _unit(text, end)
            add("number", value, value, unit, start, end, counted)
    for m in _WORD.finditer(text):
        start, end = m.span()
        word = m["word"].lower()
        if (not free(start, end) or _SALAH.search(text[max(0, start - 10):start])
                or (word == "one" and _ONE_OF.match(text, end))
                or (not m["scale"] and _COMPOUND.match(text, end))):
            continue
        value = _WORD_VALUES[word] * _scale(m["scale"])
        if word in _TIMES or m["times"]:
            add("number", value, value, None, start, end)
        else:
            counted = _counted(text, end)
            unit, end = _unit(text, end)
            add("number", value, value, unit, start, end, counted)
    return sorted(found, key=lambda q: (q.start, q.kind))


def _close(x: float, y: float) -> bool:
    return math.isclose(x, y, rel_tol=1e-9)


def same_quantity(a: Quantity, b: Quantity) -> bool:
    """Same kind and value (both ends of a range), counting the same thing (see `_comparable`)."""
    return _comparable(a, b) and _close(a.low, b.low) and _close(a.high, b.high)


def _same_word(x: str, y: str) -> bool:
    """Crudely, the same word across the two languages: "unit"/"units", "sesi"/"sessions",
    "dekade"/"decades" share a start; "pasien"/"patients" are glossary translations."""
    from rag.search.analysis import query_term_sets

    return x[:3] == y[:3] or bool(set().union(*query_term_sets(x, translate=True))
                                  & set().union(*query_term_sets(y, translate=True)))


def _comparable(a: Quantity, b: Quantity) -> bool:
    """Could `b` be the evidence's version of `a`? Same kind; money in the same currency when both
    are known; numbers counting the same thing when both say what they count: "lima sesi
    presentasi" is "three presentation sessions", not "five decades" nor "two countries"."""
    if a.kind != b.kind:
        return False
    if a.kind == "money":
        return not (a.unit and b.unit and a.unit != b.unit)
    if a.kind == "number" and a.counted and b.counted:
        return any(_same_word(x, y) for x in a.counted for y in b.counted)
    return True


def unmatched(claim: list[Quantity], evidence: list[Quantity]) -> list[Quantity]:
    """Claim quantities with no same_quantity match in evidence (conflicting or simply absent)."""
    return [q for q in claim if not any(same_quantity(q, e) for e in evidence)]


def conflicts(claim: list[Quantity], evidence: list[Quantity], role=None) -> list[tuple[Quantity, Quantity]]:
    """(claim quantity, closest evidence quantity) for each claim quantity the evidence has none equal
    to but has one it can be compared with (see `_comparable`). Empty when nothing conflicts.

    `role(claim quantity, evidence quantity)`, when given, scores how alike their contexts are
    ("annual exports of 12 million" / "annual exports of 9.3 million"); the best-scoring rival wins.
    """
    out = []
    for q in unmatched(claim, evidence):
        rivals = [e for e in evidence if _comparable(q, e)]
        if rivals:  # prefer the same role, then the same unit/currency, then the nearest value
            closest = min(rivals, key=lambda e: (-(role(q, e) if role else 0), e.unit != q.unit,
                                                 abs(e.low - q.low) + abs(e.high - q.high)))
            out.append((q, closest))
    return out
