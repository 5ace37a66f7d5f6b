"""python -m rag add: one file of each format is indexed and found; bombs, bad files and name tricks
are refused with their reason, and nothing is written outside the corpus folder."""
import json
import os
import subprocess
import sys
import time
import zipfile

import pytest

from eval.documents import Article, news_docx, news_html, news_pdf
from rag.ingest.adding import Adder
from tests.conftest import CORPUS, ROOT

# Articles no seed document resembles, each with a fact only it holds.
HTML_ARTICLE = Article(
    "Zamrud Biofarma buka pabrik insulin di Batam",
    ("BATAM - PT Zamrud Biofarma meresmikan pabrik pena insulin di kawasan industri Kabil, Batam, pada Senin.",
     "Direktur Utama Zamrud Biofarma, Sekar Ayuningtyas, mengatakan pabrik itu berkapasitas 12 juta pena insulin per tahun.",
     "Sebagian produksi akan diekspor ke Filipina dan Vietnam mulai kuartal ketiga.",
     "Investasi pabrik tersebut mencapai Rp 2,4 triliun dan menyerap 850 pekerja lokal.",
     "Menurut Sekar, bahan baku insulin masih diimpor dari Denmark untuk dua tahun pertama."),
    "Kabar Kepri", "2026-03-09")
PDF_ARTICLE = Article(
    "Nusantara Diagnostik launches tuberculosis test kits in Makassar",
    ("MAKASSAR - Nusantara Diagnostik has started producing rapid tuberculosis test kits at its Makassar plant.",
     "Chief executive Daniel Tanoto said the plant will make 3.5 million test kits a year.",
     "The kits read a result in fifteen minutes and need no laboratory, which suits clinics on remote islands.",
     "The Ministry of Health plans to buy half of the first year's output for community health centres.",
     "The company expects to apply for World Health Organization prequalification next year.") * 3,
    "Celebes Post", "2026-02-17", lang="en", author="Rina Matulessy")
DOCX_ARTICLE = Article(
    "Robot bedah pertama RS Kenanga Surabaya",
    ("SURABAYA - Rumah Sakit Kenanga Surabaya mulai memakai robot bedah untuk operasi prostat.",
     "Kepala bedah urologi, dr. Bagus Wiranata, menyebut robot itu memangkas masa rawat pasien menjadi dua hari.",
     "Robot bernama Garuda-7 tersebut dibeli seharga Rp 38 miliar dari produsen asal Korea Selatan.",
     "Sebanyak 14 dokter telah menjalani pelatihan selama enam bulan sebelum operasi pertama."),
    "Warta Surabaya", "2026-01-20", author="Dewi Lestari")


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for path in CORPUS.iterdir():
        if path.is_file():
            (folder / path.name).write_bytes(path.read_bytes())
    return folder


def one_of_each(folder):
    """A folder holding one file of each format Warta takes, each a different article."""
    folder.mkdir()
    (folder / "zamrud.html").write_text(news_html(HTML_ARTICLE, "portal"), encoding="utf-8")
    news_pdf(PDF_ARTICLE, folder / "nusantara.pdf")
    news_docx(DOCX_ARTICLE, folder / "kenanga.docx", fact_box={"Nama robot": "Garuda-7", "Harga": "Rp 38 miliar"})
    (folder / "obat.txt").write_text("Apotek Sehat Lestari membuka 40 gerai baru di Kalimantan Timur.\n\n"
                                     "Pemiliknya, Yohanes Paat, menargetkan 100 gerai pada akhir 2027.\n",
                                     encoding="utf-8")
    (folder / "catatan.md").write_text("# Vaksin dengue buatan Bandung\n\nBio Parahyangan menguji vaksin dengue "
                                       "pada 1.200 relawan di Bandung sejak Februari.\n", encoding="utf-8")
    (folder / "kabar.jsonl").write_text(json.dumps({"id": "kabar-1", "title": "Klinik apung di Maluku",
                                                    "text": "Kapal klinik apung Lentera Maluku melayani 23 pulau "
                                                            "kecil setiap bulan dengan dokter gigi dan bidan."}) + "\n",
                                        encoding="utf-8")
    return folder


