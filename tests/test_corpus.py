import json

import pytest

from rag.ingest.corpus import load_corpus
from rag.errors import CorpusError
from tests.conftest import CORPUS


def test_seed_corpus_metadata():
    corpus = load_corpus(CORPUS)
    assert corpus.problems == []
    docs = corpus.by_id()
    assert sorted(docs) == ["000_e05857b49ea00b42", "001_9877a9d30fe5bd65", "002_d1bf058be705b182",
                            "003_d4d97345020dbe3e", "004_64925bf400040cc1"]
    assert {d: docs[d].lang for d in docs} == {
        "000_e05857b49ea00b42": "en", "001_9877a9d30fe5bd65": "id", "002_d1bf058be705b182": "id",
        "003_d4d97345020dbe3e": "id", "004_64925bf400040cc1": "en"}
    assert docs["001_9877a9d30fe5bd65"].source == "TRIBUNNEWS.COM"
    assert docs["002_d1bf058be705b182"].source == "menitindonesia"
    assert docs["000_e05857b49ea00b42"].source is None  # the text names no outlet
    assert {d: docs[d].date for d in docs} == {
        "000_e05857b49ea00b42": "2025-12-04", "001_9877a9d30fe5bd65": "2026-01-02",
        "002_d1bf058be705b182": "2025-11-06", "003_d4d97345020dbe3e": "2025-11-04",
        "004_64925bf400040cc1": "2024-09-11"}
    assert docs["000_e05857b49ea00b42"].title.startswith("Italian biopharma selects Cikarang")
    assert "Biotown" in docs["001_9877a9d30fe5bd65"].title  # from the sidecar .meta.json


def test_text_is_kept_verbatim():
    for doc in load_corpus(CORPUS).documents:
        assert (CORPUS / f"{doc.doc_id}.txt").read_text(encoding="utf-8") == doc.text


def test_bad_files_are_reported_and_the_rest_indexed(tmp_path):
    (tmp_path / "good.txt").write_text("Kalbe Farma menandatangani perjanjian dengan CSPC.", encoding="utf-8")
    # A broken "\ud800" escape would make the index unwritable: the metadata is ignored, the text kept.
    (tmp_path / "good.meta.json").write_text('{"title": "Judul \\ud800 rusak"}', encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 ekspor".encode("latin-1"))
    (tmp_path / "empty.md").write_text("  \n", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\x00\x00\x01")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")  # not a corpus format: ignored, not an error
    lines = [json.dumps({"id": "j1", "title": "One", "text": "BPOM and MFDS met in 2024."}),
             "{not json",
             json.dumps({"id": "j3", "title": "No text"}),
             json.dumps({"id": "j4", "text": "Menteri Perindustrian bilang Biotown penting.", "lang": "fr"}),
             json.dumps({"id": "j1", "text": "A duplicate id."}),
             json.dumps({"id": "j6", "text": "Vaksin HPV dari Innovax.", "date": "2025-11-09"})]
    (tmp_path / "more.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    corpus = load_corpus(tmp_path)

    assert sorted(d.doc_id for d in corpus.documents) == ["good", "j1", "j6"]
    problems = {(p.path, p.line): p.reason for p in corpus.problems}
    assert "not UTF-8" in problems[("latin1.txt", None)]
    assert problems[("empty.md", None)] == "empty file"
    assert "binary" in problems[("binary.txt", None)]
    assert "invalid JSON" in problems[("more.jsonl", 2)]
    assert '"text"' in problems[("more.jsonl", 3)]
    assert "'fr'" in problems[("more.jsonl", 4)]
    assert "duplicate document id 'j1'" in problems[("more.jsonl:5", None)]
    assert "lone surrogate" in problems[("good.meta.json", None)]
    assert corpus.by_id()["good"].title.startswith("Kalbe Farma")
    assert len(corpus.problems) == 8
    assert corpus.by_id()["j6"].date == "2025-11-09"
    assert corpus.by_id()["j1"].lang == "en" and corpus.by_id()["j6"].lang == "id"


def test_jsonl_file_as_corpus_keeps_ids(tmp_path):
    path = tmp_path / "external.jsonl"
    path.write_text(json.dumps({"id": "p-17", "title": "T", "text": "Dermatix diekspor ke Tiongkok."}) + "\n",
                    encoding="utf-8")
    corpus = load_corpus(path)
    assert [d.doc_id for d in corpus.documents] == ["p-17"]


def test_markdown_heading_is_the_title_and_readme_is_not_a_document(tmp_path):
    (tmp_path / "README.md").write_text("# How to add documents\nPut files here.", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "note.md").write_text("Intro line\n# Ekspor MiLab\nMiLab mengekspor Dermatix.", encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert [(d.doc_id, d.title) for d in corpus.documents] == [("sub/note", "Ekspor MiLab")]


def test_missing_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")
