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
  unless it is a year ("APBN 2025"). "salah satu" / "one of" are not read; "belasan"/"puluhan"
  are not numbers.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache

from rag.numbers import parse_number
from rag.search import stopwords


@dataclass(frozen=True)
class Quantity:
    kind: str           # one of KINDS
    low: float          # the value; a date is month*100+day (11 November -> 1111)
    high: float         # == low unless a range
    unit: str | None    # next word for numbers (casefolded, plural "s" stripped), currency for money
    start: int          # the span read, comparison words included ("lebih dari 40 juta")
    end: int
    text: str
    # Numbers, ordinals: up to two words after them saying what is counted ("sesi presentasi"), to
    # tell "lima sesi" from "five decades" and match "three presentation sessions".
    counted: tuple[str, ...] = ()
    bound: str | None = None  # "more", "less", "nearly", "about", "at_least", "at_most" (see BOUNDS)
    phrase: str = ""    # what an explanation quotes: the span and what it counts ("three presentation sessions")

    @property
    def shown(self) -> str:
        return (self.phrase or self.text).rstrip(".,")


KINDS = ("number", "percent", "money", "year", "date", "weekday", "quarter", "multiplier", "ordinal")

# Month names of both languages from CLDR (Babel), wide and abbreviated, Title case: "may", "mar"
# and "sun" are words too, so lower-case month words are not read.
@lru_cache(maxsize=1)
def _months() -> dict[str, int]:
    from babel.dates import get_month_names

    names: dict[str, int] = {}
    for locale in ("id", "en"):
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=locale).items():
                name = name.rstrip(".").casefold()
                if len(name) >= 3:
                    names[name] = number
    names |= {"sept": 9, "agt": 8, "peb": 2, "nop": 11}  # common news abbreviations CLDR lacks
    return names


@lru_cache(maxsize=1)
def calendar_words() -> frozenset:
    """Month and weekday names of both languages, casefolded (CLDR via Babel)."""
    return frozenset(_months()) | frozenset(_weekdays()[0])


@lru_cache(maxsize=1)
def _english_months() -> frozenset:
    from babel.dates import get_month_names

    return frozenset(n.rstrip(".").casefold() for w in ("wide", "abbreviated")
                     for n in get_month_names(w, locale="en").values()) | {"sept"}


@lru_cache(maxsize=1)
def _weekdays() -> tuple[dict[str, int], re.Pattern]:
    """Weekday names of both languages (CLDR via Babel), Monday = 1, and a pattern for one that
    opens a date ("Jumat (2/1/2026)", "Wednesday, September 11", "Kamis 6 November")."""
    from babel.dates import get_day_names

    names = {}
    for locale in ("id", "en"):
        for width in ("wide", "abbreviated"):
            for number, name in get_day_names(width, locale=locale).items():
                if len(name.rstrip(".")) >= 3:
                    names[name.rstrip(".").casefold()] = number + 1  # Babel counts from Monday = 0
    return names, re.compile(rf"(?<!\w)(?P<w>{_alternatives(names)})\.?[ \t]*[,(]?[ \t]*$", re.I)


def _alternatives(names) -> str:
    # Longest first so "Juni" is not read as "Jun".
    return "|".join(sorted((re.escape(n.title()) for n in names), key=len, reverse=True))


_NUM = r"\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?"
_SIGNED = rf"(?:[-−](?=\d))?{_NUM}"
_ORD = r"(?:st|nd|rd|th)?"


