"""`python -m rag` as a user runs it, in a subprocess, on the real corpus."""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import CORPUS, MISSING_MODEL, ROOT


@pytest.fixture
def run(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WARTA_CORPUS_DIR": str(CORPUS),
           "WARTA_INDEX_DIR": str(tmp_path / "index"), "WARTA_EMBEDDING_MODEL": MISSING_MODEL}

    def run(*args, **extra_env):
        return subprocess.run([sys.executable, "-m", "rag", *args], cwd=ROOT, capture_output=True, text=True,
                              env={**env, **extra_env}, timeout=300)
    return run


def test_acceptance_biotown_passage_first(run):
    out = run("search", "Apa itu Biotown?", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["lang"] == "id"
    first = result["passages"][0]
    assert first["doc_id"] == "001_9877a9d30fe5bd65" and "Biotown" in first["text"]
    # the sentence defining Biotown is among the first three
    assert any("Kawasan yang diusulkan bernama Biotown" in p["text"] for p in result["passages"][:3])
    assert result["mode"]["retrieval"] == "lexical" and result["mode"]["model_free"] is True
    assert set(result) == {"id", "query", "lang", "mode", "passages", "timings_ms"}
    first = result["passages"][0]
    assert {"rank", "doc_id", "chunk_id", "score", "start", "end", "text"} <= set(first)
    text = (CORPUS / f"{first['doc_id']}.txt").read_text(encoding="utf-8")
    assert text[first["start"]:first["end"]] == first["text"]


def test_acceptance_president_director_of_milab(run):
    out = run("search", "Who is the President Director of MiLab?", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["lang"] == "en"
    assert "Idham Hamzah" in result["passages"][0]["text"]


def test_model_free_is_said_in_one_line_and_in_the_json(run):
    out = run("search", "Siapa Direktur Hebei MPA?", "--json", "--mode", "dense", "--k", "2")
    assert out.returncode == 0, out.stderr
    notice = [line for line in out.stderr.splitlines() if "model-free mode" in line]
    assert len(notice) == 1
    assert MISSING_MODEL in notice[0] and "python -m rag download" in notice[0] and "WARTA_EMBEDDING_MODEL" in notice[0]
    result = json.loads(out.stdout)
    assert result["mode"]["requested"] == "dense" and result["mode"]["retrieval"] == "lexical"
    assert len(result["passages"]) == 2


def test_index_then_up_to_date(run):
    first = run("index")
    assert first.returncode == 0, first.stderr
    assert "5 documents" in first.stdout and "(lexical)" in first.stdout
    second = run("index")
    assert "index needs a rebuild" not in second.stderr
    assert first.stdout.split(":")[0] == second.stdout.split(":")[0]  # the same build


def test_batch_search_one_line_out_per_line_in(run, tmp_path):
    batch = tmp_path / "questions.jsonl"
    batch.write_text("\n".join([
        json.dumps({"id": "q1", "question": "Siapa Direktur Hebei MPA?"}),
        "{broken",
        json.dumps({"id": "q3", "question": "Who represented the South Korean Embassy?"}),
        json.dumps({"id": "q4"}),
    ]) + "\n", encoding="utf-8")
    out = run("search", "--batch", str(batch), "--json", "--k", "3")
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["q1", None, "q3", "q4"]
    assert "Fengshan Wang" in lines[0]["passages"][0]["text"]
    assert "Soo-deok Park" in lines[2]["passages"][0]["text"]
    assert lines[1]["error"].endswith("questions.jsonl:2: invalid JSON (Expecting property name enclosed in double quotes)")
    assert 'field "question" is missing' in lines[3]["error"]
    assert out.returncode == 1  # some lines failed, and stderr says which
    assert "questions.jsonl:2" in out.stderr


@pytest.mark.parametrize("args,message", [
    (["search", "   "], "the query is empty"),
    (["search"], "give either a QUERY or --batch FILE.jsonl"),
    (["search", "x", "--k", "0"], "k must be at least 1, got 0"),
])
def test_errors_are_one_line_with_non_zero_status(run, args, message):
    out = run(*args)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == f"warta: error: {message}"


def test_empty_corpus_says_how_to_add_documents(run, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = run("search", "Biotown", WARTA_CORPUS_DIR=str(empty))
    assert out.returncode == 1
    assert "has no readable documents; add .txt, .md or .jsonl files" in out.stderr


def test_download_offline_fails_clearly(run):
    out = run("download")
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith(f"warta: error: cannot download {MISSING_MODEL}") and "HF_HUB_OFFLINE" in last


def test_dense_search_with_a_local_model_directory(run, tiny_model):
    out = run("search", "Siapa Direktur Hebei MPA?", "--json", "--mode", "hybrid",
              WARTA_EMBEDDING_MODEL=str(tiny_model))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["mode"]["retrieval"] == "hybrid" and result["mode"]["embedding_model"] == str(tiny_model)
    assert "model-free" not in out.stderr
    assert {"embed", "dense", "lexical", "fuse", "total"} <= set(result["timings_ms"])


def test_check_json_on_the_command_line(run):
    out = run("check", "MiLab projects annual exports of 12 million units by 2030", "--json")
    result = json.loads(out.stdout)
    assert result["verdict"] == "contradicted"
    assert set(result) >= {"id", "claim", "lang", "verdict", "confidence", "explanation", "evidence", "timings_ms"}
    assert "9.3 million units" in result["evidence"][0]["quote"]


# What a hostile .meta.json and article can hold that a terminal would obey: a window title (OSC),
# clear screen, colours (CSI), a one-byte C1 CSI, a bell, a carriage return, bidi overrides.
HOSTILE_TITLE = "Zorblax plant \x1b]0;pwned\x07 opens\x1b[2J"
HOSTILE_SOURCE = "\x1b[31mRED NEWS\x1b[0m"
HOSTILE_TEXT = ("Zorblax opened a vaccine plant in Cikarang in 2025.\x1b[2J The Zorblax plant makes "
                "\x1b[31m900 units\x1b[0m of vaccine a year, said its director \u202eBudi\u202c Santoso.\x9b6n\r\n\n"
                "The Zorblax plant employs 40 people.\x07\x1b]0;owned\x07 It was opened by the \u2066minister\u2069.\n")


@pytest.fixture
def hostile_corpus(tmp_path):
    folder = tmp_path / "hostile-corpus"
    folder.mkdir()
    (folder / "zorblax.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    (folder / "zorblax.meta.json").write_text(json.dumps(
        {"title": HOSTILE_TITLE, "source": HOSTILE_SOURCE, "date": "2025-03-04", "lang": "en"}), encoding="utf-8")
    (folder / "other.txt").write_text("A second article about a hospital in Bandung that opened in 2024.\n",
                                      encoding="utf-8")
    return folder


@pytest.mark.parametrize("args", [["search", "Zorblax plant"],
                                  ["ask", "How many units does the Zorblax plant make a year?"],
                                  ["check", "The Zorblax plant makes 900 units of vaccine a year."]],
                         ids=["search", "ask", "check"])
def test_terminal_escapes_from_the_corpus_are_printed_visibly_not_obeyed(run, hostile_corpus, args):
    from rag.terminal import UNSAFE

    out = run(*args, WARTA_CORPUS_DIR=str(hostile_corpus), WARTA_GENERATOR_MODEL=MISSING_MODEL)
    assert out.returncode == 0, out.stderr
    for stream in (out.stdout, out.stderr):
        assert not [c for c in UNSAFE.findall(stream) if c not in "\n\t"], stream
    # the sidecar's title and outlet lose their control characters when read (rag.ingest.declared)
    assert "Zorblax plant ]0;pwned opens[2J — [31mRED NEWS[0m" in out.stdout
    assert "people.\\u0007\\u001b]0;owned\\u0007 It was opened by the \\u2066minister\\u2069." in out.stdout


def test_the_sanitiser_keeps_layout_and_escapes_the_rest():
    import doctest

    import rag.terminal

    assert doctest.testmod(rag.terminal).failed == 0
    assert rag.terminal.shown("a\tb\r\n\x00\x7f\x85\u061c\u200f", keep="\n\t") == "a\tb\\u000d\n\\u0000\\u007f\\u0085\\u061c\\u200f"


def test_batch_lines_that_break_the_json_parser_are_reported_and_the_rest_answered(run, tmp_path):
    batch = tmp_path / "questions.jsonl"
    batch.write_text("\n".join([
        json.dumps({"id": "q1", "question": "Siapa Direktur Hebei MPA?"}),
        '{"id": ' + "1" * 5000 + ', "question": "Id dengan 5.000 angka"}',  # int() refuses it
        "[" * 200000,  # RecursionError in json
        json.dumps({"id": "q4", "question": "Who represented the South Korean Embassy?"}),
    ]) + "\n", encoding="utf-8")
    out = run("ask", "--batch", str(batch), "--json")
    assert "Traceback" not in out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(line["id"], line.get("line")) for line in lines] == [("q1", None), (None, 2), (None, 3), ("q4", None)]
    assert lines[1]["error"].endswith("questions.jsonl:2: invalid JSON (Exceeds the limit (4300 digits) for integer string conversion)")
    assert lines[2]["error"].endswith("questions.jsonl:3: invalid JSON (nested too deeply)")
    assert "Fengshan Wang" in lines[0]["answer"] and "Soo-deok Park" in lines[3]["answer"]
    assert out.returncode == 1 and "questions.jsonl:2" in out.stderr and "questions.jsonl:3" in out.stderr


def test_batch_file_must_be_a_regular_file_of_sensible_size(run, tmp_path):
    def refused(path, why):
        out = run("search", "--batch", str(path), "--json")
        assert out.returncode == 1 and out.stdout == ""
        assert out.stderr.strip().splitlines()[-1] == f"warta: error: cannot read batch file {path}: {why}"

    refused("/dev/null", "not a regular file (a character device)")
    fifo = tmp_path / "questions.fifo"
    os.mkfifo(fifo)  # opening it to read would wait for a writer for ever
    refused(fifo, "not a regular file (a FIFO)")
    from rag.ingest.untrusted import TEXT_LIMIT

    with open(tmp_path / "huge.jsonl", "wb") as huge:  # sparse: nothing is written to disk
        huge.truncate(TEXT_LIMIT + 1)
    refused(tmp_path / "huge.jsonl", f"too large ({TEXT_LIMIT + 1:,} bytes; the limit is {TEXT_LIMIT:,})")


# --- filters: --source, --since, --until, --lang-docs ---------------------------------------------

def test_search_filters_by_outlet_and_echoes_the_filters_in_the_json(run):
    out = run("search", "industri farmasi Indonesia", "--source", "menitindonesia", "--source", "tribunnews.com",
              "--json", "--k", "8")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["filters"] == {"sources": ["menitindonesia", "tribunnews.com"], "since": None, "until": None,
                                 "langs": [], "matching_documents": 2}
    assert len(result["passages"]) == 8
    assert {p["source"] for p in result["passages"]} == {"menitindonesia", "TRIBUNNEWS.COM"}


def test_ask_and_check_take_dates_and_document_languages(run):
    out = run("ask", "Apa kerja sama BPOM dengan Korea?", "--lang-docs", "en", "--since", "2024-09-11",
              "--until", "2025-12-31", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["filters"] == {"sources": [], "since": "2024-09-11", "until": "2025-12-31", "langs": ["en"],
                                 "matching_documents": 2}
    assert result["passages"] and {p["lang"] for p in result["passages"]} == {"en"}
    assert all("2024-09-11" <= c["date"] <= "2025-12-31" for c in result["citations"])
    out = run("check", "Kepala BPOM bertemu Li Li di Shanghai.", "--until", "2020-01-01")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("NOT_FOUND") and "Tidak ada dokumen yang cocok dengan filter: sampai 2020-01-01." in out.stdout
    assert "filters: until 2020-01-01 (0 documents)" in out.stdout


def test_text_output_names_the_filters_and_an_empty_result_says_why(run):
    out = run("search", "Apa itu Biotown?", "--source", "Tempo", "--since", "2025-01-01")
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()[:2]
    assert first.startswith("0 passages") and first.endswith("; filters: outlet Tempo, since 2025-01-01 (0 documents)")
    assert second == "Tidak ada dokumen yang cocok dengan filter: media Tempo, sejak 2025-01-01."


@pytest.mark.parametrize("flags, message", [
    (["--since", "2025-13-01"], "since '2025-13-01' is not a valid date (YYYY-MM-DD, e.g. 2025-01-31)"),
    (["--since", "2025-02-01", "--until", "2025-01-31"], "since 2025-02-01 is after until 2025-01-31"),
    (["--lang-docs", "fr"], "document language 'fr' is not one of id, en"),
])
@pytest.mark.parametrize("command", ["search", "ask", "check"])
def test_bad_filter_values_are_one_line_on_stderr(run, command, flags, message):
    out = run(command, "Apa itu Biotown?", *flags)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr == f"warta: error: {message}\n"
