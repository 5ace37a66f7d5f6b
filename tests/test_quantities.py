"""rag.evidence.quantities: the same quantity in Indonesian or English compares equal; different ones conflict."""
import doctest
import subprocess
import sys

import pytest

import rag.evidence.quantities
from rag.evidence.quantities import Quantity, conflicts, extract_quantities, same_quantity, unmatched
from tests.conftest import ROOT


def only(text: str, kind: str | None = None) -> Quantity:
    """The single quantity (of `kind`) in `text`."""
    found = [q for q in extract_quantities(text) if kind is None or q.kind == kind]
    assert len(found) == 1, (text, found)
    return found[0]


def same(a: str, b: str) -> bool:
    return same_quantity(only(a), only(b))


def conflicting(claim: str, evidence: str) -> list[tuple[str, str]]:
    return [(c.text, e.text) for c, e in conflicts(extract_quantities(claim), extract_quantities(evidence))]


# --- thousands separators and decimal marks ---------------------------------------------------

@pytest.mark.parametrize("a,b", [("700.000", "700,000"), ("700.000 unit", "700,000 units"),
                                 ("700 ribu", "700,000"), ("700 rb", "700.000"),
                                 ("nearly 700,000 vehicles", "sekitar 700.000 kendaraan")])
def test_thousands_separators_both_ways(a, b):
    assert same(a, b)
    assert only(a).low == 700_000


def test_different_counts_with_units_conflict():
    assert not same("900.000 unit", "700,000 units")
    assert conflicting("Ekspor 900.000 unit", "Exports of 700,000 units") == [("900.000 unit", "700,000 units")]


@pytest.mark.parametrize("text", ["9,3 juta", "9.3 million", "9,3 jt", "9.300.000", "9,300,000"])
def test_decimal_comma_or_point_with_scale(text):
    assert only(text).low == pytest.approx(9_300_000)
    assert same(text, "9.3 million")


def test_different_scaled_numbers_conflict():
    assert not same("12 million", "9.3 million")
    assert conflicting("naik 12 juta", "rose 9.3 million") == [("12 juta", "9.3 million")]
    assert conflicting("12 juta", "9.3 million people") == [("12 juta", "9.3 million people")]


def test_both_separators_last_is_decimal():
    assert only("Rp1.234,5").low == pytest.approx(1234.5)
    assert only("$1,234.5").low == pytest.approx(1234.5)


# --- scale words -------------------------------------------------------------------------------

@pytest.mark.parametrize("id_text,en_text,value", [
    ("5 ribu", "5 thousand", 5e3), ("5 juta", "5 million", 5e6), ("5 miliar", "5 billion", 5e9),
    ("5 milyar", "5bn", 5e9), ("5 triliun", "5 trillion", 5e12)])
def test_scale_words(id_text, en_text, value):
    assert only(id_text).low == only(en_text).low == value


def test_lone_letters_are_scales_only_after_a_currency():
    assert only("Rp10 M").low == 10e9          # Indonesian M = miliar
    assert only("$5m").low == 5e6              # English m = million
    assert only("jalan 5 m").low == 5         # metres, not millions


# --- money -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["Rp10 triliun", "Rp 10 triliun", "IDR 10 trillion", "Rp10.000.000.000.000",
                                  "10 triliun rupiah", "Rp10 T"])
def test_rupiah_written_any_way(text):
    q = only(text)
    assert (q.kind, q.low, q.unit) == ("money", 10e12, "IDR")
    assert same(text, "Rp10 triliun")


@pytest.mark.parametrize("text", ["US$5 juta", "USD 5 million", "$5 million", "$5m", "5 juta dolar AS",
                                  "5 million US dollars"])
def test_dollars(text):
    q = only(text)
    assert (q.kind, q.low, q.unit) == ("money", 5e6, "USD")


@pytest.mark.parametrize("text", ["5 juta yuan", "CNY 5 million", "RMB 5 million", "5 million renminbi"])
def test_yuan(text):
    q = only(text)
    assert (q.kind, q.low, q.unit) == ("money", 5e6, "CNY")