@lru_cache(maxsize=1)
def _date_patterns() -> list[re.Pattern]:
    months, english = _alternatives(_months()), _alternatives(_english_months())
    year = r"(?:,?\s+(?P<y>\d{4})(?!\w))?"
    return [re.compile(r"(?<![\w./-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\w-])"),  # ISO 2025-12-04
            # d/m/y as Indonesian (and British) news writes it: "(2/1/2026)", "04/12/2025", "4.12.2025"
            re.compile(r"(?<![\w./-])(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})(?![\w/-])"),
            re.compile(rf"(?<![\w.,])(?P<d>\d{{1,2}}){_ORD}\s+(?P<m>{months})\b\.?{year}"),
            re.compile(rf"\b(?P<m>{english})\b\.?\s+(?P<d>\d{{1,2}}){_ORD}(?![\w]|[.,]\d){year}"),
            # In any case when a year completes it ("friday, jan 2 2026", "4 des 2025"): "may 4 2025"
            # is a date though "may" alone is a word.
            re.compile(rf"(?<![\w.,])(?P<d>\d{{1,2}}){_ORD}\s+(?P<m>{months})\b\.?{year[:-1]}", re.I),
            re.compile(rf"\b(?P<m>{english})\b\.?\s+(?P<d>\d{{1,2}}){_ORD}(?![\w]|[.,]\d){year[:-1]}", re.I)]


_SCALES = dict(ribu=1e3, rb=1e3, thousand=1e3, k=1e3, juta=1e6, jt=1e6, million=1e6, m=1e6,
               miliar=1e9, milyar=1e9, billion=1e9, bn=1e9, triliun=1e12, trillion=1e12, tn=1e12, t=1e12)
# Single letters (m, k, t) are scales only right after a currency: "5 m" is five metres.
_WORD_SCALE = "|".join(s for s in _SCALES if len(s) > 1)
_MONEY_SCALE = "|".join(_SCALES)
_SCALED = rf"(?P<num>{_SIGNED})(?:\s*(?P<scale>{{}})(?!\w)|(?!\w))"
# A currency named after the amount: "10 triliun rupiah", "five hundred million US dollars".
_CURRENCY_WORD = r"\s+(?P<cur>rupiah|dolar(?:\s+AS)?|(?:US\s+)?dollars?|yuan|renminbi|euros?|USD|IDR|CNY|RMB|EUR)(?!\w)"
_MONEY = [re.compile(r"(?<!\w)(?P<cur>Rp\.?|IDR|US\$|USD|CNY|RMB|EUR|SGD|S\$|GBP|JPY|\$|€|£)\s*"
                     + _SCALED.format(_MONEY_SCALE), re.I),
          re.compile(rf"(?<![\w.,])(?P<num>{_SIGNED})(?:\s*(?P<scale>{_WORD_SCALE})(?!\w))?{_CURRENCY_WORD}", re.I)]
_CURRENCIES = {"rp": "IDR", "rupiah": "IDR", "us$": "USD", "$": "USD", "us": "USD", "dolar": "USD",
               "dollar": "USD", "yuan": "CNY", "renminbi": "CNY", "rmb": "CNY", "€": "EUR", "euro": "EUR",
               "s$": "SGD", "£": "GBP"}
_PERCENT = re.compile(rf"(?<![\w.,])(?P<num>{_SIGNED})(?:\s*%?\s*(?:-|–|—|to|hingga|sampai|s\.?d\.?|s/d)\s*"
                      rf"(?P<num2>{_NUM}))?\s*(?:%|persen\b|percent\b|per\s+cent\b)", re.I)
_PLAIN = re.compile(r"(?<![\w.,])" + _SCALED.format(_WORD_SCALE), re.I)
_IDENTIFIER = re.compile(r"(?:^|[^\w])[A-Z]{2,}[ -]?$")  # "ISO 14001", "COVID-19"



@lru_cache(maxsize=1)
def _spelled() -> tuple[dict[str, int], re.Pattern]:
    """Numbers written in words, 1 to 1,000 in both languages ("dua belas", "seratus tiga",
    "twenty-five", "one hundred and three"), from num2words' spelling rules read backwards, and
    a pattern for a run of their words. A scale word after them ("dua belas ribu") is read apart."""
    from num2words import num2words

    table = {}
    for n in range(0, 1001):
        for lang in ("id", "en"):
            words = num2words(n, lang=lang).replace("-", " ").split()
            table.setdefault(" ".join(words), n)
            table.setdefault(" ".join(w for w in words if w != "and"), n)  # "one hundred three"
    vocabulary = sorted({w for phrase in table for w in phrase.split()} | set(_DECIMAL_POINT), key=len, reverse=True)
    word = rf"(?:{'|'.join(vocabulary)})"
    return table, re.compile(rf"(?<![\w-]){word}(?:[^\S\n]*-?[^\S\n]*{word}(?![\w]))*(?![\w-])", re.I)


