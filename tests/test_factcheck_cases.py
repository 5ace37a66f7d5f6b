"""The fact-check failures reported in issue 16, one case each, as the checker should behave.

Every case checks a claim against the seed corpus and asserts the verdict; a contradiction must
name, in its explanation, the claim's figure (or name) as the claim writes it AND the corpus's as
the article writes it ("tripled" and "fourfold", "2021" and "2023"), and its first evidence quote
must hold the corpus's side. Evidence quotes are always verbatim document text.

The facts, from corpus/:
  000 (en)  MiLab: first container of Dermatix to China on 4 December 2025; China is its 12th
            international market; production began in 2020, exports in 2023 starting with South
            Korea; projected annual exports of 9.3 million units by 2030.
  002 (id)  Shijiazhuang visit: "Walikota Shijiazhuang Wang Xiankun, Direktur Hebei MPA Fengshan
            Wang"; Kalbe Farma and CSPC signed the NBP agreement; NBP used by "lebih dari 40 juta
            pasien".
  003 (id)  BPOM in China: cooperation worth "Rp10 triliun" over 5 years; Innovax (hepatitis and HPV
            vaccines) and CanSino (inhaled vaccine); the Health & Life Science Summit 2025 in Shanghai.
  001 (id)  Kementerian Perindustrian (Kemenperin) received the Biotown proposal.
  004 (en)  Korea's new drug development "surged fourfold"; the symposium featured "three
            presentation sessions".

Every case runs with the bundled multilingual model (`seed_bundled`, hybrid retrieval); a few
same-language claims with figures also run model-free (`seed_warta`).
"""
import re

import pytest

from tests.conftest import on_both_backends

# Every case runs on both index backends: local files, and PostgreSQL + pgvector.
seed_bundled = on_both_backends("seed_bundled")
seed_warta = on_both_backends("seed_warta")

VERDICTS = ("supported", "contradicted", "not_found")


# ---------------------------------------------------------------------------------------- helpers

# Cases the checker still gets wrong, and why: strict, so a fix shows up as a failure to update.
KNOWN_GAPS = {
    "MiLab mulai mengekspor produknya ke pasar luar negeri pada 2021, dimulai dengan Korea Selatan.":
        "retrieval: the passage with the export year ranks 16th for this long cross-lingual claim",
    "Kepala BPOM bertemu Walikota Shijiazhuang Wang Xiankun di markas besar CSPC di Beijing.":
        "knowing that CSPC's headquarters are in Shijiazhuang takes more than the sentence says",
    "Singapore was MiLab's first export market.":
        "reading 'starting with South Korea' as 'first' needs entailment, which no rule here gives",
}


def _rows(table):
    """Parametrize rows named by their claim (a row is a claim, or a tuple starting with one)."""
    def param(row):
        claim = row[0] if isinstance(row, tuple) else row
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[claim])] if claim in KNOWN_GAPS else []
        return pytest.param(*(row if isinstance(row, tuple) else (row,)), id=claim, marks=marks)
    return [param(row) for row in table]


def _alternatives(wanted) -> tuple[str, ...]:
    """A figure or name to find: one string, or a tuple of the ways the article writes it."""
    return (wanted,) if isinstance(wanted, str) else tuple(wanted)


def _names(text: str, wanted) -> bool:
    return any(w in text for w in _alternatives(wanted))


def _check(warta, claim: str):
    """The verdict for `claim`, after checking what every verdict must hold: a known verdict and
    verbatim evidence quotes."""
    result = warta.check(claim)
    assert result.verdict in VERDICTS, result
    documents = {d.doc_id: d.text for d in warta.index.documents.values()}
    for c in result.evidence:
        assert documents[c.doc_id][c.start:c.end] == c.quote, c
    return result


def _describe(result) -> str:
    quote = result.evidence[0].quote if result.evidence else None
    return (f"verdict={result.verdict!r} rule={result.rule!r}\n  explanation={result.explanation!r}\n"
            f"  differences={result.differences!r}\n  first quote={quote!r}")


