"""The page's "Add documents" panel: absent by default; with WARTA_ALLOW_UPLOADS=1 only behind a
login, and then a journalist uploads a .docx and an .html in real Chromium, sees the report, and
the next question is answered from them; the uploads do not stay on disk."""
import os
import shutil
import subprocess
import sys
import urllib.request
from urllib.error import HTTPError

import pytest

from eval.documents import news_docx, news_html
from tests.app_server import ROOT, start_app
from tests.conftest import CORPUS, MISSING_MODEL
from tests.test_add import DOCX_ARTICLE, HTML_ARTICLE, zip_bomb_docx
from tests.test_browser import BOT, ask, save_screenshot

LOGIN = ("redaksi", "kopi-tubruk-2026")


@pytest.fixture(scope="module")
def upload_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("upload-app")
    corpus = workdir / "corpus"
    corpus.mkdir()
    for path in CORPUS.iterdir():
        if path.is_file():
            shutil.copy(path, corpus / path.name)
    uploads = workdir / "gradio-uploads"
    uploads.mkdir()
    server = start_app(workdir, corpus, MISSING_MODEL, MISSING_MODEL,
                       extra_env={"WARTA_ALLOW_UPLOADS": "1", "WARTA_USERNAME": LOGIN[0], "WARTA_PASSWORD": LOGIN[1],
                                  "GRADIO_TEMP_DIR": str(uploads)})
    server.uploads = uploads
    yield server
    server.stop()


def request(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers or {}, method=method), timeout=30) as r:
            return r.status
    except HTTPError as e:
        return e.code


def files_in(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_upload_panel_is_absent_by_default(browser, app_server):
    page = browser.new_page()
    page.goto(app_server.url)
    page.wait_for_selector("#warta-status :text('artikel / articles')", timeout=30000)
    assert page.get_by_role("tab", name="Periksa fakta / Fact check").count() == 1
    assert page.get_by_role("tab", name="Tambah dokumen / Add documents").count() == 0
    assert page.locator("#warta-add-files, input[type=file]").count() == 0
    page.close()
    assert request(app_server.url + "gradio_api/upload", "POST", b"x", {"Content-Type": "multipart/form-data"}) == 403


def test_uploads_are_refused_without_a_login(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARTA_") or k == "WARTA_MODEL_CACHE"}
    env |= {"WARTA_ALLOW_UPLOADS": "1", "WARTA_CORPUS_DIR": str(tmp_path), "WARTA_INDEX_DIR": str(tmp_path / "i")}
    out = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr == ("warta: error: WARTA_ALLOW_UPLOADS=1 needs a login: set WARTA_USERNAME and "
                          "WARTA_PASSWORD too\n")


def test_upload_route_needs_the_login_and_file_routes_stay_refused(upload_server):
    url = upload_server.url
    body = b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\nhalo\r\n--b--\r\n'
    multipart = {"Content-Type": "multipart/form-data; boundary=b"}
    assert request(url + "gradio_api/upload", "POST", body, multipart) == 401  # Gradio's login check
    assert request(url + "gradio_api/upload/", "POST", body, multipart) == 403
    assert request(url + "upload", "POST", body, multipart) == 403
    too_large = {**multipart, "Content-Length": str(101 << 20)}
    assert request(url + "gradio_api/upload", "POST", body, too_large) == 413
    for route in ("gradio_api/file=/etc/passwd", "file=/etc/passwd", "gradio_api/upload_progress?upload_id=x"):
        assert request(url + route) == 403, route
    assert files_in(upload_server.uploads) == []


def log_in(page, url: str) -> None:
    page.goto(url)
    page.locator("input[type=text]").first.fill(LOGIN[0])
    page.locator("input[type=password]").first.fill(LOGIN[1])
    page.keyboard.press("Enter")
    page.wait_for_selector("#warta-status :text('artikel / articles')", timeout=30000)


def test_journalist_uploads_a_docx_and_a_page_and_asks_about_them(browser, upload_server, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    news_docx(DOCX_ARTICLE, inbox / "robot-bedah.docx", fact_box={"Nama robot": "Garuda-7"})
    (inbox / "zamrud.html").write_text(news_html(HTML_ARTICLE, "portal"), encoding="utf-8")
    zip_bomb_docx(inbox / "bom.docx", megabytes=100)
    (inbox / "acak.pdf").write_bytes(os.urandom(4000))

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    log_in(page, upload_server.url)
    page.get_by_role("tab", name="Tambah dokumen / Add documents").click()
    page.locator("#warta-add-files input[type=file]").set_input_files(
        [str(inbox / n) for n in ("robot-bedah.docx", "zamrud.html", "bom.docx", "acak.pdf")])
    page.wait_for_function("document.querySelector('#warta-add-files').innerText.includes('acak')", timeout=30000)
    page.click("#warta-add-button")
    page.wait_for_selector("#warta-add-report .warta-add-index", timeout=120000)
    report = page.inner_text("#warta-add-report")
    assert 'added robot-bedah.docx as robot-bedah.txt, robot-bedah.meta.json: "Robot bedah pertama RS Kenanga Surabaya"' in report
    assert 'added zamrud.html as zamrud.txt, zamrud.meta.json: "Zamrud Biofarma buka pabrik insulin di Batam"' in report
    assert "skipped bom.docx: refused: zip bomb: word/document.xml expands to 100 MiB" in report
    assert "skipped acak.pdf: could not read: not a PDF" in report
    assert "2 of 4 file(s) added" in report and "7 dokumen / documents" in report
    assert save_screenshot(page, tmp_path, "upload-report.png").stat().st_size > 10_000
    # Read, then deleted: nothing of the uploads is left in Gradio's upload folder.
    assert files_in(upload_server.uploads) == []
    assert (upload_server.corpus / "robot-bedah.txt").exists() and not (upload_server.corpus / "bom.txt").exists()

    page.get_by_role("tab", name="Tanya jawab / Ask").click()
    answer = ask(page, "Berapa harga robot bedah Garuda-7?", until="Sumber:")
    assert "38 miliar" in answer
    assert "Robot bedah pertama RS Kenanga Surabaya" in page.inner_text("#warta-sources")
    answer = ask(page, "Siapa Direktur Utama Zamrud Biofarma?", until="Sumber:")
    assert "Sekar Ayuningtyas" in answer and page.locator(BOT).count() == 2
    assert save_screenshot(page, tmp_path, "upload-answer.png").stat().st_size > 10_000
    assert {r.split("/")[2] for r in page.requests} == {upload_server.url.split("/")[2]}
    context.close()