def test_money_is_not_a_plain_number_and_currencies_differ():
    assert only("10 triliun").kind == "number"
    assert not same("Rp10 triliun", "10 triliun")
    assert not same("USD 5 million", "5 juta yuan")
    assert conflicting("Rp10 triliun", "Rp 12 triliun") == [("Rp10 triliun", "Rp 12 triliun")]


# --- percentages -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["30-40%", "30–40%", "30 - 40 persen", "30 to 40 percent", "30 hingga 40 persen",
                                  "30%-40%"])
def test_percent_ranges(text):
    q = only(text)
    assert (q.kind, q.low, q.high) == ("percent", 30, 40)
    assert same(text, "30-40%")


def test_different_percent_ranges_conflict():
    assert not same("10-15%", "30-40%")
    assert conflicting("naik 10-15 persen", "rose 30-40%") == [("10-15 persen", "30-40%")]


@pytest.mark.parametrize("text", ["40%", "40 persen", "40 percent", "40 %"])
def test_single_percent(text):
    assert same(text, "40%")
    assert not same(text, "45 persen")
    assert not same(text, "30-40%")            # a value is not a range that ends at it


# --- years and dates ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["pada 2030", "by 2030", "target tahun 2030", "APBN 2030"])
def test_standalone_years(text):
    q = only(text)
    assert (q.kind, q.low, q.text) == ("year", 2030, "2030")


def test_four_digits_that_are_not_years():
    assert only("2030 juta").kind == "number"            # a scale word after it
    assert only("Rp2030").kind == "money"
    assert only("1850 pasien").kind == "number"          # outside 1900-2100
    assert [q.kind for q in extract_quantities("11 November 2025")] == ["date", "year"]


def test_years_conflict():
    assert conflicting("tahun 2021", "in 2023") == [("2021", "2023")]
    assert conflicting("in 2023", "pada 2023") == []


@pytest.mark.parametrize("text,key", [
    ("11 November 2025", 1111), ("November 11, 2025", 1111), ("Rabu, 11 September 2024", 911),
    ("Wednesday, September 11, 2024", 911), ("4 Desember 2025", 1204), ("Dec. 4, 2025", 1204),
    ("9 November lalu", 1109), ("Jakarta (2/1/2026) - BPOM", 102), ("1 Mei", 501), ("May 1st", 501),
    ("17 Agustus 1945", 817), ("5 Okt 2023", 1005)])
def test_dates_in_both_languages(text, key):
    assert only(text, "date").low == key


def test_dates_carry_their_year_and_weekday():
    found = extract_quantities("Jumat (2/1/2026)")
    assert [(q.kind, q.low) for q in found] == [("weekday", 5), ("date", 102), ("year", 2026)]
    assert conflicting("Friday, 6 November 2025", "Kamis 6 November 2025") == [("Friday", "Kamis")]
    assert conflicting("Thursday, 6 November 2025", "Kamis 6 November 2025") == []
    assert same_quantity(only("11 November 2025", "date"), only("November 11, 2025", "date"))
    assert same_quantity(only("11 November 2025", "year"), only("pada 2025"))


def test_date_conflicts_on_day_and_on_year():
    assert conflicting("19 November", "pada 9 November 2025") == [("19 November", "9 November 2025")]
    assert conflicting("11 November 2024", "November 11, 2025") == [("2024", "2025")]
    assert conflicting("9 November lalu", "9 November 2025") == []


def test_lowercase_month_words_are_not_dates():
    assert [q.kind for q in extract_quantities("they may 5 times")] == ["number"]
    assert only("naik hingga Juni 30 persen", "percent").low == 30   # Indonesian never writes "Juni 30"


# --- number words ------------------------------------------------------------------------------

