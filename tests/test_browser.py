"""A journalist's session in a real browser: Debian's Chromium, driven by Playwright, against
the real `python app.py`. Screenshots are saved under the test's output folder."""
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from rag.ingest.corpus import load_corpus
from tests.app_server import ROOT

BOT = "#warta-chat [data-testid='bot']"
SCREENSHOTS = ROOT / "test-output"


def title_of(prefix: str, corpus=ROOT / "corpus") -> str:
    """The title Warta gives the seed article whose file name starts with `prefix`."""
    return next(d.title for d in load_corpus(corpus).documents if d.doc_id.startswith(prefix))


@pytest.fixture
def page(browser, app_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(app_server.url)
    page.wait_for_selector("#warta-status :text('artikel / articles')", timeout=30000)
    yield page
    context.close()


def ask(page, question: str, until: str) -> str:
    """Type the question, press Enter, wait until the newest answer contains `until` (a part
    only the finished message has); that answer's text."""
    before = page.locator(BOT).count()
    page.fill("#warta-question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function("([selector, before, until]) => { const bots = document.querySelectorAll(selector);"
                           " return bots.length > before && bots[bots.length - 1].innerText.includes(until); }",
                           arg=[BOT, before, until], timeout=30000)
    return page.locator(BOT).last.inner_text()


def save_screenshot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    SCREENSHOTS.mkdir(exist_ok=True)
    shutil.copy(path, SCREENSHOTS / name)  # a stable place to look at after a run (git-ignored)
    return path


def test_journalist_asks_in_indonesian_and_english_and_checks_the_sources(page, tmp_path):
    answer = ask(page, "Siapa Direktur Hebei MPA?", until="Sumber:")
    assert "Fengshan Wang" in answer and "[1]" in answer
    panel = page.inner_text("#warta-sources")
    assert title_of("002_") in panel and "Sumber" in panel
    assert "Fengshan Wang" in page.inner_text("#warta-sources mark")

    answer = ask(page, "Who is the President Director of MiLab?", until="Sources:")
    assert "Idham Hamzah" in answer and "[1]" in answer
    assert title_of("000_") in page.inner_text("#warta-sources")
    assert "Idham Hamzah" in page.inner_text("#warta-sources mark")
    assert save_screenshot(page, tmp_path, "chat-id-en.png").stat().st_size > 10_000

    # Clicking the earlier answer brings its sources back.
    page.locator(BOT).first.click()
    page.wait_for_function(f"document.querySelector('#warta-sources').innerText.includes({title_of('002_')!r})")

    assert {urlsplit(url).netloc for url in page.requests} == {urlsplit(page.url).netloc}


def test_language_selector_overrides_detection_and_new_chat_clears(page):
    page.get_by_label("English").check()
    answer = ask(page, "Siapa Direktur Hebei MPA?", until="Sources:")
    assert answer.startswith("The corpus says") and "Fengshan Wang" in answer
    page.click("#warta-new-chat")
    page.wait_for_function(f"document.querySelectorAll(\"{BOT}\").length === 0")
    assert "Sumber / Sources" in page.inner_text("#warta-sources")


def test_empty_question_gets_a_friendly_message(page):
    answer = ask(page, "   ", until="The question is empty")
    assert "Pertanyaan kosong" in answer and "The question is empty" in answer


def test_hostile_question_and_corpus_stay_inert_and_nothing_loads_from_elsewhere(page, tmp_path):
    hostile_question = ('<img src=x onerror="window.__pwned=\'q\'"> <script>window.__pwned=1</script> '
                        'Berapa dosis vaksin Zembla Farma? ![x](http://evil.example/q.png) '
                        '[klik](javascript:window.__pwned=2)')
    answer = ask(page, hostile_question, until="Sumber:")
    assert "5 juta dosis" in answer
    # The markup is shown as text, not run and not dropped.
    assert '<img src="http://evil.example/pixel.png"' in answer and "![logo](http://evil.example/logo.png)" in answer
    assert "<script>window.__pwned=1</script>" in page.locator("#warta-chat [data-testid='user']").last.inner_text()
    panel = page.inner_text("#warta-sources")
    assert 'Zembla Farma <img src="http://evil.example/title.png"' in panel
    answer = ask(page, "Siapa direktur Zembla Farma?", until="Sumber:")
    assert "Budi" in answer and "<iframe" in answer
    save_screenshot(page, tmp_path, "hostile.png")

    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []
    for selector in ("#warta-chat img", "#warta-chat iframe", "#warta-chat svg[onload]", "#warta-chat script",
                     "#warta-sources img", "#warta-sources a[href^='javascript']", "#warta-chat a[href*='evil']"):
        assert page.locator(selector).count() == 0, selector
    origins = {urlsplit(url).netloc for url in page.requests if not url.startswith(("data:", "blob:"))}
    assert origins == {urlsplit(page.url).netloc}, origins


def test_filter_row_limits_the_answer_to_the_chosen_outlet_and_dates(page, tmp_path):
    question = "Apa kerja sama BPOM dengan Tiongkok?"
    ask(page, question, until="Sumber:")
    unfiltered = page.locator("#warta-sources .warta-source-meta").all_inner_texts()
    assert any(not meta.startswith("menitindonesia") for meta in unfiltered), unfiltered

    page.click("#warta-outlets input")  # filled from the corpus once the pipeline is open
    page.get_by_role("option", name="menitindonesia").click()
    page.keyboard.press("Escape")
    page.fill("#warta-since input", "2025-11-06")
    page.keyboard.press("Enter")
    answer = ask(page, question, until="Sumber:")
    assert "[1]" in answer and "menitindonesia, 2025-11-06" in answer
    metas = page.locator("#warta-sources .warta-source-meta").all_inner_texts()
    assert metas and all(meta.startswith("menitindonesia · 2025-11-06 · 002_") for meta in metas), metas
    save_screenshot(page, tmp_path, "filters.png")

    page.fill("#warta-until input", "2025-11-05")  # before "since": refused, said in the chat
    page.keyboard.press("Enter")
    answer = ask(page, question, until="The filter cannot be used")
    assert "since 2025-11-06 is after until 2025-11-05" in answer
    page.fill("#warta-since input", "2020-01-01")
    page.keyboard.press("Enter")
    answer = ask(page, "Siapa Direktur Hebei MPA?", until="Tidak ada dokumen")
    assert answer == "Tidak ada dokumen yang cocok dengan filter: media menitindonesia, sejak 2020-01-01, sampai 2025-11-05."


def test_document_language_filter_keeps_the_answer_to_articles_in_that_language(page, tmp_path):
    question = "Apa kerja sama BPOM dengan Korea?"  # asked in Indonesian, of English articles only
    page.click("#warta-doc-language input")
    page.get_by_role("option", name="English").click()
    answer = ask(page, question, until="Sumber:")
    assert "[1]" in answer
    ids = page.locator("#warta-sources .warta-source-meta").all_inner_texts()
    english = ("000_", "004_")  # the seed corpus's English articles
    assert ids and all(any(f" · {d}" in meta for d in english) for meta in ids), ids
    save_screenshot(page, tmp_path, "filter-language.png")


def test_fact_checker_sees_a_contradiction_with_the_evidence_quoted(page, tmp_path):
    page.get_by_role("tab", name="Periksa fakta / Fact check").click()
    page.fill("#warta-claim textarea", "MiLab projects annual exports of 12 million units by 2030.")
    page.keyboard.press("Enter")
    page.wait_for_selector("#warta-verdict .warta-badge", timeout=30000)
    assert page.inner_text("#warta-verdict .warta-badge") == "Contradicted / Dibantah"
    assert page.inner_text("#warta-verdict .warta-explanation") == (
        "The corpus says 9.3 million units [1], the claim says 12 million units.")
    evidence = page.inner_text("#warta-evidence-1")
    assert title_of("000_") in evidence and "By 2030, the company projects annual exports of 9.3 million units" in evidence
    # What differs is marked on both sides.
    assert page.inner_text("#warta-verdict .warta-claim mark.warta-diff") == "12 million units"
    assert page.inner_text("#warta-evidence-1 mark.warta-diff") == "9.3 million units"
    save_screenshot(page, tmp_path, "fact-check.png")

    # A claim carrying markup is shown as text; one the corpus never mentions shows the closest
    # passages under their own heading, never as evidence.
    page.fill("#warta-claim textarea", '<img src=x onerror="window.__pwned=1"> Kalbe Farma akan memproduksi vaksin HPV.')
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#warta-verdict .warta-badge')?.innerText.startsWith('Tidak ada')")
    assert "<img src=x" in page.inner_text("#warta-verdict .warta-claim")
    assert page.locator("#warta-verdict img").count() == 0 and page.locator("#warta-verdict li").count() >= 1
    assert page.inner_text("#warta-verdict h4") == "Bagian terdekat (tidak ada yang memastikan klaim)"
    assert page.evaluate("window.__pwned") is None


# Counts, as they arrive, the partial results in the event streams the page reads (Gradio's
# client reads its server-sent events through fetch).
COUNT_STREAMED_PARTIALS = """
window.__partials = [];
const originalFetch = window.fetch;
window.fetch = async (...args) => {
    const response = await originalFetch(...args);
    const url = String(args[0] instanceof Request ? args[0].url : args[0]);
    if (!url.includes('/queue/data') || !response.body) return response;
    const [forPage, forCount] = response.body.tee();
    (async () => {
        const reader = forCount.getReader(), decoder = new TextDecoder();
        for (;;) {
            const {done, value} = await reader.read();
            if (done) break;
            const n = (decoder.decode(value).match(/"process_generating"/g) || []).length;
            if (n) window.__partials.push([performance.now(), n]);
        }
    })();
    return new Response(forPage, {status: response.status, statusText: response.statusText, headers: response.headers});
};
"""


def test_answers_stream_in(browser, lm_app_server):
    """With a generator the answer reaches the page piece by piece. (A tiny random LM: its words
    are noise, so the verifier marks them unverified; this test is about streaming, not content.)"""
    page = browser.new_page()
    page.add_init_script(COUNT_STREAMED_PARTIALS)
    page.goto(lm_app_server.url)
    page.wait_for_selector("#warta-status :text('artikel / articles')", timeout=30000)
    assert "written answers" in page.inner_text("#warta-status")
    final = ask(page, "Siapa Direktur Hebei MPA?", until="(belum terverifikasi)")
    arrivals = page.evaluate("window.__partials")
    # The question echoed, then the growing answer: several partial results, in more than one
    # network chunk. (Not one chunk per partial: a busy machine's tiny LM writes faster than the
    # network flushes, and partials then share a chunk; a page that did not stream gets none.)
    assert sum(n for _, n in arrivals) >= 3 and len({round(t) for t, _ in arrivals}) >= 2, arrivals
    assert final.endswith("(belum terverifikasi)")  # the verifier ran on the finished text
    page.close()


@pytest.mark.parametrize("width", [1400, 390], ids=["wide", "narrow"])
def test_status_is_one_quiet_line_with_the_detail_behind_a_click(browser, app_server, tmp_path, width):
    """The models, their ids and how to turn them on are one click away, not on every screen."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(app_server.url)
        page.wait_for_selector("#warta-status :text('artikel / articles')", timeout=30000)
        badge = page.inner_text("#warta-status")
        assert "Model-free: keyword search" in badge and "6 artikel / articles" in badge
        assert "no-such-model" not in badge and "python -m rag" not in page.inner_text("body")
        line = float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('#warta-status p')).lineHeight)"))
        assert page.locator("#warta-status p").bounding_box()["height"] <= (1.5 if width > 1000 else 3.5) * line
        assert not page.locator("#warta-status-text").is_visible()
        save_screenshot(page, tmp_path, f"status-{width}.png")
        page.click("#warta-status-detail button, #warta-status-detail .label-wrap")
        page.wait_for_selector("#warta-status-text :text('Indeks / Index')", timeout=10000)
        detail = page.inner_text("#warta-status-text")
        assert "warta-tests/no-such-model" in detail and "6 dokumen / documents" in detail
        save_screenshot(page, tmp_path, f"status-detail-{width}.png")
    finally:
        context.close()


@pytest.mark.parametrize("first, expected, follow_up, read_as, answer, name", [
    ("Siapa Direktur Hebei MPA?", "Fengshan Wang", "siapa walikotanya?",
     "Ditafsirkan sebagai: Siapa walikotanya? (tentang Direktur Hebei MPA, dari artikel jawaban sebelumnya)",
     "Wang Xiankun", "conversation-id.png"),
    ("Who is the President Director of MiLab?", "Idham Hamzah", "which certifications does its plant hold?",
     "Interpreted as: Which certifications does its plant hold? (about President Director, MiLab, "
     "from the previous answer's articles)",
     "ISO 14001", "conversation-en.png"),
])
def test_a_follow_up_is_answered_in_the_previous_turns_context_and_says_how(page, tmp_path, first, expected,
                                                                          follow_up, read_as, answer, name):
    assert expected in ask(page, first, until=expected)
    reply = ask(page, follow_up, until=answer)
    assert read_as in reply.replace("\\", "")
    save_screenshot(page, tmp_path, name)
    # "New chat" forgets the context: the same follow-up is then read as it is.
    page.click("#warta-new-chat")
    page.wait_for_function("document.querySelectorAll(\"#warta-chat [data-testid='bot']\").length === 0")
    page.fill("#warta-question textarea", follow_up)
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll(\"#warta-chat [data-testid='bot']\").length === 1 && "
                           "!document.querySelector('#warta-chat .pending')", timeout=30000)
    page.wait_for_timeout(300)
    assert read_as.split(":")[0] not in page.locator(BOT).last.inner_text()
