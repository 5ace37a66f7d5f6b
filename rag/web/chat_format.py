r"""Answers as chat messages, a sources panel and plain text. Pure functions: no server needed.

Everything that reaches the page is escaped here, because answers quote the corpus and echo
the question, and either may carry hostile markup (`<img src=x onerror=…>`, `![](http://…)`):

    >>> print(escape_markdown("<b>700.000</b>"))
    \<b\>700\.000\<\/b\>
    >>> print(answer_body("Biotown [1]."))
    Biotown **\[1\]**\.
"""
from __future__ import annotations

import html
import re
import string

from rag.answer.record import Answer, Citation
from rag.errors import BackendUnavailable, EmptyInput, NotReady, NotText, WartaError
from rag.messages import say, say_both
from rag.search.filters import FilterError
from rag.search.retrieval import Hit

MARKER = re.compile(r"\[(\d+)\]")
# CommonMark lets any ASCII punctuation be backslash-escaped; escaping all of it means no
# markup, link, image, autolink or HTML tag can survive, whatever the text holds.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def escape_markdown(text: str) -> str:
    """`text` as Markdown that renders to exactly `text` (no tags, links or images)."""
    return _PUNCTUATION.sub(r"\\\1", text)


def answer_body(text: str) -> str:
    """Answer text as Markdown: escaped, its "- " list items kept as a list, [n] markers in bold."""
    return "\n".join(_answer_line(line) for line in text.split("\n"))


def _answer_line(line: str) -> str:
    bullet = "- " if line.startswith("- ") else ""
    line = line[len(bullet):]
    pieces = [bullet]
    last = 0
    for match in MARKER.finditer(line):
        pieces.append(escape_markdown(line[last:match.start()]))
        pieces.append(_bold_marker(match.group(1)))
        last = match.end()
    pieces.append(escape_markdown(line[last:]))
    return "".join(pieces)


def _bold_marker(n) -> str:
    return f"**\\[{n}\\]**"


def describe_source(title: str, source: str | None, date: str | None) -> str:
    """'Title — Outlet, 2024-05-01' (plain text)."""
    details = ", ".join(part for part in (source, date) if part)
    return f"{title} — {details}" if details else title


def _cited(citation: Citation) -> str:
    return describe_source(citation.title, citation.source, citation.date)


def _hit_source(hit: Hit) -> str:
    d = hit.document
    return describe_source(d.title, d.source, d.date)


def chat_message(answer: Answer) -> str:
    """The assistant's chat message: notices, the answer, and a one-line list of its sources."""
    lines = [f"*{escape_markdown(notice)}*" for notice in answer.notices]
    lines.append(answer_body(answer.text))
    if answer.citations:
        listed = " · ".join(f"{' '.join(_bold_marker(n) for n in numbers)} {escape_markdown(_cited(c))}"
                            for c, numbers in _by_document(answer.citations))
        lines.append(f"{say('sources', answer.lang)}: {listed}")
    elif answer.abstained and answer.hits:
        listed = " · ".join(escape_markdown(_hit_source(hit)) for hit in _distinct_documents(answer.hits))
        lines.append(f"{say('closest', answer.lang)}: {listed}")
    return "\n\n".join(lines)


def _by_document(citations: list[Citation]) -> list[tuple[Citation, list[int]]]:
    """Citations grouped by document, in order of first citation: [(first citation, [n, …])]."""
    groups: dict[str, tuple[Citation, list[int]]] = {}
    for c in citations:
        groups.setdefault(c.doc_id, (c, []))[1].append(c.n)
    return list(groups.values())


def plain_answer(answer: Answer) -> str:
    """The answer with its [n] markers, then one line per source with the quoted passage."""
    lines = list(answer.notices) + [answer.text]
    if answer.citations:
        lines.append(f"\n{say('sources', answer.lang)}:")
        lines += [f'[{c.n}] {_cited(c)} ({c.chunk_id}): "{c.quote}"' for c in answer.citations]
    elif answer.abstained and answer.hits:
        lines.append(f"\n{say('closest', answer.lang)}:")
        lines += [f"- {_hit_source(hit)} ({hit.passage.chunk_id})" for hit in answer.hits]
    return "\n".join(lines)


def _distinct_documents(hits: list[Hit]) -> list[Hit]:
    seen, kept = set(), []
    for hit in hits:
        if hit.document.doc_id not in seen:
            seen.add(hit.document.doc_id)
            kept.append(hit)
    return kept


def escape_html(text: str | None) -> str:
    return html.escape(text or "", quote=True)


def highlighted_passage(citation: Citation, hits: list[Hit]) -> str:
    """HTML of the cited passage with the quoted sentence in <mark>; the quote alone if the
    passage is not among the hits."""
    for hit in hits:
        p = hit.passage
        if p.chunk_id == citation.chunk_id and p.start <= citation.start and citation.end <= p.end:
            before = p.text[:citation.start - p.start]
            after = p.text[citation.end - p.start:]
            return f"{escape_html(before)}<mark>{escape_html(citation.quote)}</mark>{escape_html(after)}"
    return f"<mark>{escape_html(citation.quote)}</mark>"


def article_link(url: str | None) -> str:
    """A link to the article, for http(s) addresses only (never javascript:, data: and the like);
    it opens in a new tab and sends no referrer."""
    if not url or not re.match(r"https?://[^\s\"'<>]+$", url):
        return ""
    return (f'<a class="warta-link" href="{escape_html(url)}" rel="noopener noreferrer nofollow" '
            f'target="_blank">{escape_html(url)}</a>')


