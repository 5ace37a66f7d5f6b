"""Who holds which title, who did what, and what a name is: the fact checker's readings of a
sentence's structure (rag.factcheck.roles, relations, names), on sentences written here."""
import pytest

from rag.factcheck.names import claim_names, name_spans, same_kind
from rag.factcheck.relations import relation_conflicts
from rag.factcheck.roles import role_conflicts, titles

ARTICLE = ("Hadir dalam pertemuan tersebut antara lain Walikota Surakarta Budi Santoso, Direktur Dinas Kesehatan "
           "Rina Wulandari, serta Chairman Sinar Farma Group, Hendra Kusuma. "
           "Agus Salim, Vice Chairman of the Asosiasi Farmasi Nusantara, noted that exports surged. "
           "Dewi Lestari from KOTRA Jakarta spoke about seminars.")


@pytest.mark.parametrize("text, person, title", [
    ("Walikota Surakarta Budi Santoso membuka acara.", "Budi Santoso", "Walikota Surakarta"),
    ("Chairman Sinar Farma Group, Hendra Kusuma, hadir.", "Hendra Kusuma", "Chairman Sinar Farma Group"),
    ("Agus Salim, Vice Chairman of the Asosiasi Farmasi Nusantara, said so.", "Agus Salim",
     "Vice Chairman of the Asosiasi Farmasi Nusantara"),
    ("Surakarta mayor Budi Santoso opened it.", "Budi Santoso", "Surakarta mayor"),
    ("Rina Wulandari adalah Walikota Surakarta.", "Rina Wulandari", "Walikota Surakarta"),
    ("KOTRA Jakarta's Dewi Lestari spoke.", "Dewi Lestari", "KOTRA Jakarta's"),
    ("Menurut Direktur Dinas Kesehatan Rina Wulandari, stok aman.", "Rina Wulandari", "Direktur Dinas Kesehatan"),
])
def test_titles_in_every_way_news_writes_them(text, person, title):
    assert (person, title) in [(t.person, t.title) for t in titles(text)]


@pytest.mark.parametrize("claim, claimed, holder", [
    ("Rina Wulandari adalah Walikota Surakarta.", "Rina Wulandari adalah Walikota Surakarta", "Budi Santoso"),
    ("Surakarta mayor Hendra Kusuma welcomed the minister.", "Surakarta mayor Hendra Kusuma", "Budi Santoso"),
    ("Dewi Lestari of the Asosiasi Farmasi Nusantara spoke.", "Dewi Lestari of the Asosiasi Farmasi Nusantara",
     "Agus Salim"),
])
def test_a_title_the_article_gives_someone_else_is_a_conflict_naming_the_holder(claim, claimed, holder):
    [(found_claimed, found_corpus)] = role_conflicts(claim, ARTICLE)
    assert found_claimed == claimed and holder in found_corpus


@pytest.mark.parametrize("claim", [
    "Walikota Surakarta Budi Santoso membuka acara.",
    "Surakarta mayor Budi Santoso opened it.",                 # the title in the other language
    "Menurut Direktur Dinas Kesehatan Rina Wulandari, stok aman.",  # "Menurut" opens, it is no title
    "Sinar Farma Group's Hendra Kusuma spoke.",                # an organisation the article names
])
def test_the_title_the_article_gives_is_no_conflict(claim):
    assert role_conflicts(claim, ARTICLE) == []


SENTENCE = ("BPOM mengapresiasi inovasi vaksin hepatitis dari Alfa Bio, serta teknologi vaksin inhalasi dan terapi "
            "biologis Beta Pharma.")


@pytest.mark.parametrize("claim, conflict", [
    ("BPOM mengapresiasi teknologi vaksin inhalasi dari Alfa Bio.", True),
    ("BPOM mengapresiasi teknologi vaksin inhalasi dari Beta Pharma.", False),
    ("BPOM mengapresiasi inovasi vaksin hepatitis dari Beta Pharma.", True),
    ("BPOM mengapresiasi inovasi vaksin hepatitis dari Alfa Bio.", False),
])
def test_what_belongs_to_a_name_is_read_from_its_neighbours(claim, conflict):
    found = relation_conflicts(claim, claim_names(claim), SENTENCE, name_spans(SENTENCE, set()), "id")
    assert bool(found) == conflict, found


def test_who_acts_and_who_partners():
    sentence = "Kementerian Perindustrian (Kemenperin) baru-baru ini menerima proposal dari sebuah grup usaha."
    claim = "BPOM menerima proposal kawasan industri."
    assert relation_conflicts(claim, claim_names(claim), sentence, name_spans(sentence, set()), "id")
    claim = "Kemenperin menerima proposal kawasan industri."  # an alias in parentheses is the same name
    assert relation_conflicts(claim, claim_names(claim), sentence, name_spans(sentence, set()), "id") == []
    sentence = "Kerja sama antara Sinar Farma (Indonesia) dan Delta Group (China) diperkuat."
    claim = "Sinar Farma dan Omega Labs menandatangani perjanjian."
    assert relation_conflicts(claim, claim_names(claim), sentence, name_spans(sentence, set()), "id") == [
        ("Sinar Farma dan Omega Labs", "Sinar Farma (Indonesia) dan Delta Group")]


@pytest.mark.parametrize("text, names", [
    ("Kepala BPOM menyebut nilai Rp 10 triliun pada 31 February 2025.", ["Kepala BPOM"]),  # not "Rp", not "February"
    ("Kontainer pertama dikirim ke China.", ["China"]),           # a sentence's first word
    ("Menurut Lee Jae Guk, obat baru melonjak.", ["Lee Jae Guk"]),  # a word that opens a name
    ("The plant is also ISO 9001 certified.", ["ISO 9001"]),      # an identifier keeps its number
    ("Kerja sama RI-Tiongkok diperluas pada Summit 2025.", ["RI", "Tiongkok", "Summit"]),
])
def test_what_a_name_is(text, names):
    assert claim_names(text) == names


def test_identifiers_and_ministries_of_one_kind():
    assert same_kind("Kementerian Kesehatan", "Kementerian Perindustrian")
    assert not same_kind("ISO 9001", "ISO 14001")  # another certificate, not the same one misnamed
    assert not same_kind("Universitas Xiamen", "Tsinghua University")


def test_an_added_place_is_not_a_place_in_the_articles_stead(seed_warta):
    # the article lists China among MiLab's markets; "also Japan" adds one, it does not replace one
    result = seed_warta.check("Selain China, produk Dermatix buatan MiLab juga sudah diekspor ke Jepang.")
    assert result.verdict != "contradicted", result.explanation
