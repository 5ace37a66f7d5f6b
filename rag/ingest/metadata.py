"""What a news text says about itself: a title, the outlet that names itself, and a date.

Each function takes the raw article text and returns None when the text does not say.
"""
from __future__ import annotations

import datetime
import re

MONTHS = {
    # English and Indonesian month names (and the usual abbreviations) -> month number.
    "january": 1, "jan": 1, "januari": 1, "february": 2, "feb": 2, "februari": 2, "pebruari": 2,
    "march": 3, "mar": 3, "maret": 3, "april": 4, "apr": 4, "may": 5, "mei": 5, "june": 6,
    "jun": 6, "juni": 6, "july": 7, "jul": 7, "juli": 7, "august": 8, "aug": 8, "agustus": 8,
    "agu": 8, "agt": 8, "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10,
    "oktober": 10, "okt": 10, "november": 11, "nov": 11, "nopember": 11, "december": 12,
    "dec": 12, "desember": 12, "des": 12,
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}}) ({_MONTH})\.? (\d{{4}})\b", re.IGNORECASE)
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH})\.? (\d{{1,2}}),? (\d{{4}})\b", re.IGNORECASE)
# Indonesian datelines write the day numerically in brackets: "Jumat (2/1/2026)" is 2 January.
_NUMERIC = re.compile(r"\((\d{1,2})/(\d{1,2})/(\d{4})\)")
# A dateline names the outlet before the city: "TRIBUNNEWS.COM, JAKARTA - ...",
# "menitindonesia, BEIJING — ...".
_DATELINE = re.compile(r"(?m)^\s*([A-Za-z][\w.\-]{2,40}), ([A-Z][A-Z .]{2,30}?)\s*[-–—]\s")
_MAX_TITLE = 120
# A date given as metadata: ISO, optionally with a time ("2025-11-09T08:30:00+07:00").
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


def iso_date(year: int, month: int, day: int) -> str | None:
    """'YYYY-MM-DD' when the calendar has that day (not 31 February), else None."""
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(value: str) -> str | None:
    """A date given as metadata, as ISO: the whole value must be one date whose month is not in
    doubt (ISO, or the month named), because a wrong date is worse than none.

    >>> [parse_date(v) for v in ("2025-11-09", "9 November 2025", "Nov 9, 2025", "2025-02-30", "9/11/2025")]
    ['2025-11-09', '2025-11-09', '2025-11-09', None, None]
    """
    value = value.strip()
    if m := _ISO.fullmatch(value):
        return iso_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _DAY_MONTH_YEAR.fullmatch(value):
        return iso_date(int(m[3]), MONTHS[m[2].lower()], int(m[1]))
    if m := _MONTH_DAY_YEAR.fullmatch(value):
        return iso_date(int(m[3]), MONTHS[m[1].lower()], int(m[2]))
    return None


def find_date(text: str) -> str | None:
    """The first full date the text gives, as ISO 'YYYY-MM-DD'.

    >>> find_date("kata dia, Jumat (2/1/2026).")
    '2026-01-02'
    >>> find_date("on Wednesday, September 11, 2024. This meeting")
    '2024-09-11'
    """
    found = []
    for m in _DAY_MONTH_YEAR.finditer(text):
        found.append((m.start(), int(m[3]), MONTHS[m[2].lower()], int(m[1])))
    for m in _MONTH_DAY_YEAR.finditer(text):
        found.append((m.start(), int(m[3]), MONTHS[m[1].lower()], int(m[2])))
    for m in _NUMERIC.finditer(text):
        found.append((m.start(), int(m[3]), int(m[2]), int(m[1])))
    for _, year, month, day in sorted(found):
        if date := iso_date(year, month, day):
            return date
    return None


def find_outlet(text: str) -> str | None:
    """The outlet named in a dateline near the top of the text, e.g. 'TRIBUNNEWS.COM'."""
    m = _DATELINE.search(text[:3000])
    return m[1] if m else None


def guess_title(text: str, markdown: bool = False) -> str:
    """A Markdown '# heading' if there is one, else the first non-empty line, shortened."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if markdown:
        for line in lines:
            if line.startswith("#"):
                return line.lstrip("#").strip()[:_MAX_TITLE]
    if not lines:
        return ""
    first = lines[0]
    if len(first) <= _MAX_TITLE:
        return first
    cut = first[:_MAX_TITLE].rsplit(" ", 1)[0]
    return cut + "…"
