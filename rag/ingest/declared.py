"""Metadata a file declares about a document (a NAME.meta.json sidecar, a JSONL line's fields),
checked before it is indexed and shown on the page, in answers and on the command line.

A title or outlet is cut to a length a heading can show, and loses control characters and the
bidirectional overrides and isolates that make text print in another order than it is stored
(U+202E prints "gnp.exe" backwards). A date must be a real one. Each change is said in a note.
"""
from __future__ import annotations

import re

from rag.ingest.metadata import parse_date

META_FIELDS = ("title", "source", "date", "lang", "url")
MAX_TEXT_FIELD = 300  # title, source
MAX_URL = 2048
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(value: str) -> str:
    """`value` without control or bidirectional-override characters (a line break or tab becomes
    a space, so the words on either side stay apart)."""
    return _HIDDEN.sub(lambda m: " " if m.group().isspace() else "", value).strip()


def _text_field(field: str, value: str) -> tuple[str, list[str]]:
    notes = []
    cleaned = visible(value)
    if cleaned != value.strip():
        notes.append(f'metadata "{field}": control or bidirectional-override characters removed')
    if len(cleaned) > MAX_TEXT_FIELD:
        cleaned = cleaned[: MAX_TEXT_FIELD - 1].rstrip() + "…"
        notes.append(f'metadata "{field}" cut to {MAX_TEXT_FIELD} characters')
    return cleaned, notes


def declared(record: dict) -> tuple[dict[str, str], list[str]]:
    """The metadata fields of `record` fit to show (non-empty strings only), and notes on what
    was changed or left out."""
    meta: dict[str, str] = {}
    notes: list[str] = []
    for field in META_FIELDS:
        value = record.get(field)
        if not isinstance(value, str) or not value.strip():
            continue
        if field == "date":
            value, was = parse_date(value), value
            if value is None:
                notes.append(f'metadata "date" ignored: {was[:40]!r} is not a date (give YYYY-MM-DD)')
        elif field in ("title", "source"):
            value, changed = _text_field(field, value)
            notes += changed
        elif field == "url" and (len(value) > MAX_URL or _HIDDEN.search(value)):
            notes.append(f'metadata "url" ignored: longer than {MAX_URL} characters or holds control characters')
            value = None
        if value:
            meta[field] = value
    return meta, notes