def assert_contradicted(result, claimed, found, not_named=()):
    """Contradicted, naming the claim's side as the claim writes it and the corpus's side as the
    article writes it; the first quote holds the corpus's side."""
    why = _describe(result)
    assert result.verdict == "contradicted", why
    assert _names(result.explanation, claimed), f"the explanation does not name the claim's {claimed!r}\n{why}"
    assert _names(result.explanation, found), f"the explanation does not name the corpus's {found!r}\n{why}"
    assert result.evidence and _names(result.evidence[0].quote, found), f"the first quote lacks {found!r}\n{why}"
    for absent in not_named:
        assert absent not in result.explanation, f"the explanation names {absent!r}\n{why}"


def assert_supported(result, found):
    why = _describe(result)
    assert result.verdict == "supported", why
    assert result.evidence and _names(result.evidence[0].quote, found), f"the first quote lacks {found!r}\n{why}"


def assert_no_bare_currency_name(result):
    """The old bug: "the corpus names Kepala BPOM, Rp10, the claim names Rp". A currency sign is
    part of an amount, never a name of its own."""
    why = _describe(result)
    assert result.rule != "name", why
    for d in result.differences:
        for side in (d.get("claim", ""), d.get("corpus", "")):
            parts = [p.strip() for p in side.split(",")]
            assert not any(re.fullmatch(r"(?:Rp|IDR)\.?", p) for p in parts), why
    # "Rp" / "IDR" in the explanation only as part of an amount ("Rp 15 triliun", "Rp10 triliun")
    assert not re.search(r"\b(?:Rp|IDR)\b(?!\.?\s*\d)", result.explanation), why


# ------------------------------------------------------------ multiples: "tripled" is not "fourfold"

MULTIPLES_CONTRADICTED = [
    ("Korea's new drug development has tripled in the past five years.", "tripled", "fourfold"),
    ("Korea's new drug development has doubled in the past five years.", "doubled", "fourfold"),
    ("Pengembangan obat baru Korea meningkat tiga kali lipat dalam lima tahun terakhir.", "tiga kali lipat", "fourfold"),
]
MULTIPLES_SUPPORTED = [(claim, "fourfold") for claim in (
    "Korea's new drug development has quadrupled in the past five years.",
    "Korea's new drug development has increased fourfold in the past five years.",
    "Pengembangan obat baru Korea meningkat empat kali lipat dalam lima tahun terakhir.",
)]


# ------------------------------------------------------ rupiah amounts in every way they are written

RP10 = "Rp10 triliun"
BPOM_SUPPORTED = [(claim, RP10) for claim in (
    "Kepala BPOM menyebut potensi nilai ekonomi kerja sama Indonesia dan Tiongkok mencapai Rp 10 triliun dalam 5 tahun ke depan.",
    "Kepala BPOM menyebut potensi nilai ekonomi kerja sama Indonesia dan Tiongkok mencapai Rp. 10 triliun dalam 5 tahun ke depan.",
    "Kepala BPOM menyebut potensi nilai ekonomi kerja sama Indonesia dan Tiongkok mencapai Rp10.000.000.000.000 dalam 5 tahun ke depan.",
    "Kepala BPOM menyebut potensi nilai ekonomi kerja sama Indonesia dan Tiongkok mencapai 10 triliun rupiah dalam 5 tahun ke depan.",
    "Kepala BPOM menyebut potensi nilai ekonomi kerja sama Indonesia dan Tiongkok mencapai IDR 10 triliun dalam 5 tahun ke depan.",
    "The head of BPOM projects the economic value of Indonesia-China cooperation at IDR 10 trillion over the next five years.",
    "The head of BPOM projects the economic value of Indonesia-China cooperation at Rp 10 trillion over the next five years.",
    "The head of BPOM projects the economic value of Indonesia-China cooperation at 10 trillion rupiah over the next five years.",
)]
BPOM_CONTRADICTED = [
    ("Kepala BPOM menyebut potensi nilai ekonomi kerja sama Indonesia dan Tiongkok mencapai Rp 15 triliun dalam 5 tahun ke depan.",
     "Rp 15 triliun", RP10),
    ("Kepala BPOM menyebut potensi nilai ekonomi kerja sama Indonesia dan Tiongkok mencapai Rp. 15 triliun dalam 5 tahun ke depan.",
     "Rp. 15 triliun", RP10),
    ("The head of BPOM projects the economic value of Indonesia-China cooperation at IDR 15 trillion over the next five years.",
     "IDR 15 trillion", RP10),
]


