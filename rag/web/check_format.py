"""A fact check as HTML for the page: verdict badge, explanation, the claim and the quoted
evidence with what differs marked. Pure functions, every text escaped (rag.web.chat_format).

>>> _marked("MiLab <b> 12 million units", ["12 million units"])
'MiLab &lt;b&gt; <mark class="warta-diff">12 million units</mark>'
"""
from __future__ import annotations

import re

from rag.web.chat_format import escape_html as _esc, source_item
from rag.messages import MESSAGES, say
from rag.factcheck.verdict import Verdict

OTHER = {"id": "en", "en": "id"}


def verdict_label(verdict: str, lang: str) -> str:
    """"Dibantah / Contradicted": the claim's language first, then the other."""
    labels = MESSAGES["verdict_label"]
    return f"{labels[lang][verdict]} / {labels[OTHER[lang]][verdict]}"


def _pieces(text: str) -> list[str]:
    # A difference may list several names or figures ("Kemenperin, CSPC"); each is marked alone.
    return [piece.strip() for piece in re.split(r", |; ", text) if piece.strip()]


def _folded(text: str) -> tuple[str, list[int]]:
    """`text` casefolded, and for each folded character the offset of the character it came from:
    folding changes lengths ("İ" -> "i̇", "ß" -> "ss", "ﬁ" -> "fi"), so offsets found in the folded
    text are not offsets in `text`."""
    pieces = [(i, f) for i, c in enumerate(text) for f in c.casefold()]
    return "".join(f for _, f in pieces), [i for i, _ in pieces]


def _marked(text: str, needles: list[str]) -> str:
    """`text` escaped, with the first occurrence of each needle (case-insensitive) in <mark>. A mark
    covers whole characters of `text`: a match ending inside "ß" (folded "ss") marks the "ß"."""
    folded, origin = _folded(text)
    spans: list[tuple[int, int]] = []
    for needle in sorted(set(needles), key=len, reverse=True):
        wanted = needle.casefold()
        at = folded.find(wanted) if wanted else -1
        while at >= 0:
            span = (origin[at], origin[at + len(wanted) - 1] + 1)
            if not any(span[0] < e and s < span[1] for s, e in spans):
                spans.append(span)
                break
            at = folded.find(wanted, at + 1)
    out, last = [], 0
    for start, end in sorted(spans):
        out += [_esc(text[last:start]), f'<mark class="warta-diff">{_esc(text[start:end])}</mark>']
        last = end
    return "".join(out + [_esc(text[last:])])


def verdict_panel(verdict: Verdict) -> str:
    """HTML: the badge, confidence and explanation, the claim, then each piece of evidence with
    its source and the quoted sentence, differing spans marked on both sides."""
    claim_spans = [p for d in verdict.differences for p in _pieces(d.get("claim", ""))]
    corpus_spans = [p for d in verdict.differences for p in _pieces(d.get("corpus", ""))]
    lang = verdict.lang
    items = [source_item(f"warta-evidence-{c.n}", f"[{c.n}]", c.title, [c.source, c.date, c.chunk_id],
                          _marked(c.quote, corpus_spans)) for c in verdict.evidence]
    heading = say("closest_to_claim" if verdict.verdict == "not_found" else "evidence", lang)
    evidence = (f'<h4>{_esc(heading)}</h4><ol class="warta-source-list">{"".join(items)}</ol>'
                if items else "")
    notices = "".join(f'<p class="warta-notice">{_esc(n)}</p>' for n in verdict.notices)
    return (f'<div class="warta-check warta-check-{verdict.verdict}">{notices}'
            f'<div class="warta-verdict"><span class="warta-badge warta-badge-{verdict.verdict}">'
            f'{_esc(verdict_label(verdict.verdict, lang))}</span> '
            f'<span class="warta-confidence">{_esc(say("confidence", lang))}: {verdict.confidence:.2f}</span></div>'
            f'<p class="warta-explanation">{_esc(verdict.explanation)}</p>'
            f'<blockquote class="warta-claim">{_marked(verdict.claim, claim_spans)}</blockquote>'
            f"{evidence}</div>")


def empty_verdict_panel(message: str | None = None) -> str:
    text = message or ("Tempel sebuah klaim untuk diperiksa terhadap korpus. / "
                       "Paste a claim to check it against the corpus.")
    return f'<div class="warta-check"><p class="warta-empty">{_esc(text)}</p></div>'