_DECIMAL_POINT = ("koma", "point")
_RANGE_WORD = re.compile(r"\s*(?:-|–|—|to|hingga|sampai|s\.?d\.?|s/d)\s*", re.I)


def _spelled_numbers(text: str):
    """(value, start, end) of each number in words, the longest reading first: "dua puluh lima"
    is 25, not 2, 20 and 5; "two and three" is 2 and 3; "sembilan koma tiga" is 9.3."""
    table, run = _spelled()
    for m in run.finditer(text):
        tokens = [(t.group().casefold(), m.start() + t.start(), m.start() + t.end())
                  for t in re.finditer(r"[^\W\d_]+", m.group())]
        i = 0
        while i < len(tokens):
            for j in range(len(tokens), i, -1):
                phrase = " ".join(t for t, _, _ in tokens[i:j])
                if phrase in table:
                    value, end = table[phrase], tokens[j - 1][2]
                    if j + 1 < len(tokens) and tokens[j][0] in _DECIMAL_POINT:
                        digits = ""
                        for k in range(j + 1, len(tokens)):
                            if table.get(tokens[k][0], 10) > 9:
                                break
                            digits, end, j = digits + str(table[tokens[k][0]]), tokens[k][2], k + 1
                        value = float(f"{value}.{digits}") if digits else value
                    yield value, tokens[i][1], end
                    i = j
                    break
            else:
                i += 1


# What may follow a number in words: a scale, then "kali lipat", a percent sign or word, or a currency.
_AFTER_WORD = re.compile(rf"(?:\s+(?P<scale>{_WORD_SCALE})(?!\w))?(?:(?P<times>\s+kali\s+lipat)|"
                         rf"(?P<percent>\s*%|\s+(?:persen|percent|per\s+cent)(?!\w))|{_CURRENCY_WORD})?(?![\w-])", re.I)
# "salah satu" / "one of" single a thing out; they do not count it.
_ONE_OF, _SALAH = re.compile(r"\s+of\b", re.I), re.compile(r"salah\s+$", re.I)

# How many times: "surged fourfold", "tripled", "dua kali lipat", "3x lipat", "10-fold", "halved".
_TIMES = {"twice": 2, "double": 2, "doubled": 2, "doubles": 2, "doubling": 2, "triple": 3, "tripled": 3,
          "triples": 3, "tripling": 3, "quadruple": 4, "quadrupled": 4, "quadruples": 4, "quadrupling": 4,
          "quintupled": 5, "half": 0.5, "halved": 0.5, "halving": 0.5, "setengah": 0.5, "separuh": 0.5}
_FOLD = dict(two=2, three=3, four=4, five=5, six=6, seven=7, eight=8, nine=9, ten=10, hundred=100)
_MULTIPLIER = re.compile(rf"(?<![\w-])(?:(?P<word>{'|'.join(_TIMES)})|(?P<fold>{'|'.join(_FOLD)})-?fold|"
                         rf"(?P<n>\d+(?:[.,]\d+)?)(?:-fold|\s*(?:x|kali)\s+lipat))(?![\w-])", re.I)
_HALF_OF_YEAR = re.compile(r"(?:first|second|1st|2nd)\s+$", re.I)  # "the first half of 2025" is a period

# Quarters of a year: "Q1", "kuartal I", "kuartal kedua", "triwulan ke-3", "the second quarter".
_QUARTER_WORDS = dict(i=1, ii=2, iii=3, iv=4, pertama=1, kedua=2, ketiga=3, keempat=4, first=1, second=2, third=3,
                      fourth=4)
