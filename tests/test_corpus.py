import contextlib
import json
import os

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


# --- hostile files: each refused with a one-line reason, never blocking, the rest indexed ---

ARTICLE = "Kalbe Farma menandatangani perjanjian dengan CSPC di Jakarta, Jumat (2/1/2026)."


def load_within(location, seconds=60):
    """load_corpus in a thread: a FIFO opened for reading blocks until a writer comes, so a
    loader that opens one is caught here (and the FIFOs opened for writing to let it go)."""
    import threading

    result = {}
    thread = threading.Thread(target=lambda: result.update(corpus=load_corpus(location)), daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        for fifo in [p for p in location.rglob("*") if p.is_fifo()]:
            with contextlib.suppress(OSError):  # ENXIO: nothing is reading this one
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(10)
        pytest.fail("load_corpus blocked on a FIFO")
    assert "corpus" in result, "load_corpus raised (the thread's traceback is above)"
    return result["corpus"]


def reasons(corpus) -> dict:
    return {(p.path, p.line): p.reason for p in corpus.problems}


def test_fifos_sockets_and_folders_with_document_names_are_refused_without_blocking(tmp_path):
    import socket

    for name in ("fifo-sidecar", "folder-sidecar", "good"):
        (tmp_path / f"{name}.txt").write_text(ARTICLE, encoding="utf-8")
    os.mkfifo(tmp_path / "fifo-sidecar.meta.json")
    (tmp_path / "folder-sidecar.meta.json").mkdir()
    os.mkfifo(tmp_path / "pipe.txt")
    os.mkfifo(tmp_path / "pipe.jsonl")
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(tmp_path / "sock.md"))
        corpus = load_within(tmp_path)

    assert sorted(d.doc_id for d in corpus.documents) == ["fifo-sidecar", "folder-sidecar", "good"]
    assert reasons(corpus) == {
        ("fifo-sidecar.meta.json", None): "metadata ignored: not a regular file (a FIFO)",
        ("folder-sidecar.meta.json", None): "metadata ignored: not a regular file (a directory)",
        ("pipe.jsonl", None): "not a regular file (a FIFO)",
        ("pipe.txt", None): "not a regular file (a FIFO)",
        ("sock.md", None): "not a regular file (a socket)",
    }


def test_links_out_of_the_corpus_are_refused_for_every_kind_of_file(tmp_path):
    outside, corpus_dir = tmp_path / "outside", tmp_path / "corpus"
    outside.mkdir()
    corpus_dir.mkdir()
    (outside / "secret.txt").write_text("Rahasia di luar korpus.", encoding="utf-8")
    (outside / "secret.meta.json").write_text('{"title": "Rahasia di luar korpus"}', encoding="utf-8")
    (outside / "secret.jsonl").write_text('{"id": "s", "text": "Rahasia di luar korpus."}\n', encoding="utf-8")
    for name in ("linked-sidecar", "inner"):
        (corpus_dir / f"{name}.txt").write_text(ARTICLE, encoding="utf-8")
    (corpus_dir / "linked-sidecar.meta.json").symlink_to(outside / "secret.meta.json")
    (corpus_dir / "secret.txt").symlink_to(outside / "secret.txt")
    (corpus_dir / "secret.jsonl").symlink_to(outside / "secret.jsonl")
    (corpus_dir / "dangling.txt").symlink_to(corpus_dir / "nowhere.txt")
    (corpus_dir / "sub").mkdir()
    (corpus_dir / "sub" / "inner-link.txt").symlink_to(corpus_dir / "inner.txt")  # inside: followed

    corpus = load_within(corpus_dir)

    assert sorted(d.doc_id for d in corpus.documents) == ["inner", "linked-sidecar", "sub/inner-link"]
    assert corpus.by_id()["linked-sidecar"].title == ARTICLE  # from the text, not the outside sidecar
    outside_link = "symbolic link to a file outside the corpus folder"
    assert reasons(corpus) == {
        ("dangling.txt", None): "cannot read it (No such file or directory)",
        ("linked-sidecar.meta.json", None): f"metadata ignored: {outside_link}",
        ("secret.jsonl", None): outside_link,
        ("secret.txt", None): outside_link,
    }


def test_oversized_files_are_refused_not_read(tmp_path):
    from rag.ingest.untrusted import SIDECAR_LIMIT, TEXT_LIMIT

    with open(tmp_path / "huge.txt", "wb") as huge:  # sparse: nothing is written to disk
        huge.truncate(TEXT_LIMIT + 1)
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "good.meta.json").write_text(json.dumps({"title": "T" * SIDECAR_LIMIT}), encoding="utf-8")

    corpus = load_within(tmp_path)

    assert [d.doc_id for d in corpus.documents] == ["good"]
    assert reasons(corpus) == {
        ("good.meta.json", None): f"metadata ignored: too large ({SIDECAR_LIMIT + 13:,} bytes; the limit is {SIDECAR_LIMIT:,})",
        ("huge.txt", None): f"too large ({TEXT_LIMIT + 1:,} bytes; the limit is {TEXT_LIMIT:,})",
    }