@pytest.mark.parametrize("id_word,en_word,value", [
    ("satu", "one", 1), ("dua", "two", 2), ("tiga", "three", 3), ("empat", "four", 4), ("lima", "five", 5),
    ("enam", "six", 6), ("tujuh", "seven", 7), ("delapan", "eight", 8), ("sembilan", "nine", 9),
    ("sepuluh", "ten", 10)])
def test_number_words(id_word, en_word, value):
    assert only(f"{id_word} pabrik").low == only(f"{en_word} plants").low == value


@pytest.mark.parametrize("a,b", [("twice", "dua kali lipat"), ("doubled", "2x lipat"), ("fourfold", "empat kali lipat"),
                                 ("quadrupled", "four-fold"), ("tripled", "3 kali lipat"), ("halved", "separuh"),
                                 ("threefold", "tiga kali lipat"), ("tiga dekade", "three decades")])
def test_multipliers_and_decades(a, b):
    assert same(a, b)


def test_decades_are_counted_in_years_and_conflict():
    assert (only("tiga dekade").low, only("three decades").unit) == (30, "year")
    assert same("lima dasawarsa", "five decades") and same("50 tahun", "five decades")
    assert conflicting("three decades", "five decades") == [("three decades", "five decades")]


def test_word_counts_conflict_across_languages_whatever_the_unit():
    # "sesi" and "presentation" are different words, but both are small counts written as words
    assert conflicting("lima sesi", "three presentation sessions") == [("lima sesi", "three presentation")]
    # a digit count with a different unit is not the same thing counted
    assert conflicting("lima sesi", "700 pasien") == []


@pytest.mark.parametrize("text", ["belasan orang", "puluhan pasien",
                                  "tahap kedua", "kedua perusahaan", "salah satu pabrik", "one of the plants",
                                  "seseorang", "anyone"])
def test_not_quantities(text):
    assert extract_quantities(text) == []


@pytest.mark.parametrize("claim,evidence", [("tripled", "surged fourfold"), ("doubled", "empat kali lipat"),
                                            ("dua kali lipat", "fourfold")])
def test_multipliers_conflict_with_multipliers_only(claim, evidence):
    assert only(claim).kind == only(evidence, "multiplier").kind == "multiplier"
    assert len(conflicting(claim, evidence)) == 1
    assert conflicting("tripled", "three plants") == []


def test_half_of_a_year_is_a_period_not_a_multiplier():
    assert [q.kind for q in extract_quantities("in the first half of 2025")] == ["ordinal", "year"]


@pytest.mark.parametrize("text,value", [("its first export market", 1), ("its 12th international market", 12),
                                        ("pasar ekspor pertama", 1), ("pasar ke-12", 12), ("pabrik ketiga", 3)])
def test_ordinals(text, value):
    assert (only(text).kind, only(text).low) == ("ordinal", value)


def test_ordinals_conflict_on_the_same_counted_thing():
    assert conflicting("China was its first export market", "China, its 12th international market") == [
        ("first", "12th")]
    assert conflicting("its first container", "its 12th international market") == []


@pytest.mark.parametrize("text,value", [("1e308 units", 1e308), ("9.3e6 units", 9.3e6), ("-9.3 million units", -9.3e6),
                                        ("-5 %", -5), ("minus: −3 units", -3)])
def test_signs_and_scientific_notation_are_read_as_written(text, value):
    assert only(text).low == pytest.approx(value)


def test_absurd_and_signed_figures_are_not_the_real_one():
    assert not same("1e308 units", "9.3 million units")
    assert not same("-9.3 million units", "9.3 million units")
    assert same("9.3e6 units", "9.3 million units")
    assert only("1e400 units").low == float("inf")
    assert extract_quantities("pandemi COVID-19 dan periode 2025-2029")[0].low == 2025


@pytest.mark.parametrize("text", ["2025-12-04", "04/12/2025", "4/12/2025", "4.12.2025", "Kamis (4/12/2025)",
                                  "4 Desember 2025", "December 4, 2025", "Dec 4th, 2025", "4 Des 2025"])
