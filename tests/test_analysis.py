import pytest

from rag.analysis import normalise_number, passage_terms, query_term_sets, words
from rag.language import detect_language


@pytest.mark.parametrize("written,expected", [
    ("700,000", "700000"), ("700.000", "700000"), ("9.3", "9.3"), ("9,3", "9.3"),
    ("14.39", "14.39"), ("1.500.000", "1500000"), ("2025", "2025"), ("10", "10"),
])
def test_numbers_have_one_spelling(written, expected):
    assert normalise_number(written) == expected


def test_function_words_of_both_languages_are_dropped():
    assert words("Siapa yang menjadi Direktur dari Hebei MPA?") == ["direktur", "hebei", "mpa"]
    assert words("Who is the head of the BPOM?") == ["head", "bpom"]


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