_QUARTER = re.compile(r"(?<![\w-])(?:Q(?P<q>[1-4])|(?:kuartal|triwulan)\s+(?:ke-?\s*(?P<ke>[1-4])|(?P<word>IV|I{1,3}|"
                      r"pertama|kedua|ketiga|keempat))|(?P<en>first|second|third|fourth)\s+quarter)(?![\w-])", re.I)
# Ordinals: "first", "12th", "pertama", "ke-12", "ketiga". Not "kedua": it is also "both".
_ORDINAL_WORDS = dict(first=1, second=2, third=3, fourth=4, fifth=5, sixth=6, seventh=7, eighth=8, ninth=9,
                      tenth=10, pertama=1, ketiga=3, keempat=4, kelima=5, keenam=6, ketujuh=7, kedelapan=8,
                      kesembilan=9, kesepuluh=10)
_INDONESIAN_ORDINALS = frozenset(w for w in _ORDINAL_WORDS if w == "pertama" or w.startswith("ke"))
_ORDINAL = re.compile(rf"(?<![\w-])(?:(?P<word>{'|'.join(_ORDINAL_WORDS)})|(?P<n>\d+)(?:st|nd|rd|th)|"
                      r"ke-?(?P<ke>\d+))(?![\w-])", re.I)
# "Kedua, memfasilitasi ...": a list's second item; "kedua" alone is also "both"
_LISTED = re.compile(r"(?:^|(?<=[.!?:]\s)|(?<=\n))(?P<word>Kedua|Ketiga|Keempat|Kelima|Second|Third|Fourth|Fifth),")

# Words before a figure that bound it. Longest first, so "tidak kurang dari" is not "kurang dari".
BOUNDS = {"more": "more than|greater than|over|above|exceeds|exceeded|exceeding|in excess of|lebih dari|"
                  "lebih daripada|di atas|melebihi|melampaui",
          "less": "less than|fewer than|under|below|kurang dari|di bawah|tidak sampai|tak sampai",
          # "nearly 70" falls short of 70: it is not "more than 70"
          "nearly": "nearly|almost|close to|hampir|nyaris|mendekati",
          "about": "about|around|approximately|roughly|some|sekitar|kurang lebih|kira-kira|lebih kurang|sekira",
          "at_least": "at least|no fewer than|no less than|sedikitnya|setidaknya|minimal|paling sedikit|"
                      "tidak kurang dari|tak kurang dari",
          "at_most": "at most|up to|no more than|paling banyak|maksimal|tidak lebih dari|tak lebih dari|hingga|"
                     "sampai"}
_BOUND_OF = {phrase: name for name, phrases in BOUNDS.items() for phrase in phrases.split("|")}
_BOUND = re.compile(rf"(?<!\w)(?P<bound>{'|'.join(sorted(_BOUND_OF, key=len, reverse=True))})\s+$", re.I)
_BOUNDED = ("number", "percent", "money")

_UNIT = re.compile(r"[^\S\n]+([^\W\d_]+)(?!\w)")
_COUNTED_BEFORE = re.compile(r"(?P<words>(?:[^\W\d_]+[ \t]+){1,2})$")
# A function word after a number says nothing about what is counted ("700.000 in 2024"): the
# stop words BM25 drops (so what is counted always has terms to compare), and a few more.
_NOT_UNITS = stopwords.ALL | {"lebih", "per", "since", "untuk"}




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
    if not word or word in _NOT_UNITS or word in _months():
        return None, end
    plural = len(word) > 3 and word.endswith("s") and not word.endswith("ss")
    return (word[:-1] if plural else word), m.end()


def _counted(text: str, end: int) -> tuple[tuple[str, ...], int]:
    """Up to two content words right after a number, casefolded, and where they end; a function
    word ends them."""
    words = []
    while len(words) < 2 and (m := _UNIT.match(text, end)):
        word = m.group(1).casefold()
        if word in _NOT_UNITS or word in _months():
            break
        words.append(word)
        end = m.end()
    return tuple(words), end


