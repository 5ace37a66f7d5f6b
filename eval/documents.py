"""Realistic news documents made from a known article: an HTML page with its site around it, a
two-page PDF and a DOCX with core properties. `python -m eval.extractors` scores text extractors
on them against the article; tests make their upload and `rag add` samples with them.

Every maker takes an Article and writes what a newsroom would receive: the article text is the
only thing an extractor should give back (plus the title for PDF and DOCX, which print it).
"""
from __future__ import annotations

import datetime
import html
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Article:
    title: str
    paragraphs: tuple[str, ...]
    outlet: str
    date: str  # ISO
    lang: str = "id"
    author: str = "Redaksi"

    @property
    def body(self) -> str:
        return "\n".join(self.paragraphs)


def seed_articles(corpus: Path | None = None) -> list[Article]:
    """The seed corpus's articles, each with its title, paragraphs (its lines), outlet and date."""
    from rag.config import PROJECT_ROOT
    from rag.ingest.corpus import load_corpus

    articles = []
    for doc in load_corpus(corpus or PROJECT_ROOT / "corpus").documents:
        lines = [line.strip() for line in doc.text.splitlines() if line.strip()]
        if lines and lines[0] == doc.title:
            lines = lines[1:]
        articles.append(Article(doc.title, tuple(lines), doc.source or "Warta Daily", doc.date or "2025-12-01",
                                doc.lang))
    return articles


# Fonts without emoji: PDF samples print the article without the characters the font lacks.
_NO_GLYPH = re.compile("[\U00010000-\U0010ffff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]")


def printable(article: Article) -> Article:
    """The article as a PDF made with DejaVu prints it (no emoji)."""
    def clean(text: str) -> str:
        return re.sub(r" {2,}", " ", _NO_GLYPH.sub("", text)).strip()

    return Article(clean(article.title), tuple(p for p in map(clean, article.paragraphs) if p), article.outlet,
                   article.date, article.lang, article.author)


# --- HTML: three page layouts a newsroom meets -------------------------------------------------
_NAV = ["Home", "Nasional", "Internasional", "Bisnis", "Sport", "Seleb", "Lifestyle", "Otomotif", "Video", "Indeks"]
_HEADLINES = ["Harga emas Antam hari ini naik Rp 12.000 per gram", "Jadwal KRL Commuter Line akhir pekan berubah",
              "Timnas U-23 lolos ke semifinal Piala Asia", "BMKG: hujan lebat di Jabodetabek sore ini",
              "Rupiah menguat tipis terhadap dolar AS"]


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _head(article: Article, suffix: str) -> str:
    return (f'<!DOCTYPE html><html lang="{article.lang}"><head><meta charset="utf-8">'
            f"<title>{_e(article.title)}{suffix}</title>"
            f'<meta property="og:site_name" content="{_e(article.outlet)}">'
            f'<meta property="og:title" content="{_e(article.title)}">'
            f'<meta property="article:published_time" content="{article.date}T09:30:00+07:00">'
            '<meta name="viewport" content="width=device-width">'
            "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}</script>"
            "<style>body{font-family:sans-serif}.ads{min-height:250px}</style></head>")