# ------------------------------------------------- absurd, negative and scientific-notation figures

EXPORTS = "MiLab projects annual exports of {} by 2030."
ODD_FIGURES_CONTRADICTED = [
    (EXPORTS.format("1e308 units"), "1e308", "9.3 million units"),
    (EXPORTS.format("-9.3 million units"), "-9.3 million", "9.3 million units"),
    ("MiLab menargetkan ekspor tahunan sebesar -9,3 juta unit pada 2030.", "-9,3 juta", "9.3 million units"),
]
ODD_FIGURES_SUPPORTED = [(EXPORTS.format("9.3e6 units"), "9.3 million units")]


# ----------------------------------------------------------------- dates in every way they are written

SHIPPED = "MiLab shipped its first container of Dermatix to China on {}."
DIKIRIM = "MiLab mengirim kontainer pertama Dermatix ke Tiongkok pada {}."
DATES_SUPPORTED = [(claim, "4 December 2025") for claim in (
    SHIPPED.format("2025-12-04"),
    SHIPPED.format("December 4, 2025"),
    DIKIRIM.format("04/12/2025"),  # day/month, as Indonesian writes it
    DIKIRIM.format("4 Desember 2025"),
    DIKIRIM.format("2025-12-04"),
)]
DATES_CONTRADICTED = [
    (SHIPPED.format("31 February 2025"), "31 February 2025", "4 December 2025"),  # no such day
    (SHIPPED.format("14 December 2025"), "14 December 2025", "4 December 2025"),
]


# --------------------------------------------------------------- bounds: "less than" is not "more than"

BOUNDS_CONTRADICTED = [
    ("Obat NBP telah digunakan oleh kurang dari 40 juta pasien di seluruh dunia.", "kurang dari 40 juta", "lebih dari 40 juta"),
    ("NBP has been used by fewer than 40 million patients worldwide.", "fewer than 40 million", "lebih dari 40 juta"),
]
BOUNDS_SUPPORTED = [(claim, "lebih dari 40 juta") for claim in (
    "Obat NBP telah digunakan oleh lebih dari 40 juta pasien di seluruh dunia.",
    "NBP has been used by more than 40 million patients worldwide.",
)]


# ------------------------------------- every figure table: the verdict, both sides named, no stray name

CONTRADICTED = MULTIPLES_CONTRADICTED + BPOM_CONTRADICTED + ODD_FIGURES_CONTRADICTED + DATES_CONTRADICTED + BOUNDS_CONTRADICTED
SUPPORTED = MULTIPLES_SUPPORTED + BPOM_SUPPORTED + ODD_FIGURES_SUPPORTED + DATES_SUPPORTED + BOUNDS_SUPPORTED


@pytest.mark.parametrize("claim, claimed, found", _rows(CONTRADICTED))
def test_a_wrong_figure_is_contradicted_naming_both_sides(seed_bundled, claim, claimed, found):
    result = _check(seed_bundled, claim)
    assert_no_bare_currency_name(result)  # the figure decides, never a stray "name" like "Rp" or "February"
    assert_contradicted(result, claimed, found)


@pytest.mark.parametrize("claim, found", _rows(SUPPORTED))
def test_the_same_figure_written_otherwise_is_supported(seed_bundled, claim, found):
    result = _check(seed_bundled, claim)
    assert_no_bare_currency_name(result)
    assert_supported(result, found)


# -------------------------------------------- a true claim plus a figure the corpus never gives

EXTRA_FIGURE = [
    ("MiLab shipped its first container of Dermatix to China on 4 December 2025, and prices fell -5 %.", "-5 %"),
    ("MiLab projects annual exports of 9.3 million units by 2030, creating 2,500 new jobs.", "2,500"),
    ("Obat NBP telah digunakan oleh lebih dari 40 juta pasien di seluruh dunia dengan harga Rp 50.000 per tablet.",
     "Rp 50.000"),
]


