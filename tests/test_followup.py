"""Follow-up questions read in the previous turn's context (rag.answer.followup), with invented
companies so no rule can lean on the seed articles."""
import pytest

from rag.answer.followup import Turn, names, read

EN = Turn("Who is the President Director of Zorvex Pharma?", ("zorvex",))
ID = Turn("Siapa direktur utama Zorvex Farma?", ("zorvex",))


def test_the_first_question_is_read_as_it_is():
    assert read("and who attended?", None).rewritten is False


@pytest.mark.parametrize("previous, question", [
    (EN, "and where is its plant?"),          # connective and pronoun
    (EN, "Where is their factory?"),          # pronoun
    (EN, "who attended?"),                    # no subject of its own
    (ID, "dan kapan didirikan?"),             # connective
    (ID, "di mana pabriknya?"),               # possessive -nya
    (ID, "berapa nilainya?"),                 # -nya, no subject of its own
])
def test_a_follow_up_is_read_with_the_previous_subject_and_its_articles(previous, question):
    reading = read(question, previous)
    assert reading.rewritten and reading.doc_ids == ("zorvex",)
    assert "Zorvex" in reading.about and reading.question.endswith("?")


def test_without_cited_articles_the_previous_subject_is_searched_for():
    reading = read("and who attended?", Turn("When did Zorvex Pharma open its plant?"))
    assert reading.rewritten and reading.doc_ids == () and reading.question == "Who attended (Zorvex Pharma)?"


@pytest.mark.parametrize("previous, question", [
    (EN, "What is Biotown?"), (EN, "When did Kalbe Farma sign the agreement with Sinopharm?"),
    (ID, "Apa itu Biotown?"), (ID, "Sebenarnya siapa Kepala BPOM?"),
])
def test_a_question_with_a_subject_of_its_own_starts_afresh(previous, question):
    reading = read(question, previous)
    assert not reading.rewritten and reading.question == question and reading.doc_ids == ()


@pytest.mark.parametrize("previous, question, expected", [
    (EN, "What about Kalbe Farma?", "Who is the President Director of Kalbe Farma?"),
    (ID, "bagaimana dengan Kalbe Farma?", "Siapa direktur utama Kalbe Farma?"),
])
def test_what_about_a_new_name_asks_the_previous_question_of_it_from_the_whole_corpus(previous, question, expected):
    reading = read(question, previous)
    assert reading.rewritten and reading.question == expected and reading.doc_ids == ()


def test_names_skip_the_question_word_possessives_and_dates():
    assert names("Who is the President Director of Zorvex Pharma?") == ["President Director", "Zorvex Pharma"]
    assert names("kapan Budi Santoso bertemu Ardi Wulan di Cilegon?") == ["Budi Santoso", "Ardi Wulan", "Cilegon"]
    assert names("What's Zorvex's plan for Indonesia's market in December?") == ["Zorvex", "Indonesia"]
