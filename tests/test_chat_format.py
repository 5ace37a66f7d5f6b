"""Answers -> chat Markdown, sources panel HTML and plain text: pure functions, no server."""
import html
import re

import pytest
from markdown_it import MarkdownIt

from rag.answer.record import Answer, Citation
from rag.web.chat_format import (answer_body, article_link, chat_message, escape_markdown, plain_answer,
                             problem_message, sources_panel, status_line)
from rag.ingest.chunking import Passage
from rag.ingest.corpus import Document
from rag.errors import CorpusError, EmptyInput, NotReady
from rag.search.retrieval import Hit

HOSTILE = ('<script>alert(1)</script> <img src=x onerror="alert(2)"> <svg onload=alert(3)> '
           '[klik](javascript:alert(4)) ![logo](http://evil.example/x.png) https://evil.example/y '
           '<iframe src="http://evil.example"></iframe> `code` *bold* _it_ # heading &lt;b&gt; {{x}} $5')
TAG = re.compile(r"<\s*(script|img|svg|iframe|a|h1|code|em|strong)\b", re.I)


def commonmark(markdown: str) -> str:
    """Rendered as CommonMark with raw HTML allowed (the browser test covers Gradio's own renderer)."""
    return MarkdownIt("commonmark", {"html": True}).render(markdown)


def visible_text(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


def test_escaped_markdown_renders_to_exactly_the_text_and_no_markup():
    rendered = commonmark(escape_markdown(HOSTILE))
    assert TAG.search(rendered) is None, rendered
    assert visible_text(rendered) == HOSTILE


def test_answer_body_keeps_markers_bold_and_list_items_but_nothing_else():
    text = f"Menurut korpus:\n- “{HOSTILE}” [1]\n- “Kapasitas 700.000 unit.” [2]"
    rendered = commonmark(answer_body(text))
    assert rendered.count("<li>") == 2
    assert "<strong>[1]</strong>" in rendered and "<strong>[2]</strong>" in rendered
    assert TAG.search(rendered.replace("<strong>", "")) is None, rendered
    assert "Kapasitas 700.000 unit." in visible_text(rendered)


def hostile_answer() -> Answer:
    text = f"Pembuka. {HOSTILE} Penutup."
    document = Document("evil", f"Judul <img src=x onerror=alert(5)>", text, "id", source="<b>Outlet</b>",
                        date="2026-01-02", url="javascript:alert(6)")
    passage = Passage("evil", "evil#0", 0, len(text), text, "id")
    start = text.index(HOSTILE)
    citation = Citation(1, "evil", document.title, document.source, document.date, "evil#0", start,
                        start + len(HOSTILE), HOSTILE)
    return Answer("Apa?", "id", f"Menurut korpus:\n- “{HOSTILE}” [1]", False, [citation],
                  [Hit(passage, document, 1, 1.0)], {})


def test_sources_panel_escapes_everything_and_highlights_the_quote_inside_its_passage():
    panel = sources_panel(hostile_answer())
    tags = set(re.findall(r"<\s*([a-z0-9]+)", panel, re.I))
    assert tags <= {"div", "h3", "ol", "li", "span", "blockquote", "mark"}, tags
    assert "javascript:" not in panel.replace("javascript:alert(4)", "")  # only as escaped quote text
    mark = re.search(r"<mark>(.*?)</mark>", panel, re.S)
    assert html.unescape(mark.group(1)) == HOSTILE
    passage = re.search(r'<blockquote class="warta-passage">(.*?)</blockquote>', panel, re.S).group(1)
    assert visible_text(passage) == f"Pembuka. {HOSTILE} Penutup."
    assert "Judul &lt;img src=x onerror=alert(5)&gt;" in panel
    assert "Sumber" in panel


def test_chat_message_of_a_hostile_answer_has_no_markup():
    rendered = commonmark(chat_message(hostile_answer()))
    assert TAG.search(rendered.replace("<strong>", "").replace("<em>", "")) is None, rendered
    assert "Sumber:" in visible_text(rendered)


def test_article_links_only_for_http_addresses():
    assert article_link("javascript:alert(1)") == ""
    assert article_link("data:text/html,<script>") == ""
    assert article_link('https://x.example/"onmouseover=alert(1)') == ""
    link = article_link("https://news.example/a?b=1&c=2")
    assert 'href="https://news.example/a?b=1&amp;c=2"' in link and 'rel="noopener noreferrer nofollow"' in link


def test_real_answer_panel_names_title_outlet_date_and_marks_the_quoted_sentence(seed_warta):
    answer = seed_warta.ask("Siapa Direktur Hebei MPA?")
    assert answer.citations
    panel = sources_panel(answer)
    first = answer.citations[0]
    for field in (first.title, first.source, first.date):
        assert html.escape(field) in panel
    assert f"<mark>{html.escape(first.quote)}</mark>" in panel
    message = chat_message(answer)
    assert "Fengshan Wang" in message and "**\\[1\\]**" in message and message.count("Sumber:") == 1


def test_plain_answer_lists_each_citation_with_its_quote(seed_warta):
    answer = seed_warta.ask("Who is the President Director of MiLab?")
    text = plain_answer(answer)
    assert text.startswith(answer.text)
    assert "\nSources:\n" in text
    for c in answer.citations:
        assert f'[{c.n}] {c.title}' in text and c.quote in text


def test_abstention_lists_the_closest_passages(seed_warta):
    answer = seed_warta.ask("Siapa pemenang Piala Dunia 2022?", lang="en")  # the English page
    assert answer.abstained
    assert "Closest passages" in sources_panel(answer)
    assert "Closest passages" in plain_answer(answer) and "Closest passages" in chat_message(answer)


def test_trimmed_question_notice_is_shown_in_the_chat(seed_warta):
    answer = seed_warta.ask("Apa itu Biotown? " + "kata " * 400)
    assert answer.notices and escape_markdown(answer.notices[0]) in chat_message(answer)


@pytest.mark.parametrize("error, expected", [
    (EmptyInput("question"), "Pertanyaan kosong"),
    (EmptyInput("claim", " (it holds only invisible or control characters)"), "Klaim kosong"),
    (ValueError("document id is empty"), "ValueError: document id is empty"),  # not the reader's input
    (NotReady("Embedding 58 passages"), "Indeks sedang dibangun (Embedding 58 passages)"),
    (CorpusError("the corpus /x has no readable documents"), "Warta could not start: the corpus /x"),
    (RuntimeError("boom\nTraceback line"), "RuntimeError: boom"),
])
def test_problems_become_one_friendly_bilingual_line(error, expected):
    message = problem_message(error)
    assert expected in message and "Traceback" not in message and "\n" not in message
    assert " / " in message  # Indonesian, then English


def test_status_line_names_mode_models_and_index_size(seed_warta):
    line = status_line(seed_warta.answer_mode(), seed_warta.index.manifest["counts"])
    assert "lexical" in line and "model-free" in line and "58 bagian / passages" in line
    assert "5 dokumen / documents" in line and "extractive" in line
