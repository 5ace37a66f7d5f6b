import pytest

from rag.search.analysis import normalise_number, passage_terms, query_term_sets, words
from rag.ingest.language import detect_language


@pytest.mark.parametrize("written,expected", [
    ("700,000", "700000"), ("700.000", "700000"), ("9.3", "9.3"), ("9,3", "9.3"),
    ("14.39", "14.39"), ("1.500.000", "1500000"), ("2025", "2025"), ("10", "10"),
])
def test_numbers_have_one_spelling(written, expected):
    assert normalise_number(written) == expected


def test_function_words_of_both_languages_are_dropped():
    assert words("Siapa yang ditunjuk sebagai Direktur dari Hebei MPA?") == ["ditunjuk", "direktur", "hebei", "mpa"]
    assert words("Who is the head of the BPOM?") == ["head", "bpom"]


def test_words_that_say_how_many_or_when_stay_searchable():
    # both maintained lists call them function words; questions ask about them and answers hold them
    assert words("Pada tahun berapa lima pabrik dibuka?") == ["tahun", "lima", "pabrik", "dibuka"]
    assert words("In which year were the first two plants opened?") == ["year", "first", "two", "plants", "opened"]


def test_indonesian_passages_are_stemmed_in_indonesian():
    # "memproduksi" and "produksi" meet at one stem; the English stemmer would leave them apart
    assert passage_terms("memproduksi", "id") == passage_terms("produksi", "id")
    assert passage_terms("exports", "en") == passage_terms("export", "en")


def test_a_question_is_stemmed_both_ways():
    terms = set().union(*query_term_sets("pengembangan vaccines"))
    assert set(passage_terms("pengembangan", "id")) <= set(terms)
    assert set(passage_terms("vaccines", "en")) <= set(terms)


def test_numbers_are_never_stemmed():
    assert passage_terms("tahun 2025 dan 2030-an", "id")[1] == "2025"


@pytest.mark.parametrize("text,lang", [
    ("Apa itu Biotown?", "id"), ("Siapa Direktur Hebei MPA?", "id"),
    ("Who is the President Director of MiLab?", "en"), ("What is Kalbe Farma's market share?", "en"),
    ("Berapa unit Dermatix diekspor?", "id"),
])
def test_short_questions_get_their_language(text, lang):
    assert detect_language(text) == lang


def test_the_stem_memo_gives_what_the_stemmer_gives_and_stays_bounded(monkeypatch):
    import Stemmer

    from rag.search import analysis

    monkeypatch.setattr(analysis, "_STEM_MEMO_MAX", 5)
    analysis._stem_memo("en", "snowball").clear()
    tokens = "running runners ran 2025 connection connected connecting running easily fairly".split()
    direct = Stemmer.Stemmer("english").stemWords(tokens)
    expected = [t if t[0].isdigit() else s for t, s in zip(tokens, direct)]
    for _ in range(3):  # cold, warm, and after the memo was emptied for growing past its bound
        assert analysis.stem(tokens, "en") == expected
        assert len(analysis._stem_memo("en", "snowball")) <= 5
    assert analysis.stem(["2025"], "en") == ["2025"]