def _portal(article: Article) -> str:
    """An Indonesian news portal: menu, breaking-news ticker, ads inside the article, 'Baca juga'
    links between paragraphs, tags, share buttons, related stories, comments, most-read, footer."""
    nav = "".join(f'<li><a href="/{n.lower()}">{n}</a></li>' for n in _NAV)
    paragraphs = []
    for i, p in enumerate(article.paragraphs):
        paragraphs.append(f"<p>{_e(p)}</p>")
        if i == 1:
            paragraphs.append(f'<p class="baca"><strong>Baca juga: <a href="/b/1">{_HEADLINES[0]}</a></strong></p>')
        if i == 3:
            paragraphs.append('<div class="ads ads-inarticle"><span>ADVERTISEMENT</span>'
                              '<ins class="adsbygoogle" data-ad-slot="123"></ins>'
                              "<script>(adsbygoogle=window.adsbygoogle||[]).push({});</script></div>")
    related = "".join(f'<li><a href="/r/{i}">{h}</a></li>' for i, h in enumerate(_HEADLINES))
    return (_head(article, f" - {article.outlet}") +
            f'<body><header><div class="topbar"><a href="/login">Masuk</a> | <a href="/daftar">Daftar</a></div>'
            f'<div class="logo"><a href="/">{_e(article.outlet)}</a></div><nav><ul>{nav}</ul></nav>'
            f'<div class="breaking">Breaking News: {_HEADLINES[1]} | {_HEADLINES[2]}</div></header>'
            '<div class="ads ads-top"><span>ADVERTISEMENT</span><ins class="adsbygoogle"></ins></div>'
            '<main><div class="breadcrumb"><a href="/">Home</a> › <a href="/bisnis">Bisnis</a></div>'
            f'<article><h1>{_e(article.title)}</h1><div class="byline">Penulis: {_e(article.author)} | '
            f'Editor: Sanusi</div><time datetime="{article.date}">{article.date} 09:30 WIB</time>'
            '<figure><img src="/foto.jpg" alt="ilustrasi"><figcaption>Foto ilustrasi. (Dok. Humas)</figcaption>'
            f'</figure><div class="txt-article">{"".join(paragraphs)}</div>'
            '<div class="tags">Tags: <a href="/tag/farmasi">farmasi</a> <a href="/tag/industri">industri</a></div>'
            '<div class="share">Bagikan: <a>Facebook</a> <a>Twitter</a> <a>WhatsApp</a> <a>Salin tautan</a></div>'
            f'</article><section class="related"><h3>Berita Terkait</h3><ul>{related}</ul></section>'
            '<section class="comments"><h3>Komentar (2)</h3><div class="comment"><b>budi_s</b>'
            "<p>Semoga industri farmasi kita makin maju, jangan cuma jadi pasar.</p></div>"
            '<div class="comment"><b>rina88</b><p>Harga obat semoga ikut turun ya.</p></div></section></main>'
            f'<aside><h3>Terpopuler</h3><ol>{related}</ol><div class="ads"><span>ADVERTISEMENT</span></div></aside>'
            f"<footer><p>Copyright © 2026 {_e(article.outlet)}. All rights reserved.</p>"
            '<ul><li><a href="/redaksi">Redaksi</a></li><li><a href="/pedoman">Pedoman Media Siber</a></li>'
            '<li><a href="/privasi">Kebijakan Privasi</a></li><li><a href="/kontak">Kontak</a></li></ul>'
            "</footer></body></html>")


def _magazine(article: Article) -> str:
    """An English-language outlet: cookie banner, section menu, newsletter box in the article,
    'Most read' sidebar, author bio, footer."""
    body = [f"<p>{_e(p)}</p>" for p in article.paragraphs]
    body.insert(min(3, len(body)), '<aside class="newsletter"><h4>Get the morning briefing</h4>'
                '<p>Sign up for our newsletter and never miss a story.</p><form><input type="email">'
                "<button>Subscribe</button></form></aside>")
    most_read = "".join(f"<li><a href='/m/{i}'>{h}</a></li>" for i, h in enumerate(
        ["Jakarta's MRT extension opens next month", "Five things to know about the new tax rules",
         "Why nickel prices keep falling", "Opinion: the rupiah and the Fed"]))
    return (_head(article, f" | {article.outlet}") +
            '<body><div id="cookie-banner"><p>We use cookies to improve your experience. By continuing you '
            "accept our cookie policy.</p><button>Accept all</button></div>"
            f'<header><a class="brand" href="/">{_e(article.outlet)}</a><nav><a href="/world">World</a> '
            '<a href="/business">Business</a> <a href="/health">Health</a> <a href="/opinion">Opinion</a> '
            '<a href="/subscribe">Subscribe</a></nav></header>'
            f'<div class="content"><article><header><p class="kicker">Health</p><h1>{_e(article.title)}</h1>'
            f'<p class="author">By {_e(article.author)}</p><p class="date">{article.date}</p>'
            '<div class="share"><a>Share</a><a>Tweet</a><a>Email</a></div></header>'
            f'<div class="article-body">{"".join(body)}</div>'
            f'<footer class="bio"><p>{_e(article.author)} covers health and industry for {_e(article.outlet)}.</p>'
            '</footer></article>'
            f'<div class="sidebar"><h3>Most read</h3><ol>{most_read}</ol>'
            '<div class="ad"><iframe src="/ads/300x250"></iframe></div></div></div>'
            f"<footer><p>© 2026 {_e(article.outlet)} Media Group</p><p><a>About us</a> · <a>Contact</a> · "
            "<a>Terms of use</a> · <a>Privacy</a></p></footer></body></html>")


