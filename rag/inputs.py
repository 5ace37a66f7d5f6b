"""What a question or claim becomes before Warta reads it: visible text, cut to a length."""
from __future__ import annotations

import re

from rag.errors import EmptyInput, NotText
from rag.ingest.corpus import SURROGATES

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # keeps \t \n \r
# Anything but whitespace and invisible format characters (zero-width space/joiners, BOM, word
# joiner, soft hyphen, direction marks).
_VISIBLE = re.compile("[^\\s\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def clean_question(text: str | None, limit: int, what: str = "question") -> tuple[str, list[str]]:
    """`text` as it will be read, cut to `limit` characters, and what was changed (message keys
    "invalid_text", "control_chars", "trimmed"); EmptyInput when nothing visible is left, NotText
    for anything but a string or None (every entry point reads input through here)."""
    if text is not None and not isinstance(text, str):
        raise NotText(what, text)
    # A lone surrogate (bytes that were not UTF-8) cannot be encoded for the page, the JSON
    # answer or the language detector; NUL and other control characters are no text at all.
    text, replaced = SURROGATES.subn("\ufffd", text or "")
    text, removed = _CONTROL.subn("", text)
    if not _VISIBLE.search(text):  # only spaces or zero-width characters
        invisible = " (it holds only invisible or control characters)" if removed or text.strip() else ""
        raise EmptyInput(what, invisible)
    text = text.strip()
    changes = [key for key, changed in (("invalid_text", replaced), ("control_chars", removed),
                                        ("trimmed", len(text) > limit)) if changed]
    return text[:limit], changes