@pytest.mark.parametrize("claim, extra", _rows(EXTRA_FIGURE))
def test_an_extra_figure_the_corpus_never_gives_is_not_found(seed_bundled, claim, extra):
    result = _check(seed_bundled, claim)
    why = _describe(result)
    assert result.verdict == "not_found", why  # never contradicted: nothing in the corpus disagrees
    assert extra in result.explanation, f"the explanation does not name {extra!r}\n{why}"


# ----------------------------------------- the figure of the claim's event, not of a neighbouring one

WHICH_EVENT = [
    # 000: production began in 2020, exports in 2023: the export year answers, never the production one
    ("MiLab mulai mengekspor Dermatix pada 2021.", "2021", "2023", ("2020",)),
    ("MiLab mulai mengekspor produknya ke pasar luar negeri pada 2021, dimulai dengan Korea Selatan.", "2021", "2023", ("2020",)),
    ("MiLab began exporting in 2021.", "2021", "2023", ("2020",)),
    # 004: the counted thing is named with the figure on both sides
    ("Simposium Indonesia-Korea 2024 menampilkan lima sesi presentasi.", "lima sesi presentasi",
     "three presentation sessions", ()),
    ("The 2024 Indonesia-Korea Joint Symposium featured five presentation sessions.", "five presentation sessions",
     "three presentation sessions", ()),
]


@pytest.mark.parametrize("claim, claimed, found, not_named", _rows(WHICH_EVENT))
def test_the_figure_of_the_claims_own_event_decides(seed_bundled, claim, claimed, found, not_named):
    assert_contradicted(_check(seed_bundled, claim), claimed, found, not_named)


# ---------------------------------------------------- not found, but the closest passages are shown

NOT_FOUND_ON_A_COVERED_SUBJECT = [
    "MiLab berencana membangun pabrik kedua di Batam.",
    "Dermatix Ultra will retail in Chinese pharmacies for 150 yuan per tube.",
    "MiLab plans to open a research centre in Cikarang in 2027.",
]


@pytest.mark.parametrize("claim", _rows(NOT_FOUND_ON_A_COVERED_SUBJECT))
def test_not_found_shows_the_closest_passages(seed_bundled, claim):
    result = _check(seed_bundled, claim)
    assert result.verdict == "not_found", _describe(result)
    assert result.evidence, f"no closest passage shown\n{_describe(result)}"


# ------------------------------------------------------------------------------ roles and relations

ROLES = [
    # (claim, verdicts the article allows, claim's side, corpus's side); 002: "Walikota Shijiazhuang
    # Wang Xiankun, Direktur Hebei MPA Fengshan Wang"
    ("Fengshan Wang adalah Walikota Shijiazhuang.", ("contradicted",), "Fengshan Wang", "Wang Xiankun"),
    ("Wang Xiankun adalah Direktur Hebei MPA.", ("contradicted",), "Wang Xiankun", "Fengshan Wang"),
    ("Shijiazhuang mayor Fengshan Wang welcomed the head of BPOM at CSPC headquarters.", ("contradicted",),
     "Fengshan Wang", "Wang Xiankun"),
    # another organisation doing what the article attributes to one
    ("BPOM mengapresiasi teknologi vaksin inhalasi dari Innovax.", ("contradicted",), "Innovax", "CanSino"),  # 003
    ("BPOM mengapresiasi inovasi vaksin hepatitis dan HPV dari CanSino.", ("contradicted",), "CanSino", "Innovax"),  # 003
    ("Kalbe Farma dan Innovax menandatangani License and Exclusive Supply Agreement untuk NBP.", ("contradicted",),
     "Innovax", "CSPC"),  # 002
    ("BPOM menerima proposal pembangunan kawasan industri Biotown.", ("contradicted",), "BPOM",
     ("Kementerian Perindustrian", "Kemenperin")),  # 001
    # a city in place of another
    ("Kepala BPOM menghadiri Health & Life Science Summit 2025 di Beijing.", ("contradicted",), "Beijing", "Shanghai"),  # 003
    ("The head of BPOM attended the Health & Life Science Summit 2025 in Beijing.", ("contradicted",), "Beijing", "Shanghai"),
    # 002: the meeting was at CSPC headquarters in Shijiazhuang; "BEIJING" is only the dateline
    ("Kepala BPOM bertemu Walikota Shijiazhuang Wang Xiankun di markas besar CSPC di Beijing.", ("contradicted",),
     "Beijing", "Shijiazhuang"),
    # 000: China is MiLab's 12th international market; exports started with South Korea
    ("China is MiLab's first international market.", ("contradicted",), "first", "12th"),
    ("Tiongkok adalah pasar internasional pertama MiLab.", ("contradicted",), "pertama", "12th"),
    ("Singapore was MiLab's first export market.", ("contradicted",), "Singapore", "South Korea"),
    # named first in a list is not first in time: the article never says which came first
    ("ISO 14001 was the first certification MiLab's plant obtained.", ("not_found",), None, None),
    ("Innovax adalah perusahaan pertama yang dikunjungi BPOM di Tiongkok.", ("not_found",), None, None),
]