def _legacy(article: Article) -> str:
    """An older CMS: a table layout, the article as one div of text separated by <br><br>."""
    body = "<br><br>\n".join(_e(p) for p in article.paragraphs)
    links = " | ".join(f'<a href="/{n.lower()}">{n}</a>' for n in _NAV[:6])
    return (_head(article, "") +
            f'<body><table width="100%"><tr><td colspan="2"><b>{_e(article.outlet)}</b> — Portal berita terpercaya'
            f"<br>{links}</td></tr><tr><td width=\"70%\" valign=\"top\">"
            f'<div class="judul"><h2>{_e(article.title)}</h2></div><div class="tanggal">{article.date}</div>'
            f'<div class="isi">{body}</div>'
            '<div class="baca">(red)</div></td><td valign="top"><b>Berita lainnya</b><br>'
            + "<br>".join(f"<a href='/x/{i}'>{h}</a>" for i, h in enumerate(_HEADLINES)) +
            f"</td></tr><tr><td colspan=\"2\"><small>Hak cipta © {_e(article.outlet)}. Dilarang mengutip "
            "tanpa izin.</small></td></tr></table></body></html>")


HTML_LAYOUTS = {"portal": _portal, "magazine": _magazine, "legacy": _legacy}


def news_html(article: Article, layout: str = "portal") -> str:
    return HTML_LAYOUTS[layout](article)


# --- PDF: two pages, as a press release or an e-paper page ------------------------------------
def _font_dir() -> Path:
    # DejaVu ships with matplotlib (a dependency), so a sample never depends on the system's fonts.
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def news_pdf(article: Article, path: Path, columns: int = 1, pages: int = 2) -> Path:
    """`article` as a PDF of `pages` pages (the font size is chosen so the text fills them), with
    the outlet in a running header, page numbers in the footer, title/author/date metadata, the
    body justified (1 column) or in `columns` columns."""
    for size in [s / 2 for s in range(40, 9, -1)]:  # 20 pt down to 5 pt: the largest that fits
        pdf = _pdf(article, columns, size)
        if pdf.pages_count <= pages:
            break
    pdf.output(str(path))
    return path


def _pdf(article: Article, columns: int, size: float):
    from fpdf import FPDF

    class Paper(FPDF):
        def header(self):
            self.set_font("serif", "", 8)
            self.cell(0, 6, f"{article.outlet} · {article.date}", align="R", new_x="LMARGIN", new_y="NEXT")

        def footer(self):
            self.set_y(-12)
            self.set_font("serif", "", 8)
            self.cell(0, 6, f"Halaman {self.page_no()} / {{nb}}", align="C")

    pdf = Paper(format="A4")
    fonts = _font_dir()
    pdf.add_font("serif", "", fonts / "DejaVuSerif.ttf")
    pdf.add_font("serif", "B", fonts / "DejaVuSerif-Bold.ttf")
    pdf.set_title(article.title)
    pdf.set_author(article.author)
    pdf.set_creation_date(datetime.datetime.fromisoformat(article.date + "T09:30:00+07:00"))
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("serif", "B", size + 6)
    pdf.multi_cell(0, (size + 6) * 0.5, article.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("serif", "", size)
    if columns == 1:
        for p in article.paragraphs:
            pdf.multi_cell(0, size * 0.5, p, align="J", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(size * 0.25)
    else:
        with pdf.text_columns(ncols=columns, text_align="J", gutter=8) as cols:
            for p in article.paragraphs:
                cols.write(p + "\n")
    return pdf


# --- DOCX: a newsroom's draft with its core properties ------------------------------------------
def news_docx(article: Article, path: Path, fact_box: dict[str, str] | None = None) -> Path:
    """`article` as a Word document: a Title-style heading, the body paragraphs, an optional
    two-column fact box (a table) after the second paragraph, a page header naming the outlet;
    core properties title, author and created date."""
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title, props.author = article.title, article.author
    props.created = datetime.datetime.fromisoformat(article.date + "T09:30:00")
    document.sections[0].header.paragraphs[0].text = f"{article.outlet} — naskah / draft"
    document.add_paragraph(article.title, style="Title")
    for i, p in enumerate(article.paragraphs):
        document.add_paragraph(p)
        if i == 1 and fact_box:
            table = document.add_table(rows=0, cols=2)
            for key, value in fact_box.items():
                cells = table.add_row().cells
                cells[0].text, cells[1].text = key, value
    document.save(str(path))
    return path