def rag(*args, corpus, index):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARTA_") or k == "WARTA_MODEL_CACHE"}
    env |= {"HF_HUB_OFFLINE": "1", "WARTA_CORPUS_DIR": str(corpus), "WARTA_INDEX_DIR": str(index),
            "WARTA_EMBEDDING_MODEL": "none", "WARTA_GENERATOR_MODEL": "none"}
    return subprocess.run([sys.executable, "-m", "rag", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=300)


def test_rag_add_indexes_each_format_and_a_question_finds_them(corpus, tmp_path):
    inbox = one_of_each(tmp_path / "inbox")
    index = tmp_path / "index"
    assert rag("index", corpus=corpus, index=index).returncode == 0
    out = rag("add", str(inbox), corpus=corpus, index=index)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert sum(line.startswith("added ") for line in lines) == 6, out.stdout
    assert 'added zamrud.html as zamrud.txt, zamrud.meta.json: "Zamrud Biofarma buka pabrik insulin di Batam"' in lines
    assert "6 of 6 file(s) added" in out.stdout and "11 documents" in out.stdout
    # The existing passages were reused, and the metadata the files declare is in the sidecars.
    meta = json.loads((corpus / "nusantara.meta.json").read_text(encoding="utf-8"))
    assert meta["title"] == PDF_ARTICLE.title and meta["date"] == "2026-02-17" and meta["author"] == "Rina Matulessy"
    html_meta = json.loads((corpus / "zamrud.meta.json").read_text(encoding="utf-8"))
    assert html_meta["source"] == "Kabar Kepri" and html_meta["date"] == "2026-03-09"
    stored = (corpus / "zamrud.txt").read_text(encoding="utf-8")
    assert "12 juta pena insulin" in stored  # the menu, related stories, comments and footer left out:
    assert not any(word in stored for word in ("Otomotif", "Berita Terkait", "Komentar", "Semoga", "Copyright"))
    docx_text = (corpus / "kenanga.txt").read_text(encoding="utf-8")
    assert "Nama robot\tGaruda-7" in docx_text and "naskah / draft" not in docx_text  # the table, not the header

    for question, doc_id in (("Berapa kapasitas pabrik insulin Zamrud Biofarma?", "zamrud"),
                             ("How many tuberculosis test kits will Nusantara Diagnostik make?", "nusantara"),
                             ("Berapa harga robot bedah Garuda-7?", "kenanga"), ("Berapa gerai Apotek Sehat Lestari?", "obat"),
                             ("Vaksin dengue Bio Parahyangan", "catatan"), ("Klinik apung Lentera Maluku", "kabar-1")):
        found = json.loads(rag("search", question, "--k", "1", "--json", corpus=corpus, index=index).stdout)
        assert found["passages"][0]["doc_id"] == doc_id, question
    answer = json.loads(rag("ask", "Siapa Direktur Utama Zamrud Biofarma?", "--json", corpus=corpus, index=index).stdout)
    assert "Sekar Ayuningtyas" in answer["answer"] and answer["citations"][0]["doc_id"] == "zamrud"

    again = rag("add", str(inbox), corpus=corpus, index=index)  # nothing new: every file a duplicate
    assert again.returncode == 1
    assert "skipped zamrud.html: duplicate of zamrud (the same text is in the corpus)" in again.stdout
    assert "skipped kabar.jsonl: no new document in it (line 1: the id 'kabar-1' is in the corpus already)" in again.stdout


def zip_bomb_docx(path, megabytes=300):
    """A real DOCX whose word/document.xml inflates to `megabytes` MiB (about 0.3 MiB on disk)."""
    news_docx(DOCX_ARTICLE, path.with_suffix(".seed.docx"))
    with zipfile.ZipFile(path.with_suffix(".seed.docx")) as seed, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in seed.infolist():
            if item.filename != "word/document.xml":
                bomb.writestr(item, seed.read(item))
        with bomb.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(seed.read("word/document.xml")[:-20])
            block = b"<w:p/>" * (1 << 17)  # 768 KiB
            for _ in range(megabytes * 4 // 3):
                part.write(block)
    path.with_suffix(".seed.docx").unlink()
    return path


def empty_pages_pdf(path, pages):
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(612, 792)
    writer.write(str(path))
    return path


def test_bombs_and_bad_files_are_refused_with_their_reason(corpus, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    zip_bomb_docx(bad / "bomb.docx")
    assert (bad / "bomb.docx").stat().st_size < 2 << 20
    empty_pages_pdf(bad / "pages.pdf", 10_000)
    (bad / "huge.html").write_bytes(b"<html><body>" + b"<p>berita</p>" * 700_000 + b"</body></html>")  # 9.3 MB
    random = os.urandom(20_000)
    (bad / "random.pdf").write_bytes(random)
    (bad / "random.docx").write_bytes(random)
    (bad / "fake.docx").write_bytes(b"PK\x03\x04" + random)  # a ZIP's signature, nothing after
    with zipfile.ZipFile(bad / "notword.docx", "w") as z:
        z.writestr("hello.txt", "a ZIP, not a Word document")
    (bad / "damaged.pdf").write_bytes(b"%PDF-1.7\n" + random)
    empty_pages_pdf(bad / "scanned.pdf", 2)
    (bad / "latin1.txt").write_bytes("Caf\xe9 berita".encode("latin-1"))
    (bad / "program.exe").write_bytes(b"MZ" + random)
    (bad / "app-shell.html").write_text('<html><head><title>Berita</title><script src="/app.js"></script></head>'
                                        '<body><div id="root"></div><script>render("#root")</script></body></html>')

    started = time.monotonic()
    outcomes = {o.name: o for o in Adder(corpus).add_all([bad])}
    assert time.monotonic() - started < 60
    reasons = {name: o.reason for name, o in outcomes.items()}
    assert not any(o.added for o in outcomes.values()), [(o.name, o.reason, o.stored) for o in outcomes.values()]
    assert reasons["bomb.docx"].startswith("refused: zip bomb: word/document.xml expands to 300 MiB from")
    assert reasons["pages.pdf"] == "refused: 10,000 pages (the limit is 2,000)"
    assert reasons["huge.html"] == f"too large ({(bad / 'huge.html').stat().st_size:,} bytes; the limit is 8,388,608)"
    for name in ("random.pdf", "random.docx", "fake.docx", "notword.docx", "damaged.pdf", "latin1.txt"):
        assert reasons[name].startswith("could not read: "), (name, reasons[name])
    assert reasons["random.docx"] == "could not read: not a DOCX (not a ZIP archive)"
    assert reasons["notword.docx"] == "could not read: not a DOCX (a ZIP without word/document.xml)"
    assert reasons["scanned.pdf"].startswith("empty text")
    assert reasons["app-shell.html"].startswith("empty text")  # a page its scripts would fill
    assert reasons["program.exe"].startswith("unsupported type '.exe'")
    assert sorted(p.name for p in corpus.iterdir()) == sorted(p.name for p in CORPUS.iterdir() if p.is_file())

    out = rag("add", str(bad / "pages.pdf"), str(bad / "bomb.docx"), corpus=corpus, index=tmp_path / "index")
    assert out.returncode == 1 and "0 of 2 file(s) added" in out.stdout and not (tmp_path / "index").exists()


def test_extraction_has_a_time_budget(corpus, tmp_path):
    """1,999 pages of text (under the page limit) take PDFium seconds to read: with a 0.5 s budget
    the child process is killed and the file skipped."""
    from pypdf import PdfReader, PdfWriter

    news_pdf(PDF_ARTICLE, tmp_path / "two.pdf")
    two, writer = PdfReader(tmp_path / "two.pdf"), PdfWriter()
    for number in range(1999):
        writer.add_page(two.pages[number % 2])
    writer.write(tmp_path / "long.pdf")
    started = time.monotonic()
    outcome = Adder(corpus, budget_s=0.5).add(tmp_path / "long.pdf")
    assert outcome.reason == "extraction failed: extraction took longer than 0.5 s"
    assert time.monotonic() - started < 5 and not (corpus / "long.txt").exists()


def test_names_and_links_cannot_leave_the_corpus_folder(corpus, tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("Sebuah artikel tentang jamu gendong di Solo yang dijual di 300 pasar.", encoding="utf-8")
    outside = tmp_path / "outside.txt"
    outside.write_text("not to be touched", encoding="utf-8")
    (corpus / "evil.txt").symlink_to(outside)  # a link waiting under the name the upload asks for
    adder = Adder(corpus)
    outcome = adder.add(source, name="../../evil.txt")
    assert outcome.added and outcome.stored == ["evil-2.txt"] and outside.read_text() == "not to be touched"
    source.write_text("Artikel kedua: pabrik masker di Cikarang memproduksi 2 juta masker.", encoding="utf-8")
    assert adder.add(source, name="C:\\berkas\\laporan\u202etxt.exe.md").stored == ["laporan-txt.exe.md"]
    source.write_text("Artikel ketiga tentang apotek digital.", encoding="utf-8")
    assert adder.add(source, name=".hidden").reason.startswith("unsupported type")
    assert adder.add(source, name="README.txt").stored == ["README-document.txt"]

    folder = tmp_path / "given"
    folder.mkdir()
    (folder / "link.txt").symlink_to(outside)
    outcomes = adder.add_all([folder])
    assert outcomes[0].reason.startswith("a symbolic link out of the folder")
    assert {p.name for p in corpus.iterdir()} - {p.name for p in CORPUS.iterdir()} == {
        "evil.txt", "evil-2.txt", "laporan-txt.exe.md", "README-document.txt"}
    assert not [p for p in corpus.iterdir() if p.name.startswith(".tmp-add-")]