@pytest.mark.parametrize("claim, allowed, claimed, found", _rows(ROLES))
def test_a_swapped_role_or_relation_is_never_supported(seed_bundled, claim, allowed, claimed, found):
    result = _check(seed_bundled, claim)
    why = _describe(result)
    assert result.verdict != "supported", why
    assert result.verdict in allowed, why
    if result.verdict == "contradicted":
        assert_contradicted(result, claimed, found)


@pytest.mark.xfail(strict=True, reason=KNOWN_GAPS["Singapore was MiLab's first export market."])
def test_the_first_market_the_article_names_as_first_is_supported(seed_bundled):
    """The control for the "first market" cases: 000 says exports started with South Korea."""
    assert_supported(_check(seed_bundled, "South Korea was MiLab's first export market."), "starting with South Korea")


# ------------------------------------------------- model-free: same-language claims with figures

MODEL_FREE = [
    # (claim, verdict, claim's side or None, corpus's side)
    ("Korea's new drug development has tripled in the past five years.", "contradicted", "tripled", "fourfold"),
    ("Korea's new drug development has quadrupled in the past five years.", "supported", None, "fourfold"),
    (EXPORTS.format("1e308 units"), "contradicted", "1e308", "9.3 million units"),
    (EXPORTS.format("-9.3 million units"), "contradicted", "-9.3 million", "9.3 million units"),
    (EXPORTS.format("9.3e6 units"), "supported", None, "9.3 million units"),
    (SHIPPED.format("2025-12-04"), "supported", None, "4 December 2025"),
    (SHIPPED.format("December 4, 2025"), "supported", None, "4 December 2025"),
    (SHIPPED.format("31 February 2025"), "contradicted", "31 February 2025", "4 December 2025"),
    (BPOM_SUPPORTED[0][0], "supported", None, RP10),
    (BPOM_SUPPORTED[2][0], "supported", None, RP10),
    (BPOM_CONTRADICTED[0][0], "contradicted", "Rp 15 triliun", RP10),
    ("Obat NBP telah digunakan oleh kurang dari 40 juta pasien di seluruh dunia.", "contradicted",
     "kurang dari 40 juta", "lebih dari 40 juta"),
    ("The 2024 Indonesia-Korea Joint Symposium featured five presentation sessions.", "contradicted",
     "five presentation sessions", "three presentation sessions"),
]


@pytest.mark.parametrize("claim, verdict, claimed, found", _rows(MODEL_FREE))
def test_same_language_figures_model_free(seed_warta, claim, verdict, claimed, found):
    result = _check(seed_warta, claim)
    assert result.rule != "name", _describe(result)  # each of these turns on a figure
    if "Rp" in claim:
        assert_no_bare_currency_name(result)
    if verdict == "supported":
        assert_supported(result, found)
    else:
        assert_contradicted(result, claimed, found)
