"""What an answer is: text with [n] markers, the citations behind them, and how it was made."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from rag.search.retrieval import Hit


@dataclass(frozen=True)
class Citation:
    """[n] in an answer: a verbatim quote, `document text[start:end] == quote`."""

    n: int
    doc_id: str
    title: str
    source: str | None
    date: str | None
    chunk_id: str
    start: int
    end: int
    quote: str

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    question: str
    lang: str
    text: str
    abstained: bool
    citations: list[Citation]
    hits: list[Hit]
    mode: dict
    timings_ms: dict = field(default_factory=dict)
    # Generated answers: how many sentences the verifier could back with their citations.
    verification: dict | None = None
    notices: list[str] = field(default_factory=list)
    # The filters applied (Warta.filters_used), or None when the whole corpus was searched.
    filters: dict | None = None

    def to_json(self, answer_id: str | None = None) -> dict:
        """The `ask --json` object (docs/design.md, "ask --json"; "filters" when any applied)."""
        out = {"id": answer_id, "question": self.question, "lang": self.lang, "answer": self.text,
               "abstained": self.abstained, "mode": self.mode,
               "citations": [c.to_json() for c in self.citations],
               "passages": [h.to_json() for h in self.hits], "timings_ms": self.timings_ms}
        if self.verification is not None:
            out["verification"] = self.verification
        if self.notices:
            out["notices"] = self.notices
        if self.filters is not None:
            out["filters"] = self.filters
        return out


def cite(n: int, hit: Hit, start: int, end: int, text: str) -> Citation:
    """A citation of `text[start:end]` of the hit's document (offsets in the document)."""
    document = hit.document
    return Citation(n, document.doc_id, document.title, document.source, document.date,
                    hit.passage.chunk_id, start, end, text)