def source_item(anchor: str, label: str, title: str, meta: list[str], body: str, url: str | None = None) -> str:
    meta_html = " · ".join([escape_html(m) for m in meta if m] + ([article_link(url)] if article_link(url) else []))
    return (f'<li class="warta-source" id="{anchor}"><div class="warta-source-title">'
            f'<span class="warta-n">{escape_html(label)}</span> {escape_html(title)}</div>'
            f'<div class="warta-source-meta">{meta_html}</div>'
            f'<blockquote class="warta-passage">{body}</blockquote></li>')


def sources_panel(answer: Answer) -> str:
    """HTML for the sources panel: each citation's title, outlet, date and highlighted passage;
    for an abstention, the closest passages (so the reader can see why none answers)."""
    if answer.citations:
        heading = say("sources", answer.lang)
        urls = {h.document.doc_id: h.document.url for h in answer.hits}
        items = [source_item(f"warta-source-{c.n}", f"[{c.n}]", c.title, [c.source, c.date, c.chunk_id],
                              highlighted_passage(c, answer.hits), urls.get(c.doc_id)) for c in answer.citations]
    elif answer.hits:
        heading = say("closest", answer.lang)
        items = [source_item(f"warta-closest-{h.rank}", f"{h.rank}.", h.document.title,
                              [h.document.source, h.document.date, h.passage.chunk_id], escape_html(h.passage.text),
                              h.document.url)
                 for h in answer.hits]
    else:
        return empty_sources_panel()
    return (f'<div class="warta-sources"><h3>{escape_html(heading)}</h3>'
            f'<ol class="warta-source-list">{"".join(items)}</ol></div>')


def empty_sources_panel() -> str:
    return ('<div class="warta-sources"><h3>Sumber / Sources</h3><p class="warta-empty">'
            "Sumber setiap jawaban tampil di sini. / The sources of each answer appear here.</p></div>")


def problem_message(error: Exception) -> str:
    """A friendly message for what went wrong, in both languages (the reader's is not known)."""
    if isinstance(error, NotReady):
        return say_both("not_ready", stage=str(error))
    if isinstance(error, EmptyInput):
        return say_both("empty_claim" if error.what == "claim" else "empty_question")
    if isinstance(error, FilterError):
        return say_both("bad_filter", error=str(error))
    if isinstance(error, NotText):
        return say_both("not_text", what=error.what, kind=error.kind,
                        what_id={"claim": "klaim", "query": "kueri"}.get(error.what, "pertanyaan"))
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    notice = getattr(error, "notice", None)  # an error that can say itself in both languages
    if notice is not None:
        return " / ".join(say("cannot_start", lang, error=notice.say(lang)) for lang in ("id", "en"))
    if isinstance(error, BackendUnavailable):  # at start or during an answer: not "could not start"
        return say_both("backend_unavailable", error=first_line)
    if isinstance(error, WartaError):
        return say_both("cannot_start", error=first_line)
    return say_both("failed", error=f"{type(error).__name__}: {first_line}")


def interpreted_as(reading, lang: str | None) -> str:
    """The line above an answer to a follow-up (rag.answer.followup.Reading): how the question
    was read, in its language."""
    from rag.ingest.language import detect_language

    lang = lang or detect_language(reading.question)
    line = say("interpreted_as", lang, question=reading.question)
    if reading.doc_ids:
        line += say("from_previous", lang, about=reading.about)
    return f"_{escape_markdown(line)}_\n\n"


def status_badge(mode: dict, counts: dict, notice=None) -> str:
    """One short line for people: what search runs and how many articles, in both languages.
    The models, their ids and how to turn them on are in `status_line`, behind "Detail"."""
    articles = counts["documents"]
    if notice is not None:
        state, head = "warn", "Indeks lama / Previous index (Detail)"
    elif mode.get("model_free"):
        state, head = "limited", "Tanpa model: cari kata / Model-free: keyword search"
    else:
        state, head = "ok", "Pencarian semantik / Semantic search"
    answers = " · jawaban model / written answers" if mode.get("generator") else ""
    return status_html(state, f"{head}{answers} · {articles} artikel / articles")


def status_html(state: str, text: str) -> str:
    """The status line as HTML: a coloured dot drawn by CSS (no emoji font needed), then `text`.
    state: "ok", "limited", "warn" or "busy"."""
    return f'<p class="warta-status-line"><span class="warta-dot warta-dot-{state}"></span>{html.escape(text)}</p>'


def status_line(mode: dict, counts: dict, notice=None) -> str:
    """Markdown: retrieval mode, models (or why there are none) and index size; first, when
    there is one, the index's notice (rag.messages.Notice: say, a rebuild that could not be written).

    `mode` is Warta.mode() plus the answerer keys of Answer.mode; `counts` the manifest's counts.
    """
    warning = f"⚠️ {escape_markdown(notice.both())} · " if notice is not None else ""
    retrieval = mode["retrieval"]
    if mode.get("model_free"):
        models = f"mode tanpa model / model-free mode ({escape_markdown(mode.get('reason') or 'no embedding model')})"
    else:
        models = f"embedding {escape_markdown(mode['embedding_model'])}"
        if mode.get("encoder"):  # the backend computing the embeddings: torch or onnx
            models += f" ({escape_markdown(mode['encoder'])})"
    if mode.get("generator"):
        answers = f"generatif / generative {escape_markdown(mode['generator'])}"
        if mode.get("generator_dtype"):  # float32 or bfloat16 (rag.answer.generation.generation_dtype)
            answers += f" ({escape_markdown(mode['generator_dtype'])})"
    else:
        why = mode.get("generator_reason")
        answers = "ekstraktif / extractive" + (f" ({escape_markdown(why)})" if why else "")
    return (f"{warning}**Pencarian / Retrieval:** {retrieval} · **Model:** {models} · "
            f"**Jawaban / Answers:** {answers} · **Indeks / Index:** {counts['documents']} dokumen / documents, "
            f"{counts['passages']} bagian / passages")