def _valid_date(day: int, month: int) -> bool:
    """A day and month that can be read as a date at all. An impossible day of a real month
    ("31 February 2025") is still a date, a wrong one, so it is compared as one."""
    return 1 <= day <= 31 and 1 <= month <= 12


def extract_quantities(text: str) -> list[Quantity]:
    """Every quantity in `text`, in order. Dates, money, percentages and multipliers are read
    before plain numbers, so the "2025" of a date or the "10" of "Rp10 triliun" is not read twice;
    a comparison word before a number, percentage or amount is read with it."""
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    def add(kind: str, low: float, high: float, unit: str | None, start: int, end: int,
            counted: tuple[str, ...] = (), shown_end: int | None = None, shown_start: int | None = None) -> None:
        bound = None
        if kind in _BOUNDED and (m := _BOUND.search(text, max(0, start - 24), start)):
            bound, start = _BOUND_OF[re.sub(r"\s+", " ", m["bound"].casefold())], m.start()
        phrase = text[min(start, start if shown_start is None else shown_start):max(end, shown_end or end)]
        found.append(Quantity(kind, float(low), float(high), unit, start, end, text[start:end], counted, bound, phrase))
        taken.append((start, end))

    for number, pattern in enumerate(_date_patterns()):
        for m in pattern.finditer(text):
            day = int(m["d"])
            month = int(m["m"]) if m["m"].isdigit() else _months()[m["m"].rstrip(".").casefold()]
            if not _valid_date(day, month) or not free(*m.span()):
                continue
            if number == 1 and m["sep"] == "." and not m["y"]:
                continue
            add("date", month * 100 + day, month * 100 + day, None, *m.span())
            names, opens = _weekdays()
            if weekday := opens.search(text, max(0, m.start() - 14), m.start()):
                number = names[weekday["w"].casefold()]
                found.append(Quantity("weekday", number, number, None, *weekday.span("w"), weekday["w"], phrase=weekday["w"]))
            if m["y"]:  # the year is checked on its own: 11 November 2024 is not 2025's
                found.append(Quantity("year", float(m["y"]), float(m["y"]), None, *m.span("y"), m["y"], phrase=m["y"]))
    for pattern in _MONEY:
        for m in pattern.finditer(text):
            if free(*m.span()):
                cur = _currency(m["cur"])
                value = parse_number(m["num"]) * _scale(m["scale"], cur)
                add("money", value, value, cur, *m.span())
    for m in _PERCENT.finditer(text):
        if free(*m.span()):
            add("percent", parse_number(m["num"]), parse_number(m["num2"] or m["num"]), None, *m.span())
    for m in _MULTIPLIER.finditer(text):
        word = (m["word"] or "").casefold()
        if not free(*m.span()) or (word == "half" and _HALF_OF_YEAR.search(text, max(0, m.start() - 8), m.start())):
            continue
        value = _TIMES[word] if word else _FOLD[m["fold"].casefold()] if m["fold"] else parse_number(m["n"])
        add("multiplier", value, value, None, *m.span())
    for m in _QUARTER.finditer(text):
        if free(*m.span()):
            word = (m["word"] or m["en"] or "").casefold()
            value = int(m["q"] or m["ke"] or 0) or _QUARTER_WORDS[word]
            add("quarter", value, value, None, *m.span())
    for m in _LISTED.finditer(text):
        value = {"kedua": 2, "second": 2}.get(m["word"].casefold()) or _ORDINAL_WORDS[m["word"].casefold()]
        add("ordinal", value, value, None, *m.span("word"))
    for m in _ORDINAL.finditer(text):
        if free(*m.span()):
            value = _ORDINAL_WORDS[m["word"].casefold()] if m["word"] else int(m["n"] or m["ke"])
            counted, shown, start = (), m.end(), m.start()
            indonesian = bool(m["ke"]) or (m["word"] or "").casefold() in _INDONESIAN_ORDINALS
            if not indonesian:
                counted, shown = _counted(text, m.end())
            elif before := _COUNTED_BEFORE.search(text, max(0, start - 40), start):
                # Indonesian puts the ordinal after what it counts: "pasar ekspor pertama (Medisa)"
                counted = tuple(w.casefold() for w in before["words"].split() if w.casefold() not in _NOT_UNITS)[-2:]
                start = before.start() if counted else start
            add("ordinal", value, value, None, m.start(), m.end(), counted, shown, start)
    for m in _PLAIN.finditer(text):
        start, end = m.span()
        if not free(start, end):
            continue
        if not m["scale"] and re.fullmatch(r"\d{4}", m["num"]) and 1900 <= int(m["num"]) <= 2100:
            add("year", int(m["num"]), int(m["num"]), None, start, end)
        elif not _IDENTIFIER.search(text[max(0, start - 12):start]):
            value = parse_number(m["num"]) * _scale(m["scale"])
            counted, shown = _counted(text, end)
            unit, end = _unit(text, end)
            add("number", value, value, unit, start, end, counted, shown)
    spelled = list(_spelled_numbers(text))
    for number, (value, start, end) in enumerate(spelled):
        m = _AFTER_WORD.match(text, end)
        end = m.end() if m else end
        if (not m or not free(start, end) or _SALAH.search(text[max(0, start - 10):start])
                or (value == 1 and _ONE_OF.match(text, end))):
            continue
        value *= _scale(m["scale"])
        counted, shown = _counted(text, end)
        unit, unit_end = _unit(text, end)
        if (not m.group(0) and number + 1 < len(spelled) and _RANGE_WORD.fullmatch(text, end, spelled[number + 1][1])
                and (rest := _AFTER_WORD.match(text, spelled[number + 1][2])) and rest["percent"]):
            # "thirty to forty percent" is 30-40%, as "30 hingga 40 persen" is
            add("percent", value, spelled[number + 1][0], None, start, rest.end())
        elif m["times"]:
            add("multiplier", value, value, None, start, end)
        elif m["percent"]:
            add("percent", value, value, None, start, end)
        elif m["cur"]:  # "ten trillion rupiah" is Rp10 triliun
            add("money", value, value, _currency(m["cur"]), start, end)
        else:
            add("number", value, value, unit, start, unit_end, counted, shown)
    return sorted((_in_years(q) for q in found), key=lambda q: (q.start, q.kind))