def test_every_common_date_form(text):
    dates = [q for q in extract_quantities(text) if q.kind in ("date", "year")]
    assert [(q.kind, q.low) for q in dates] == [("date", 1204), ("year", 2025)]


@pytest.mark.parametrize("text,value", [("Q1 2025", 1), ("kuartal I 2025", 1), ("kuartal kedua 2025", 2),
                                        ("triwulan ke-3", 3), ("the fourth quarter of 2024", 4)])
def test_quarters(text, value):
    assert only(text, "quarter").low == value
    assert conflicting("kuartal kedua 2025", "Q1 2025") == [("kuartal kedua", "Q1")]


def test_an_impossible_day_is_a_wrong_date_not_a_name():
    assert conflicting("31 February 2025", "4 December 2025") == [("31 February 2025", "4 December 2025")]


def test_in_role_gates_rivals():
    claim, evidence = extract_quantities("prices fell -5 %"), extract_quantities("growth of 8%")
    assert conflicting("prices fell -5 %", "growth of 8%") == [("-5 %", "8%")]
    assert conflicts(claim, evidence, in_role=lambda a, b: False) == []
    assert [q.text for q in unmatched(claim, evidence)] == ["-5 %"]


# --- identifiers, comparison words, units -------------------------------------------------------

def test_identifiers_are_skipped():
    assert extract_quantities("sertifikasi ISO 14001 dan ISO 45001") == []
    assert extract_quantities("pandemi COVID-19") == []
    assert conflicting("ISO 14001", "ISO 45001") == []
    assert unmatched(extract_quantities("Galaxy Ultra 2"), extract_quantities("Galaxy Ultra 2")) == []


def test_comparison_words_are_read_with_the_figure():
    assert same("lebih dari 40 juta pasien", "more than 40 million patients")
    assert only("lebih dari 40 juta pasien").bound == "more"
    assert only("lebih dari 40 juta pasien").shown == "lebih dari 40 juta pasien"
    assert not same("kurang dari 40 juta pasien", "lebih dari 40 juta pasien")
    assert conflicting("kurang dari 40 juta pasien", "lebih dari 40 juta pasien") == [
        ("kurang dari 40 juta pasien", "lebih dari 40 juta pasien")]
    # a bound the evidence bears out is no conflict; the unbounded figure meets a bounded one
    assert conflicting("more than 30 million patients", "lebih dari 40 juta pasien") == []
    assert conflicting("about 9 million units", "9.3 million units") == []
    assert conflicting("40 juta pasien", "more than 40 million patients") == []
    assert conflicting("at least 50 million patients", "more than 40 million patients") == [
        ("at least 50 million patients", "more than 40 million patients")]
    assert only("lebih dari 40 juta pasien").unit == "pasien"
    assert only("more than 40 million patients").unit == "patient"
    assert same("nearly 700,000", "hampir 700.000")


def test_function_words_are_not_units():
    assert only("700.000 in 2024", "number").unit is None
    assert only("700.000 dan 2024", "number").unit is None


def test_stop_words_are_never_what_is_counted():
    # "setelah"/"after" are stop words: reading them as what is counted once crashed the fact check
    # (their term sets are empty) whenever the two numbers met.
    assert only("Penjualan naik 5 setelah pameran.", "number").counted == ()
    assert only("Sales rose 3 after the fair.", "number").counted == ()
    assert conflicting("Penjualan naik 5 setelah pameran.", "Sales rose 3 after the fair.") == [("5", "3")]


def test_what_is_counted_gates_equality_and_conflicts():
    assert not same("700.000 unit", "700,000 doses")                   # same value, other things
    assert not same("lima sesi", "five decades") and same("tiga dekade", "three decades")
    assert same("lima sesi presentasi", "five presentation sessions")  # word order differs
    assert conflicting("lima sesi presentasi", "three presentation sessions") == [
        ("lima sesi", "three presentation")]
    assert conflicting("three decades", "two countries") == []
    assert conflicting("700.000 unit", "900,000 pasien") == []          # different things counted
    assert conflicting("700.000", "900,000 pasien") == [("700.000", "900,000 pasien")]


