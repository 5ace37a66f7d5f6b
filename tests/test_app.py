"""The real `python app.py` server: the /ask and /check endpoints through gradio_client, and its defences."""
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.app_server import free_port


def fetch(url: str, data: dict | None = None, headers: dict | None = None):
    """(status, headers, body) without raising on HTTP errors."""
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def client(app_server):
    from gradio_client import Client

    return Client(app_server.url, verbose=False)


def test_serves_on_localhost_only_and_says_why_it_is_model_free(app_server):
    assert app_server.url.startswith("http://127.0.0.1:")
    output = app_server.output()
    assert "model-free mode: embedding model warta-tests/no-such-model" in output
    assert "extractive answers: generator model warta-tests/no-such-model" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("question, expected, sources_heading", [
    ("Siapa Direktur Hebei MPA?", "Fengshan Wang", "Sumber:"),
    ("Who is the President Director of MiLab?", "Idham Hamzah", "Sources:"),
])
def test_ask_answers_with_citations_in_the_question_language(client, question, expected, sources_heading):
    text = client.predict(question, api_name="/ask")
    answer, _, sources = text.partition(f"\n\n{sources_heading}\n")
    assert expected in answer and "[1]" in answer
    first_source = sources.splitlines()[0]
    assert first_source.startswith("[1] ") and '"' in first_source  # title, then the quoted passage


def test_ask_language_overrides_detection(client):
    text = client.predict("Siapa Direktur Hebei MPA?", "en", api_name="/ask")
    assert text.startswith("The corpus says:") and "Fengshan Wang" in text


