"""Sentences with character offsets, for quoting: `text[s.start:s.end] == s.text` always.

Splits after . ! ? (and line breaks) when the next sentence starts, but not after titles and
abbreviations news text is full of ("Prof. dr. Taruna Ikrar, M.Biomed., Ph.D.", "Co. Ltd.").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? (with closing quotes/brackets) followed by space and a likely start,
# or at a line break.
_BOUNDARY = re.compile(r"""(?<=[.!?])["'”’)\]]*\s+(?=["“‘(\[]?[A-Z0-9À-Ý])|\n+""")
_ABBREVIATIONS = {
    "prof", "dr", "drs", "ir", "h", "hj", "m", "biomed", "ph.d", "phd", "s.h", "s.e", "m.si", "m.sc", "no",
    "co", "ltd", "inc", "corp", "jl", "st", "mr", "mrs", "ms", "vs", "u.s", "e.g", "i.e", "dll", "dsb", "tbk",
    "pt", "cv", "kec", "kab", "sdr", "bpk", "ny", "rp", "us", "etc", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "agu", "sep", "sept", "okt", "oct", "nov", "des", "dec",
}


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


def _ends_with_abbreviation(chunk: str) -> bool:
    if not chunk.endswith("."):
        return False
    word = chunk[:-1].rsplit(None, 1)[-1] if chunk[:-1].split() else ""
    word = word.lstrip("(\"'“").casefold()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def split_sentences(text: str, offset: int = 0) -> list[Sentence]:
    """Sentences of `text`, offsets shifted by `offset` (the text's start in its document).

    >>> [s.text for s in split_sentences("Prof. dr. Taruna Ikrar hadir. Ia bicara.\\nBaru")]
    ['Prof. dr. Taruna Ikrar hadir.', 'Ia bicara.', 'Baru']
    """
    sentences = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        candidate = text[start:boundary.start()].rstrip()
        if "\n" not in boundary.group() and _ends_with_abbreviation(candidate):
            continue
        _append(sentences, text, start, boundary.start(), offset)
        start = boundary.end()
    _append(sentences, text, start, len(text), offset)
    return sentences


def _append(sentences: list[Sentence], text: str, start: int, end: int, offset: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    s = start + lead
    sentences.append(Sentence(offset + s, offset + s + len(stripped), stripped))
