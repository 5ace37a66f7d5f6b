"""The fitted answer-sentence and abstention models (rag.answer.model), the sentence records they
read (rag.evidence.records), and the fitting script (eval.fit) run end to end on a small QA set
this test writes. Semantics come from the bundled multilingual model."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest

from rag.answer.features import FEATURES
from rag.answer.model import VARIANTS, load, variant_features
from rag.bundled_model import BUNDLED
from rag.config import Settings
from rag.evidence.kinds import asked_kind, kinds_in
from rag.pipeline import Warta


def test_the_shipped_model_matches_the_features_the_code_computes():
    model = load()
    assert set(model.sentence) == set(model.abstain) == set(model.thresholds) == set(VARIANTS)
    for variant in VARIANTS:
        assert model.sentence[variant].features == variant_features(variant)
        assert 0 < model.thresholds[variant] < 1
    assert model.about["train"] and not set(model.about["train"]) & set(model.about["valid"])
    assert 0 < model.follow <= 1.01


@pytest.mark.parametrize("question, kind", [
    ("berapakah jumlah pabrik vaksin di indonesia", "number"), ("Berapa sesi presentasi?", "number"),
    ("kapankah kamp itu dibebaskan", "date"), ("Pada tahun berapa MiLab mulai mengekspor?", "date"),
    ("dimana kantor pusatnya", "place"), ("Di mana Biotown akan dibangun?", "place"),
    ("siapakah pendiri perusahaan itu", "person"), ("Who received the Biotown proposal?", "person"),
    ("How many presentation sessions did the 2024 symposium have?", "number"),
    ("In which year did exports start?", "date"), ("Mengapa Biotown dibangun?", "reason")])
def test_question_words_in_every_form(question, kind):
    assert asked_kind(question) == kind


def test_dates_of_any_year_and_month_names_count_as_dates():
    assert "date" in kinds_in("Kota itu didirikan pada tahun 750 oleh raja setempat.")
    assert "date" in kinds_in("The treaty was signed in 1648.")
    assert "date" in kinds_in("Pameran dibuka pada Senin, 3 Maret.")
    assert "date" not in kinds_in("Pabrik itu memproduksi obat generik.")


def test_every_record_quotes_its_document_verbatim(seed_bundled):
    hits = seed_bundled.retriever.retrieve("Siapa Direktur Hebei MPA?", 5, "hybrid")
    for hit in hits:
        records = seed_bundled.evidence.of(hit)
        assert records is seed_bundled.evidence.of(hit)  # computed once, then kept
        assert records.sentences
        for r in records.sentences:
            assert hit.document.text[r.start:r.end] == r.text and r.doc_id == hit.document.doc_id
            assert hit.passage.start <= r.start and r.end <= hit.passage.end


# The page's example questions (app.py) and what a right answer's first quote holds.
def _page_examples():
    from app import EXAMPLES

    facts = {"Siapa Direktur Hebei MPA?": "Fengshan Wang",
             "Who is the Chairman of CSPC Pharmaceutical Group?": "Dongchen Cai",
             "Berapa unit Dermatix yang diproyeksikan diekspor MiLab ke Tiongkok hingga akhir 2025?": "700,000",
             "What certifications does MiLab's Cikarang plant hold?": "ISO 14001",
             "Siapa Menteri Perindustrian yang membahas Biotown?": "Agus Gumiwang Kartasasmita",
             "What is NBP used to treat?": "stroke iskemik"}
    assert set(EXAMPLES) <= set(facts), set(EXAMPLES) - set(facts)
    return [(q, facts[q]) for q in EXAMPLES]


@pytest.mark.parametrize("question, fact", _page_examples())
def test_the_pages_example_questions_are_answered_right(seed_bundled, question, fact):
    answer = seed_bundled.ask(question)
    assert not answer.abstained and fact in answer.citations[0].quote, answer.text


@pytest.mark.parametrize("question, fact", [
    ("siapa direktur hebei mpa", "Fengshan Wang"),  # lower case, no question mark
    ("berapakah jumlah unit yang akan dikirim MiLab hingga akhir 2025", "700,000 units"),  # -kah, other language
    ("siapakah ketua CSPC Pharmaceutical Group", "Dongchen Cai")])
def test_natural_and_cross_lingual_questions_quote_the_answer(seed_bundled, question, fact):
    answer = seed_bundled.ask(question)
    assert not answer.abstained and fact in answer.text, answer.text


def test_questions_the_corpus_does_not_answer_are_declined(seed_bundled):
    for question in ("Siapa yang memenangkan Piala Dunia 2022?", "Who won the 2022 FIFA World Cup?",
                     "What is the boiling point of mercury?"):
        assert seed_bundled.ask(question).abstained, question


def test_a_sentence_that_refers_back_inherits_its_subject(bundled_model, tmp_path):
    corpus = tmp_path / "camps.jsonl"
    docs = [("westerbork", "Kamp Westerbork",
             "Kamp Westerbork didirikan pemerintah Belanda pada tahun 1939 untuk menampung pengungsi. "
             "Kamp itu dibebaskan oleh tentara Kanada pada 12 April 1945. Kini bekas kamp menjadi museum."),
            ("kalbe", "Pabrik vaksin", "Pabrik vaksin baru dibuka di Bandung pada Maret 2021. Pabrik itu "
             "memproduksi dua juta dosis setiap bulan.")]
    corpus.write_text("".join(json.dumps({"id": i, "title": t, "text": x, "lang": "id"}) + "\n" for i, t, x in docs))
    warta = Warta.open(Settings(corpus_dir=corpus, index_dir=tmp_path / "index", embedding_model=BUNDLED,
                                generator_model=None, encoder="torch"), report=lambda m: None)
    answer = warta.ask("Kapan kamp Westerbork dibebaskan?")
    assert not answer.abstained and "12 April 1945" in answer.text, answer.text


# ------------------------------------------------------------------ eval.fit on a QA set made here

_FIRMS = ["Arunika Farma", "Bintang Medika", "Cahaya Husada", "Dirgantara Bio", "Eka Sehat", "Fajar Lestari",
          "Garuda Vaksin", "Harapan Obat", "Indah Kimia", "Jaya Biotek", "Kencana Medis", "Lintas Herbal"]
_CITIES = ["Bandung", "Surabaya", "Medan", "Makassar", "Semarang", "Palembang", "Denpasar", "Padang"]
_PEOPLE = ["Budi Santoso", "Sari Wulandari", "Andi Pratama", "Rina Kusuma", "Dewi Lestari", "Agus Salim",
           "Maya Putri", "Joko Susilo", "Wati Rahayu", "Hadi Gunawan", "Nina Marlina", "Rudi Hartono"]
_PRODUCTS = ["vaksin influenza", "obat batuk herbal", "tablet parasetamol", "salep luka", "sirup vitamin",
             "alat tes darah", "masker medis", "insulin", "antibiotik", "suplemen zat besi", "obat mata", "infus"]


def _qa_split(folder, seed: int) -> None:
    rng = random.Random(seed)
    passages, questions = [], []
    for i, firm in enumerate(_FIRMS):
        year, city, person, product = rng.randint(1950, 2020), rng.choice(_CITIES), _PEOPLE[i], _PRODUCTS[i]
        units = rng.randint(2, 90) * 1000
        text = (f"PT {firm} adalah perusahaan farmasi yang berkantor pusat di {city}. Perusahaan itu didirikan "
                f"pada tahun {year} oleh sekelompok apoteker. Direktur utamanya saat ini adalah {person}. "
                f"Pabriknya memproduksi {product} sebanyak {units:,} unit setiap bulan. "
                "Produk perusahaan dijual ke apotek di seluruh negeri.").replace(",", ".")
        pid = f"p{seed}-{i}"
        passages.append({"id": pid, "title": f"PT {firm}", "text": text, "lang": "id"})
        asks = [(f"Kapan PT {firm} didirikan?", str(year)), (f"Siapa direktur utama PT {firm}?", person),
                (f"Di mana kantor pusat PT {firm}?", city), (f"Apa yang diproduksi pabrik PT {firm}?", product)]
        for n, (q, a) in enumerate(asks):
            questions.append({"id": f"{pid}-q{n}", "question": q, "lang": "id", "answers": [a],
                              "gold_passage_ids": [pid], "answerable": True, "source_passage_id": pid})
        for n, q in enumerate((f"Berapa jumlah karyawan PT {firm}?", f"Siapa pendiri PT {firm}?")):
            questions.append({"id": f"{pid}-u{n}", "question": q, "lang": "id", "answers": [],
                              "gold_passage_ids": [], "answerable": False, "source_passage_id": pid})
    folder.mkdir(parents=True)
    for name, rows in (("passages.jsonl", passages), ("questions.jsonl", questions)):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_eval_fit_fits_validates_and_writes_a_model_that_answers(bundled_model, tmp_path, monkeypatch, capsys):
    from eval.fit import TRAIN, VALID, main
    from rag.answer.extractive import ExtractiveAnswerer
    from rag.answer.model import load as load_model

    for n, name in enumerate(TRAIN + VALID):
        _qa_split(tmp_path / "devdata" / name, seed=n)
    monkeypatch.setenv("WARTA_EMBEDDING_MODEL", BUNDLED)
    monkeypatch.setenv("WARTA_ENCODER", "torch")
    written = tmp_path / "model.json"
    assert main(["--devdata", str(tmp_path / "devdata"), "--out", str(tmp_path / "out"), "--write", str(written)]) == 0
    printed = capsys.readouterr().out
    assert "Abstention threshold" in printed and "chosen: thresholds" in printed
    model = load_model(written)
    assert set(model.sentence) == set(VARIANTS)
    # Trained on other firms: on a fresh split the fitted model finds the answers.
    _qa_split(tmp_path / "fresh", seed=99)
    warta = Warta.open(Settings(corpus_dir=tmp_path / "fresh" / "passages.jsonl", index_dir=tmp_path / "index",
                                embedding_model=BUNDLED, generator_model=None, encoder="torch"), report=lambda m: None)
    answerer = ExtractiveAnswerer(warta.term_weights, warta.evidence, model)
    rows = [json.loads(line) for line in (tmp_path / "fresh" / "questions.jsonl").read_text().splitlines()]
    right = []
    for q in (r for r in rows if r["answerable"]):
        hits = warta.retriever.retrieve(q["question"], 5, "hybrid")
        chosen = answerer.select(q["question"], "id", hits)
        right.append(bool(chosen) and q["answers"][0] in chosen[0].text)
    assert np.mean(right) >= 0.75, np.mean(right)
    assert len(FEATURES) == len(model.sentence["full"].coef)