def test_the_reader_refuses_devices_and_stops_at_its_limit(tmp_path):
    from rag.ingest.untrusted import read_limited

    for device, kind in (("/dev/zero", "a character device"), ("/dev/null", "a character device")):
        with pytest.raises(ValueError, match=rf"^not a regular file \({kind}\)$"):
            read_limited(device, 1000)
    (tmp_path / "ten.txt").write_bytes(b"0123456789")
    assert read_limited(tmp_path / "ten.txt", 10) == b"0123456789"
    with pytest.raises(ValueError, match="^too large"):
        read_limited(tmp_path / "ten.txt", 9)


DEEP = "[" * 200000
BIG_NUMBER = "1" * 5000


def test_hostile_json_lines_and_sidecars_are_reported_the_rest_indexed(tmp_path):
    lines = [json.dumps({"id": "first", "text": "BPOM bertemu MFDS pada 2024."}),
             '{"id": ' + BIG_NUMBER + ', "text": "Id dengan 5.000 angka."}',
             DEEP,
             '{"id": "deep", "text": "Bersarang.", "extra": ' + "[" * 100000 + "]" * 100000 + "}",
             '{"id": "n", "text": "Angka besar di tengah.", "views": ' + BIG_NUMBER + "}",
             json.dumps({"id": "last", "text": "MiLab mengekspor Dermatix ke Tiongkok."})]
    (tmp_path / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, sidecar in (("deep", '{"title": ' + "[" * 30000 + "}"),  # within the sidecar's 64 KB
                          ("number", '{"title": "T", "n": ' + BIG_NUMBER + "}"),
                          ("nested", '{"title": ' + '{"a": ' * 5000 + "1" + "}" * 5001)):
        (tmp_path / f"{name}.txt").write_text(ARTICLE, encoding="utf-8")
        (tmp_path / f"{name}.meta.json").write_text(sidecar, encoding="utf-8")

    corpus = load_within(tmp_path)

    assert sorted(d.doc_id for d in corpus.documents) == ["deep", "first", "last", "nested", "number"]
    too_many_digits = "invalid JSON (Exceeds the limit (4300 digits) for integer string conversion)"
    assert reasons(corpus) == {
        ("deep.meta.json", None): "metadata ignored: invalid JSON (nested too deeply)",
        ("feed.jsonl", 2): too_many_digits,
        ("feed.jsonl", 3): "invalid JSON (nested too deeply)",
        ("feed.jsonl", 4): "invalid JSON (nested too deeply)",
        ("feed.jsonl", 5): too_many_digits,
        ("nested.meta.json", None): "metadata ignored: invalid JSON (nested too deeply)",
        ("number.meta.json", None): f"metadata ignored: {too_many_digits}",
    }


def test_declared_dates_titles_and_outlets_are_checked(tmp_path):
    sidecars = {
        "kemarin": {"date": "kemarin <b>", "title": "Judul biasa"},
        "feb30": {"date": "2025-02-30"},
        "named": {"date": "9 November 2025"},
        "stamp": {"date": "2025-11-09T08:30:00+07:00"},
        "hidden": {"title": "Berita \u202eexe.gnp\u202c dan\u2066 isolasi\u2069\x1b[31m\nbaris dua",
                   "source": "Outlet\u202d\x00"},
        "long": {"title": "Panjang " * 100, "source": "S" * 1000},
    }
    for name, meta in sidecars.items():
        (tmp_path / f"{name}.txt").write_text(ARTICLE, encoding="utf-8")
        (tmp_path / f"{name}.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    record = {"id": "j", "text": ARTICLE, "date": "31/31/2025", "title": "A\u202eB"}
    (tmp_path / "feed.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")

    corpus = load_within(tmp_path)
    docs = corpus.by_id()

    assert len(docs) == 7  # every document is indexed; only the bad fields are left out or cleaned
    assert docs["kemarin"].date == docs["feb30"].date == docs["j"].date == "2026-01-02"  # the text's own date
    assert docs["kemarin"].title == "Judul biasa"
    assert docs["named"].date == docs["stamp"].date == "2025-11-09"
    assert docs["hidden"].title == "Berita exe.gnp dan isolasi[31m baris dua" and docs["hidden"].source == "Outlet"
    assert docs["j"].title == "AB"
    assert len(docs["long"].title) == len(docs["long"].source) == 300 and docs["long"].source.endswith("…")
    for doc in docs.values():
        assert doc.title.isprintable() and (doc.source is None or doc.source.isprintable())
    hidden = 'control or bidirectional-override characters removed'
    assert sorted(map(str, corpus.problems)) == [
        'feb30.meta.json: metadata "date" ignored: \'2025-02-30\' is not a date (give YYYY-MM-DD)',
        'feed.jsonl:1: metadata "date" ignored: \'31/31/2025\' is not a date (give YYYY-MM-DD)',
        f'feed.jsonl:1: metadata "title": {hidden}',
        f'hidden.meta.json: metadata "source": {hidden}',
        f'hidden.meta.json: metadata "title": {hidden}',
        'kemarin.meta.json: metadata "date" ignored: \'kemarin <b>\' is not a date (give YYYY-MM-DD)',
        'long.meta.json: metadata "source" cut to 300 characters',
        'long.meta.json: metadata "title" cut to 300 characters',
    ]


def test_doctests_of_the_reading_modules():
    import doctest

    import rag.ingest.declared
    import rag.ingest.metadata
    import rag.ingest.untrusted

    for module in (rag.ingest.untrusted, rag.ingest.metadata, rag.ingest.declared):
        assert doctest.testmod(module).failed == 0, module.__name__