_DECADES = {"decade": 10, "dekade": 10, "dasawarsa": 10, "century": 100, "abad": 100}


def _in_years(q: Quantity) -> Quantity:
    """A count of decades or centuries as the years it spans: "five decades" is "50 tahun"."""
    unit = (q.unit or "").rstrip("s")
    if q.kind != "number" or unit not in _DECADES:
        return q
    return replace(q, low=q.low * _DECADES[unit], high=q.high * _DECADES[unit], unit="year",
                   counted=("tahun", "year"))


def _close(x: float, y: float) -> bool:
    return math.isclose(x, y, rel_tol=1e-9)


def same_quantity(a: Quantity, b: Quantity) -> bool:
    """Same kind and value (both ends of a range), counting the same thing (see `comparable`),
    with bounds that do not point opposite ways ("lebih dari 40 juta" is not "kurang dari 40 juta")."""
    return (comparable(a, b) and _close(a.low, b.low) and _close(a.high, b.high)
            and {_direction(a.bound), _direction(b.bound)} != {"+", "-"})


def _direction(bound: str | None) -> str:
    return {"more": "+", "at_least": "+", "less": "-", "at_most": "-", "nearly": "-"}.get(bound, "0")


ABOUT = 0.1  # "about", "nearly", "sekitar": within 10 %


