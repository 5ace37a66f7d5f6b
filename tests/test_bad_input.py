"""Bad input and broken corpus files: each gets a clear message naming the problem, and the next
question (or the rest of the corpus) is still served. Real pipeline, real index, real server."""
import json
import os
import re
import subprocess
import sys
import urllib.request
import uuid

import pytest

from rag.web.chat_format import problem_message
from tests.conftest import CORPUS, ROOT

QUESTION, EXPECTED = "Siapa Direktur Hebei MPA?", "Fengshan Wang"
CLAIM = "MiLab projects annual exports of 12 million units by 2030."
FIVE_MB = "Siapa Direktur Hebei MPA? " * (5 * 2**20 // 26)
LONG = "Siapa Direktur Hebei MPA? " * (200_000 // 26)  # under the request limit, over the question limit

# Nothing a reader could call a question: refused as empty, whatever the entry point.
EMPTY = {"empty": "", "whitespace": " \t\n\r ", "nul_only": "\x00\x00 \x00",
         "zero_width_only": "\u200b\u200c\u200d\ufeff\u2060", "zero_width_and_control": " \u200b\x01\ufeff\x7f "}
# A question with junk in it: answered, with a notice saying what was changed.
INVALID_UTF8 = b"Siapa Direktur \xff\xfe Hebei MPA?".decode("utf-8", "surrogateescape")
CLEANED = {
    "nul_bytes": ("Siapa\x00 Direktur Hebei\x00 MPA?", "Karakter kontrol (seperti NUL) dihapus."),
    "lone_surrogate": ("Siapa Direktur \udcff Hebei MPA?", "UTF-8 rusak"),
    "surrogateescape_bytes": (INVALID_UTF8, "UTF-8 rusak"),
}
WHAT = {"ask": "question", "check": "claim", "search": "query"}


def assert_encodable(value):
    """What the page and the JSON APIs send must be valid UTF-8 (orjson refuses lone surrogates)."""
    json.dumps(value, ensure_ascii=False).encode("utf-8")


# --- the library: Warta.ask / check / search ---------------------------------------------------

@pytest.mark.parametrize("text", EMPTY.values(), ids=EMPTY.keys())
@pytest.mark.parametrize("method", ["ask", "check", "search"])
def test_empty_or_invisible_input_is_refused_then_the_next_is_answered(seed_warta, method, text):
    with pytest.raises(ValueError, match=f"the {WHAT[method]} is empty") as refused:
        getattr(seed_warta, method)(text)
    friendly = problem_message(refused.value)
    expected = "The claim is empty" if method == "check" else "The question is empty"
    assert expected in friendly and "Traceback" not in friendly and "\n" not in friendly
    assert EXPECTED in seed_warta.ask(QUESTION).text


@pytest.mark.parametrize("question, notice", CLEANED.values(), ids=CLEANED.keys())
def test_control_characters_and_broken_utf8_are_cleaned_with_a_notice(seed_warta, question, notice):
    answer = seed_warta.ask(question)
    assert EXPECTED in answer.text and not answer.abstained
    assert len(answer.notices) == 1 and notice in answer.notices[0]
    assert "\x00" not in answer.question
    assert_encodable(answer.to_json())

    verdict = seed_warta.check(question)
    assert "\x00" not in verdict.claim
    assert_encodable(verdict.to_json())

    result = seed_warta.search(question)
    assert result["passages"] and notice in result["notices"][0]
    assert_encodable(result)


def test_five_megabyte_input_is_trimmed_with_a_notice(seed_warta):
    limit = seed_warta.settings.max_question_chars
    answer = seed_warta.ask(FIVE_MB)
    assert len(answer.question) == limit and EXPECTED in answer.text
    assert answer.notices == [f"Pertanyaan dipotong menjadi {limit} karakter pertama."]
    assert len(seed_warta.check(FIVE_MB).claim) == limit
    result = seed_warta.search(FIVE_MB)
    assert len(result["query"]) == limit and result["notices"] and result["passages"]
    assert EXPECTED in seed_warta.ask(QUESTION).text


# --- the real server: /ask and /check through gradio_client -----------------------------------

@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    """Our own `python app.py` (seed corpus, model-free, extractive): until app.py raises its
    gr.Errors with print_exception=False, each refusal logs a traceback, and the shared server's
    log is checked for tracebacks by tests/test_app.py."""
    from tests.app_server import start_app
    from tests.conftest import MISSING_MODEL

    server = start_app(tmp_path_factory.mktemp("bad-input-app"), CORPUS, MISSING_MODEL, MISSING_MODEL)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(app_server):
    from gradio_client import Client

    return Client(app_server.url, verbose=False)


def crashes(output: str) -> list[str]:
    """Tracebacks in a server log other than Gradio logging a gr.Error it was asked to show."""
    blocks = output.split("Traceback (most recent call last):")[1:]
    return [b for b in blocks if not re.search(r"^gradio\.exceptions\.Error: ", b, re.MULTILINE)]


def raw_predict(client, api_name: str, *data):
    """(success, output) of one call through the queue, sent as ASCII JSON: gradio_client encodes
    its body as UTF-8 and so cannot send a lone surrogate, but any other client can ("\\udcff")."""
    fn_index = next(d["id"] for d in client.config["dependencies"] if d.get("api_name") == api_name.strip("/"))
    session = uuid.uuid4().hex
    body = json.dumps({"data": list(data), "fn_index": fn_index, "session_hash": session}).encode("ascii")
    request = urllib.request.Request(client.sse_data_url, data=body, headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30).read()
    with urllib.request.urlopen(f"{client.sse_url}?session_hash={session}", timeout=60) as stream:
        for line in stream:
            if line.startswith(b"data:") and (message := json.loads(line[5:]))["msg"] == "process_completed":
                return message["success"], message["output"]
    raise AssertionError("the stream ended without a result")


@pytest.mark.parametrize("text", EMPTY.values(), ids=EMPTY.keys())
def test_server_refuses_empty_or_invisible_input_and_keeps_serving(client, text):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="The question is empty"):
        client.predict(text, api_name="/ask")
    with pytest.raises(AppError, match="The claim is empty"):
        client.predict(text, api_name="/check")
    assert EXPECTED in client.predict(QUESTION, api_name="/ask")


@pytest.mark.parametrize("question, notice", CLEANED.values(), ids=CLEANED.keys())
def test_server_cleans_control_characters_and_broken_utf8(client, app_server, question, notice):
    success, output = raw_predict(client, "/ask", question, "auto")
    assert success, output
    text = output["data"][0]
    assert notice in text.splitlines()[0] and EXPECTED in text
    success, output = raw_predict(client, "/check", question)
    assert success, output
    claim = output["data"][0]["claim"]
    assert "\x00" not in claim and not re.search("[\ud800-\udfff]", claim)
    assert EXPECTED in client.predict(QUESTION, api_name="/ask")
    assert crashes(app_server.output()) == []


def test_server_trims_a_long_question_and_keeps_serving(client, app_server):
    text = client.predict(LONG, api_name="/ask")
    assert text.startswith("Pertanyaan dipotong menjadi 1000 karakter pertama.") and EXPECTED in text
    checked = client.predict(LONG, api_name="/check")
    assert len(checked["claim"]) == 1000 and "1000" in " ".join(checked["notices"])
    assert EXPECTED in client.predict(QUESTION, api_name="/ask")
    assert crashes(app_server.output()) == []


def test_server_refuses_a_five_megabyte_question_unread_and_keeps_serving(client, app_server):
    """Over the request limit (1 MiB): refused before it is read, in words both clients show."""
    from gradio_client.exceptions import ValidationError

    for api_name in ("/ask", "/check"):
        with pytest.raises(ValidationError, match="The request is too large .over 1 MiB."):
            client.predict(FIVE_MB, api_name=api_name)
    assert EXPECTED in client.predict(QUESTION, api_name="/ask")
    assert crashes(app_server.output()) == []


@pytest.mark.parametrize("question", [CLEANED["lone_surrogate"][0], LONG], ids=["lone_surrogate", "long"])
def test_chat_page_echoes_the_cleaned_question(client, question):
    """The page's own event (what the browser sends): a surrogate in the echoed question kills the
    reply stream (orjson refuses it), and 200 KB would come back in the chat bubble."""
    try:
        success, output = raw_predict(client, "respond", question, [], "auto", None)
    finally:
        assert EXPECTED in client.predict(QUESTION, api_name="/ask")  # the server keeps serving
    assert success, output
    shown = output["data"][0][0]["content"][0]["text"]
    assert len(shown) <= 2 * 1000 and not re.search("[\ud800-\udfff]", shown)  # escaping may double it


@pytest.mark.parametrize("history", ["not a history", [{"role": "hacker"}], {"x": 1}, 5], ids=["str", "list", "dict", "int"])
def test_chat_event_reads_its_history_from_the_server_not_the_client(client, app_server, history):
    """A malformed chat history (Gradio logged a pydantic traceback for each) is not read at all:
    the conversation is the session's own state on the server."""
    tracebacks = app_server.output().count("Traceback")
    success, output = raw_predict(client, "respond", QUESTION, history, "auto", history)
    assert success, output
    chat = output["data"][0]
    assert [m["role"] for m in chat] == ["user", "assistant"] and EXPECTED in str(chat[1]["content"])
    assert app_server.output().count("Traceback") == tracebacks


def test_cli_search_with_an_invalid_utf8_argument(tmp_path):
    """Linux hands a non-UTF-8 argument to Python as lone surrogates (surrogateescape)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WARTA_CORPUS_DIR": str(CORPUS),
           "WARTA_INDEX_DIR": str(tmp_path / "index"), "WARTA_EMBEDDING_MODEL": "none"}
    out = subprocess.run([sys.executable.encode(), b"-m", b"rag", b"search", b"Direktur \xff Hebei MPA", b"--json"],
                         cwd=ROOT, capture_output=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr.decode("utf-8", "replace")
    result = json.loads(out.stdout)
    assert "UTF-8" in result["notices"][0] and result["query"] == "Direktur \ufffd Hebei MPA"
    assert "Fengshan Wang" in result["passages"][0]["text"]


# --- broken corpus files ------------------------------------------------------------------------

def test_broken_and_oddly_named_corpus_files_are_reported_the_rest_indexed_nothing_written_outside(
        settings, tmp_path, messages):
    from rag.pipeline import Warta

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    good = {"good": "Kalbe Farma menandatangani perjanjian dengan CSPC di Jakarta.",
            "cafe\u0301": "Ekspor kopi dari Indonesia naik tahun ini.",  # decomposed é (macOS names)
            "\U0001f489vaksin": "Vaksin HPV diproduksi oleh Innovax di Xiamen."}
    for name, text in good.items():
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    (corpus / "latin1.txt").write_bytes("Caf\xe9 ekspor naik.".encode("latin-1"))
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (corpus / "berita\u202eTXT.txt").write_text("Nama berkas yang menyamar.", encoding="utf-8")
    (corpus / os.fsdecode(b"bad\xffname.txt")).write_text("Nama berkas bukan UTF-8.", encoding="utf-8")
    lines = ['{"id": "j1", "text": "BPOM bertemu MFDS pada 2024."}',
             '{"id": "j2", "text": broken',
             json.dumps({"id": "../../etc/evil", "text": "Dokumen yang ingin keluar dari korpus."}),
             json.dumps({"id": "/etc/passwd", "text": "Id berupa jalur mutlak."}),
             '{"id": "j5", "text": "Teks dengan escape rusak \\ud800 di sini."}',
             json.dumps({"id": "nul\u0000id", "text": "Id dengan NUL."}),
             json.dumps({"id": "j7", "text": "MiLab mengekspor Dermatix ke Tiongkok."}),
             '{"id": ' + "9" * 5000 + ', "text": "Id dengan 5.000 angka."}',  # int() refuses it
             "[" * 200000]  # RecursionError in json
    (corpus / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = sorted(os.listdir(tmp_path))

    warta = Warta.open(settings.with_overrides(corpus_dir=corpus, index_dir=tmp_path / "index"),
                       report=messages.report)

    assert sorted(warta.corpus.by_id()) == sorted([*good, "j1", "j7"])
    skipped = sorted(m for m in messages if m.startswith("skipped "))
    assert skipped == [
        "skipped bad\\udcffname.txt: file name is not valid UTF-8 (rename it)",
        "skipped berita\\u202eTXT.txt: file name contains control or bidirectional-override characters (rename it)",
        "skipped empty.txt: empty file",
        "skipped feed.jsonl:2: invalid JSON (Expecting value, column 22)",
        "skipped feed.jsonl:3: document id '../../etc/evil' looks like a path outside the corpus",
        "skipped feed.jsonl:4: document id '/etc/passwd' looks like a path outside the corpus",
        "skipped feed.jsonl:5: a field holds a broken \\u escape (lone surrogate)",
        "skipped feed.jsonl:6: document id contains control or bidirectional-override characters (rename it)",
        "skipped feed.jsonl:8: invalid JSON (Exceeds the limit (4300 digits) for integer string conversion)",
        "skipped feed.jsonl:9: invalid JSON (nested too deeply)",
        "skipped image.md: binary file (contains NUL bytes), not text",
        "skipped latin1.txt: not UTF-8 text (byte 0xe9 at offset 3)",
    ]
    for message in skipped:  # every message prints as what it says (no hidden or reordering characters)
        assert message.isprintable() and message.encode("utf-8")
    assert sorted(os.listdir(tmp_path)) == before + ["index"]
    assert not any(p.is_symlink() for p in (tmp_path / "index").rglob("*"))
    assert all(p.resolve().is_relative_to((tmp_path / "index").resolve()) for p in (tmp_path / "index").rglob("*"))
    assert "Xiamen" in warta.ask("Di mana Innovax memproduksi vaksin HPV?").text


def test_empty_corpus_server_answers_with_how_to_add_documents(tmp_path):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from tests.app_server import start_app
    from tests.conftest import MISSING_MODEL

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "README.md").write_text("# Put documents here\n", encoding="utf-8")  # not a document
    server = start_app(tmp_path, corpus, MISSING_MODEL, MISSING_MODEL)
    try:
        client = Client(server.url, verbose=False)
        for api_name, text in (("/ask", QUESTION), ("/check", CLAIM)):
            with pytest.raises(AppError, match="has no readable documents; add .txt, .md or .jsonl files") as e:
                client.predict(text, api_name=api_name)
            assert "Adding documents" in str(e.value) and "Traceback" not in str(e.value)
        assert server.process.poll() is None and crashes(server.output()) == []
    finally:
        server.stop()
