"""The one rule Warta reads written numbers by: the BM25 analyser (rag.search.analysis), citation
checks (rag.answer.verify) and the fact checker's quantities (rag.evidence.quantities) all call it,
so "1.234,5" is the same number everywhere.

Indonesian writes "1.234,5" and English "1,234.5", and news text in either language groups the
thousands of counts and money. So, whatever the text's language:
- with both "." and ",", the last one is the decimal mark ("1.234,5", "1,234.5");
- repeated separators, or one followed by exactly three digits, group thousands ("700.000",
  "1,500", "10.000.000");
- otherwise the one separator is the decimal mark ("9,3", "14.39");
- scientific notation and a sign are read as written ("9.3e6", "1e308", "-5").

>>> [parse_number(w) for w in ("1.234,5", "1,234.5", "700.000", "9,3", "9.3e6", "-5")]
[1234.5, 1234.5, 700000.0, 9.3, 9300000.0, -5.0]
>>> [number_token(w) for w in ("700.000", "700,000", "9,3", "1.234,5", "10.000.000.000.000")]
['700000', '700000', '9.3', '1234.5', '10000000000000']
"""
from __future__ import annotations

import re

_THOUSANDS = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")
_EXPONENT = re.compile(r"(?P<mantissa>.+?)[eE](?P<exponent>[-+]?\d+)$")


def parse_number(written: str) -> float:
    """The value of a written number (rules above); ValueError when it is not one."""
    text = written.strip().replace("−", "-")
    sign = -1.0 if text.startswith("-") else 1.0
    text = text.lstrip("+-")
    exponent = 0
    if m := _EXPONENT.match(text):
        text, exponent = m["mantissa"], int(m["exponent"])
    if "." in text and "," in text:
        cut = max(text.rfind("."), text.rfind(","))
        text = re.sub(r"[.,]", "", text[:cut]) + "." + text[cut + 1:]
    elif len(re.findall(r"[.,]", text)) > 1 or _THOUSANDS.fullmatch(text):
        text = re.sub(r"[.,]", "", text)
    else:
        text = text.replace(",", ".")
    try:
        return sign * float(text) * 10.0 ** exponent if exponent else sign * float(text)
    except OverflowError:
        return sign * float("inf")


def number_token(written: str) -> str:
    """One spelling per number, for the index: "700.000" and "700,000" -> "700000"."""
    try:
        value = parse_number(written)
    except ValueError:
        return written
    if value != value or abs(value) == float("inf"):
        return written
    return str(int(value)) if value.is_integer() and abs(value) < 1e18 else repr(value)