def _interval(q: Quantity) -> tuple[float, float]:
    """The values a quantity allows: "more than 40" is (40, inf), "about 40" is 36-44."""
    low, high = q.low, q.high
    if q.bound == "about":
        low, high = low - abs(low) * ABOUT, high + abs(high) * ABOUT
    elif q.bound == "nearly":
        low = low - abs(low) * ABOUT
    elif _direction(q.bound) == "+":
        high = math.inf
    elif _direction(q.bound) == "-":
        low = -math.inf
    return low, high


def agrees(claimed: Quantity, found: Quantity) -> bool:
    """Whether the evidence's quantity bears the claim's out: the same quantity, or one the claim's
    bound allows ("more than 30 million" holds when the corpus says "more than 40 million";
    "about 9 million" holds for 9.3 million).

    >>> claim = extract_quantities("lebih dari 30 juta pasien")[0]
    >>> agrees(claim, extract_quantities("more than 40 million patients")[0])
    True
    >>> agrees(extract_quantities("kurang dari 40 juta pasien")[0], extract_quantities("lebih dari 40 juta pasien")[0])
    False
    """
    if same_quantity(claimed, found):
        return True
    # Only a lower bound or an approximation is borne out by another value: news writes "naik
    # hingga 18%" for a rise of 18%, so "up to 18%" is not borne out by "up to 8%".
    if not comparable(claimed, found) or claimed.bound not in ("more", "at_least", "about"):
        return False
    (c_low, c_high), (f_low, f_high) = _interval(claimed), _interval(found)
    return c_low <= f_low and f_high <= c_high


def _same_word(x: str, y: str) -> bool:
    """Crudely, the same word across the two languages: "unit"/"units", "sesi"/"sessions",
    "dekade"/"decades" share a start; "pasien"/"patients" are glossary translations."""
    from rag.search.analysis import query_term_sets

    return x[:3] == y[:3] or bool(set().union(*query_term_sets(x, translate=True))
                                  & set().union(*query_term_sets(y, translate=True)))


def comparable(a: Quantity, b: Quantity) -> bool:
    """Could `b` be the evidence's version of `a`? Same kind; money in the same currency when both
    are known; numbers counting the same thing when both say what they count: "lima sesi
    presentasi" is "three presentation sessions", not "five decades" nor "two countries"."""
    if a.kind != b.kind:
        return False
    if a.kind == "money":
        return not (a.unit and b.unit and a.unit != b.unit)
    if a.kind in ("number", "ordinal") and a.counted and b.counted:
        return any(_same_word(x, y) for x in a.counted for y in b.counted)
    return True


def unmatched(claim: list[Quantity], evidence: list[Quantity]) -> list[Quantity]:
    """Claim quantities the evidence does not bear out (`agrees`): conflicting or simply absent."""
    return [q for q in claim if not any(agrees(q, e) for e in evidence)]


def conflicts(claim: list[Quantity], evidence: list[Quantity], role=None,
              in_role=None) -> list[tuple[Quantity, Quantity]]:
    """(claim quantity, closest evidence quantity) for each claim quantity the evidence does not
    bear out but has one it can be compared with (see `comparable`). Empty when nothing conflicts.

    `role(claim quantity, evidence quantity)`, when given, scores how alike their contexts are
    ("annual exports of 12 million" / "annual exports of 9.3 million"); the best-scoring rival wins.
    `in_role(claim quantity, evidence quantity)`, when given, must hold for a rival at all: a figure
    conflicts only with one that counts the same thing in the same role, so an extra figure the
    corpus never gives is missing, not contradicted by some other figure.
    """
    out = []
    for q in unmatched(claim, evidence):
        rivals = [e for e in evidence if comparable(q, e) and (in_role is None or in_role(q, e))]
        if rivals:  # prefer the same role, then the same unit/currency, then the nearest value
            closest = min(rivals, key=lambda e: (-(role(q, e) if role else 0), e.unit != q.unit,
                                                 abs(e.low - q.low) + abs(e.high - q.high)))
            out.append((q, closest))
    return out
