"""Which documents a search may return: outlet (source), date range and document language.

`Filters` is the one value every retrieval backend receives. The in-memory backend (FAISS +
bm25s, rag.search.retrieval) turns it into the set of allowed passages with `matches`; a
server-side backend (PostgreSQL) would turn the same four fields into a WHERE clause. Parsing
lives here too, so the CLI, the page and /ask refuse the same values with the same one line.

    >>> f = Filters.parse(sources=["TRIBUNNEWS.COM"], since="2025-01-01")
    >>> f.matches({"source": "tribunnews.com", "date": "2026-01-02", "lang": "id"})
    True
    >>> f.matches({"source": "TRIBUNNEWS.COM", "date": None, "lang": "id"})  # no date: excluded
    False
    >>> f.describe("en")
    'outlet TRIBUNNEWS.COM, since 2025-01-01'
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from rag.ingest.language import LANGUAGES

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_LANGUAGE_NAMES = {"en": {"id": "Indonesian", "en": "English"}, "id": {"id": "Indonesia", "en": "Inggris"}}
_WORDS = {"en": {"outlet": "outlet", "or": "or", "since": "since", "until": "until", "lang": "language",
                 "articles": "the previous answer's articles"},
          "id": {"outlet": "media", "or": "atau", "since": "sejak", "until": "sampai", "lang": "bahasa",
                 "articles": "artikel jawaban sebelumnya"}}


class FilterError(ValueError):
    """A filter value that cannot be used; the message is one line naming it."""


@dataclass(frozen=True)
class Filters:
    """Outlets (any of, compared case-insensitively), dates (inclusive) and languages (any of).
    An empty field does not filter. A document without a date fails a date filter: nothing says
    it falls in the range."""

    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    langs: tuple[str, ...] = ()
    # Documents by id: a chat's follow-up question is answered from the articles the previous
    # answer cited (rag.answer.followup); not a filter a person sets.
    doc_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [lang for lang in self.langs if lang not in LANGUAGES]
        if unknown:
            raise FilterError(f"document language {str(unknown[0])[:40]!r} is not one of {', '.join(LANGUAGES)}")
        if any(not isinstance(s, str) or not s.strip() for s in self.sources):
            raise FilterError("an outlet name is empty or not text")
        if self.since and self.until and self.since > self.until:
            raise FilterError(f"since {self.since.isoformat()} is after until {self.until.isoformat()}")

    @classmethod
    def parse(cls, sources=None, since=None, until=None, langs=None) -> "Filters":
        """Filters from what a person or client sends: None or "" for "any"; one text or a list
        of texts for sources and langs; dates as YYYY-MM-DD."""
        # Outlets are told apart case-insensitively, as `matches` compares them.
        outlets: dict[str, str] = {}
        for source in _texts(sources, "outlet"):
            outlets.setdefault(source.strip().casefold(), source.strip())
        return cls(sources=tuple(outlets.values()),
                   since=_day(since, "since"), until=_day(until, "until"),
                   langs=tuple(dict.fromkeys(s.strip().lower() for s in _texts(langs, "document language"))))

    @property
    def active(self) -> bool:
        return bool(self.sources or self.since or self.until or self.langs or self.doc_ids)

    def matches(self, metadata: dict) -> bool:
        """Whether a document with this metadata (Document.metadata(): source, date, lang; and
        its doc_id) passes."""
        if self.doc_ids and metadata.get("doc_id") not in self.doc_ids:
            return False
        if self.sources:
            source = (metadata.get("source") or "").strip().casefold()
            if source not in {s.casefold() for s in self.sources}:
                return False
        if self.langs and metadata.get("lang") not in self.langs:
            return False
        if self.since or self.until:
            day = document_day(metadata.get("date"))
            if day is None or (self.since and day < self.since) or (self.until and day > self.until):
                return False
        return True

    def to_json(self) -> dict:
        out = {"sources": list(self.sources), "since": self.since.isoformat() if self.since else None,
               "until": self.until.isoformat() if self.until else None, "langs": list(self.langs)}
        return {**out, "doc_ids": list(self.doc_ids)} if self.doc_ids else out

    def describe(self, lang: str = "en") -> str:
        """'outlet A or B, since 2025-01-01, until …, language English' in `lang` (id or en)."""
        words = _WORDS[lang]
        either = f" {words['or']} "
        parts = []
        if self.sources:
            parts.append(f"{words['outlet']} {either.join(self.sources)}")
        if self.since:
            parts.append(f"{words['since']} {self.since.isoformat()}")
        if self.until:
            parts.append(f"{words['until']} {self.until.isoformat()}")
        if self.langs:
            parts.append(f"{words['lang']} {either.join(_LANGUAGE_NAMES[lang][x] for x in self.langs)}")
        if self.doc_ids:
            parts.append(f"{words['articles']} {', '.join(self.doc_ids)}")
        return ", ".join(parts)


NO_FILTERS = Filters()


def document_day(value) -> date | None:
    """A document's date as a day: ISO 'YYYY-MM-DD' (or an ISO date-time); None when it has none
    or a sidecar gave something else."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.strip()).date()
    except ValueError:
        return None


def _texts(value, what: str) -> list[str]:
    if value is None or value == "":
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise FilterError(f"{what} must be text or a list of texts (got {type(value).__name__})")
    return [v for v in values if v.strip()]


def _day(value, what: str) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise FilterError(f"{what} must be a date as YYYY-MM-DD (got {type(value).__name__})")
    try:
        # Only the one written form: fromisoformat would also take "20250101" and "2025-W01-1".
        if _ISO_DAY.fullmatch(value.strip()):
            return date.fromisoformat(value.strip())
    except ValueError:  # 2025-02-30
        pass
    raise FilterError(f"{what} {value.strip()[:40]!r} is not a valid date (YYYY-MM-DD, e.g. 2025-01-31)")