@pytest.mark.parametrize("question, language, message", [
    ("   ", "auto", "The question is empty"),
    ("Apa itu Biotown?", "fr", "language 'fr' is not one of auto, id, en"),
])
def test_ask_refuses_bad_input_with_a_message(client, question, language, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        client.predict(question, language, api_name="/ask")
    assert "Fengshan" in client.predict("Siapa Direktur Hebei MPA?", api_name="/ask")  # still serving


def test_only_ask_and_check_are_public_endpoints(client):
    assert set(client.view_api(return_format="dict", print_info=False)["named_endpoints"]) == {"/ask", "/check"}


def test_check_returns_the_verdict_with_its_evidence(client):
    result = client.predict("MiLab projects annual exports of 12 million units by 2030.", api_name="/check")
    assert {"claim", "lang", "verdict", "confidence", "explanation", "evidence", "timings_ms"} <= set(result)
    assert (result["verdict"], result["lang"]) == ("contradicted", "en")
    assert "9.3 million units" in result["evidence"][0]["quote"]
    assert result["differences"] == [{"kind": "number", "claim": "12 million units", "corpus": "9.3 million units"}]
    result = client.predict("Kalbe Farma akan memproduksi vaksin HPV di Indonesia.", api_name="/check")
    assert (result["verdict"], result["lang"]) == ("not_found", "id")
    assert 1 <= len(result["evidence"]) <= 2  # the closest passages, quoted verbatim like any evidence


def test_check_refuses_an_empty_claim_with_a_message(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="The claim is empty"):
        client.predict("  ", api_name="/check")


def source_lines(text: str) -> list[str]:
    """The "[n] Title — Outlet, date (chunk): quote" lines of an /ask answer."""
    return [line for line in text.splitlines() if line.startswith("[") and " — " in line]


def test_ask_filters_by_outlet_date_and_document_language(client):
    question = "Apa kerja sama BPOM dengan Tiongkok?"
    unfiltered = source_lines(client.predict(question, api_name="/ask"))
    assert any("menitindonesia" not in line for line in unfiltered)
    # Positionally after the question and language, as an older client would add them.
    filtered = source_lines(client.predict(question, "auto", ["menitindonesia"], "2025-11-06", api_name="/ask"))
    assert filtered and all("— menitindonesia, 2025-11-06 (002_" in line for line in filtered)
    # By name, one outlet as a plain string.
    english = client.predict("What did BPOM and Korea agree?", sources=None, until="2024-12-31", lang_docs="en",
                             api_name="/ask")
    assert source_lines(english) and all("2024-09-11 (004_" in line for line in source_lines(english))


def test_ask_says_when_no_document_passes_the_filters_and_refuses_bad_ones_in_one_line(client, app_server):
    from gradio_client.exceptions import AppError

    text = client.predict("Who is the Director of Hebei MPA?", sources=["Tempo"], since="2025-01-01", api_name="/ask")
    assert text == "No documents match the filters: outlet Tempo, since 2025-01-01."
    for values, message in (({"since": "2025-13-01"}, "since '2025-13-01' is not a valid date"),
                            ({"since": "2025-02-01", "until": "2025-01-31"}, "since 2025-02-01 is after until"),
                            ({"lang_docs": ["fr"]}, "document language 'fr' is not one of id, en"),
                            ({"since": 20250101}, "since must be a date as YYYY-MM-DD")):
        with pytest.raises(AppError, match=message) as refused:
            client.predict("Apa itu Biotown?", api_name="/ask", **values)
        assert "\n" not in str(refused.value)
    # /call/v2 takes the new parameters by name, and still refuses unknown ones.
    status, _, answer = fetch(app_server.url + "gradio_api/call/v2/ask",
                              {"question": "Siapa Direktur Hebei MPA?", "sources": ["menitindonesia"]})
    assert status == 200, answer
    status, _, answer = fetch(app_server.url + "gradio_api/call/v2/ask", {"question": "Biotown", "outlet": "x"})
    assert status == 422 and "no parameter 'outlet'" in answer
    assert "Traceback" not in app_server.output()


@pytest.mark.parametrize("route", ["gradio_api/run/ask", "gradio_api/api/ask", "run/ask"])
def test_direct_post_that_skips_the_queue_is_refused(app_server, route):
    status, _, body = fetch(app_server.url + route, {"data": ["Siapa Direktur Hebei MPA?", "auto"]})
    assert status in (404, 405), body
    assert "Fengshan" not in body


def test_pages_forbid_loading_from_other_origins_and_monitoring_is_off(app_server):
    status, headers, _ = fetch(app_server.url)
    assert status == 200
    policy = headers["content-security-policy"]
    for directive in ("default-src 'self'", "img-src 'self' data: blob:", "connect-src 'self'", "frame-src 'none'"):
        assert directive in policy
    assert headers["x-content-type-options"] == "nosniff"
    for route in ("monitoring", "gradio_api/monitoring", "monitoring/summary"):
        assert fetch(app_server.url + route)[0] in (403, 404)


def test_corpus_index_and_system_files_are_not_served(app_server):
    manifests = list(app_server.index.glob("builds/*/manifest.json"))
    assert manifests
    targets = [str(next(app_server.corpus.glob("*.txt"))), str(manifests[0]), "/etc/passwd"]
    for target in targets:
        for route in (f"gradio_api/file={target}", f"file={target}",
                      f"gradio_api/file={urllib.parse.quote(target, safe='')}",
                      "gradio_api/file=" + str(app_server.corpus) + "/..%2f..%2f..%2fetc/passwd"):
            status, _, body = fetch(app_server.url + route)
            assert status in (403, 404), (route, status)
            assert "root:" not in body and "Biotown" not in body


def test_while_the_index_builds_questions_get_a_message_not_an_error(settings, tmp_path):
    """A real server whose pipeline is still opening (held until the test lets it finish)."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from app import WartaChatUI
    from rag.web.service import PipelineService
    from tests.conftest import HeldOpener

    opener = HeldOpener("Embedding 58 passages")
    settings = settings.with_overrides(port=free_port())
    service = PipelineService(settings, report=lambda message: None, opener=opener).start()
    ui = WartaChatUI(service)
    _, url, _ = ui.launch(settings, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(url, verbose=False)
        with pytest.raises(AppError, match=r"The index is being built \(Embedding 58 passages\)"):
            client.predict("Siapa Direktur Hebei MPA?", api_name="/ask")
        chat = list(ui.respond("Siapa Direktur Hebei MPA?", [], "auto", {}))[-1][0]
        assert "Indeks sedang dibangun" in chat[-1]["content"]
        assert "Menyiapkan" in " ".join(ui.status())
        opener.release()
        assert service.wait(60) and service.state == "ready"
        assert "Fengshan Wang" in client.predict("Siapa Direktur Hebei MPA?", api_name="/ask")
    finally:
        opener.release()
        ui.demo.close()


def test_login_from_env_needs_both_values():
    from app import login_from_env
    from rag.errors import ConfigError

    assert login_from_env({}) is None
    assert login_from_env({"WARTA_USERNAME": "redaksi", "WARTA_PASSWORD": "rahasia"}) == ("redaksi", "rahasia")
    with pytest.raises(ConfigError, match="set both WARTA_USERNAME and WARTA_PASSWORD"):
        login_from_env({"WARTA_USERNAME": "redaksi"})