# --- the whole claim -------------------------------------------------------------------------

def test_claim_against_evidence_across_languages():
    claim = extract_quantities("Pada 11 November 2025, BPOM menyebut potensi Rp10 triliun dan ekspor 700.000 unit "
                               "naik 30-40%.")
    evidence = extract_quantities("On November 11, 2025, BPOM cited IDR 10 trillion of potential, and exports of "
                                  "700,000 units rose 30 to 40 percent.")
    assert unmatched(claim, evidence) == []
    assert conflicts(claim, evidence) == []


def test_absent_is_unmatched_but_not_a_conflict():
    claim = extract_quantities("Ekspor 700.000 unit pada 2023")
    evidence = extract_quantities("Exports rose 30 percent")
    assert [q.text for q in unmatched(claim, evidence)] == ["700.000 unit", "2023"]
    assert conflicts(claim, evidence) == []


def test_spans_point_into_the_text():
    text = "Rabu, 11 September 2024, sekitar 9,3 juta pasien membayar Rp10 triliun."
    for q in extract_quantities(text):
        assert text[q.start:q.end] == q.text


def test_doctest_and_light_import():
    assert doctest.testmod(rag.evidence.quantities).failed == 0
    code = "import sys, rag.evidence.quantities; print(sorted(m for m in ('torch', 'numpy', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("text, kind, value, unit", [
    ("dua puluh orang", "number", 20, "orang"),
    ("dua belas pasar ekspor", "number", 12, "pasar"),
    ("its twelfth market, twelve markets", "number", 12, "market"),
    ("seratus tiga unit", "number", 103, "unit"),
    ("one hundred and three days", "number", 103, "day"),
    ("tiga ratus ribu unit", "number", 300_000, "unit"),
    ("ten trillion rupiah", "money", 10e12, "IDR"),
    ("sepuluh triliun rupiah", "money", 10e12, "IDR"),
    ("five hundred million US dollars", "money", 5e8, "USD"),
    ("empat puluh persen", "percent", 40, None),
    ("twenty-five percent", "percent", 25, None),
])
def test_numbers_in_words(text, kind, value, unit):
    """Compound number words are read whole (num2words' spellings read backwards), and a currency
    or percent after them makes them money or a percentage, as after digits."""
    found = [q for q in extract_quantities(text) if q.kind == kind]
    assert [(q.low, q.unit) for q in found] == [(value, unit)]


@pytest.mark.parametrize("text", ["thirty to forty percent", "tiga puluh hingga empat puluh persen"])
def test_a_range_in_words_is_one_percentage(text):
    assert [(q.kind, q.low, q.high) for q in extract_quantities(text)] == [("percent", 30, 40)]


def test_number_words_split_where_no_number_spans_them():
    assert [q.low for q in extract_quantities("two and three")] == [2, 3]
    assert [q.low for q in extract_quantities("dua puluh lima")] == [25]


@pytest.mark.parametrize("text, value", [("sembilan koma tiga juta unit", 9.3e6),
                                         ("nine point three million units", 9.3e6),
                                         ("satu koma lima", 1.5)])
def test_decimal_point_in_words(text, value):
    assert [q.low for q in extract_quantities(text)] == [pytest.approx(value)]


@pytest.mark.parametrize("text, date, weekday", [("on thursday dec 4 2025", 1204, 4),
                                                 ("friday, jan 2 2026", 102, 5),
                                                 ("tiba 4 des 2025", 1204, None)])
def test_lower_case_dates_with_a_year(text, date, weekday):
    """Chat-style claims are often lower case; a year after the month makes the date certain."""
    found = {q.kind: q.low for q in extract_quantities(text)}
    assert found["date"] == date and found.get("weekday") == weekday


def test_lower_case_month_word_without_a_year_is_a_word():
    assert [q.kind for q in extract_quantities("they may 4 times")] != ["date"]
