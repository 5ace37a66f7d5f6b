"""Many people at once: every session gets its own answer (eval.load, the real server), and more
questions than the queue holds get a quick "busy, try again" in both languages, not a hang."""
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.app_server import free_port, start_app
from tests.conftest import CORPUS

BUSY_ID, BUSY_EN = "Warta sedang sibuk", "Warta is busy, please try again in a moment"


def post_json(url: str, data: dict):
    """(status, body) of a JSON POST, without raising on HTTP errors."""
    request = urllib.request.Request(url, data=json.dumps(data).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_session_markers_never_contain_one_another_and_a_mix_up_shows():
    from eval.load import check_answer, sessions_for

    sessions = sessions_for(120)
    markers = [m for s in sessions for m in (s.company, s.director)]
    assert len(set(markers)) == len(markers)
    assert not [(a, b) for a in markers for b in markers if a != b and a in b]
    first, second = sessions[:2]
    assert check_answer(f"Direktur utama {first.company} adalah {first.director}.", first, sessions) == (True, [])
    assert check_answer(f"Direktur utama {second.company} adalah {second.director}.", first, sessions) == (
        False, [second.company, second.director])


def test_concurrent_sessions_through_one_client_each_get_their_own_answer(tmp_path):
    """10 sessions x 3 questions, all at once through one shared gradio_client.Client, against
    the real `python app.py` on the seed corpus plus one article per session (python -m eval.load)."""
    from eval.load import load_test

    report = load_test(sessions=10, questions=3, workdir=tmp_path, progress=False)
    assert report.requests == 30 and len(report.latencies) == 30
    assert report.errors == []
    assert report.mixed == []  # no answer names another session's company or director
    assert report.unanswered == []  # every answer names its own session's director
    assert report.peak_rss and report.peak_rss > 10 * 2**20  # the server's memory was sampled


class GatedWarta:
    """The real pipeline, but each question first waits at a gate: a worker held busy on purpose,
    so the queue in front of it fills deterministically."""

    def __init__(self, warta) -> None:
        self._warta = warta
        self.inside = threading.Event()
        self.gate = threading.Event()

    def __getattr__(self, name):
        return getattr(self._warta, name)

    def _wait(self) -> None:
        self.inside.set()
        self.gate.wait(60)

    def ask(self, *args, **kwargs):
        self._wait()
        return self._warta.ask(*args, **kwargs)

    def ask_stream(self, *args, **kwargs):
        self._wait()
        yield from self._warta.ask_stream(*args, **kwargs)


def wait_until(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_full_queue_says_busy_at_once_in_both_languages_then_answers_again(settings, browser, tmp_path):
    """A real server with a queue of 2 and its one worker held: surplus questions, through
    gradio_client, plain HTTP and the page, are refused while the worker is still held."""
    from gradio_client import Client
    from gradio_client.exceptions import ValidationError

    from app import WartaChatUI
    from rag.pipeline import Warta
    from rag.web.service import PipelineService

    gated = {}

    def opener(settings, report, with_generator, serving=False):
        gated["warta"] = GatedWarta(Warta.open(settings, report=report, with_generator=with_generator,
                                               serving=serving))
        return gated["warta"]

    settings = settings.with_overrides(port=free_port(), queue_size=2)
    service = PipelineService(settings, report=lambda message: None, opener=opener).start()
    assert service.wait(60) and service.state == "ready"
    warta = gated["warta"]
    ui = WartaChatUI(service)
    _, url, _ = ui.launch(settings, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(url, verbose=False)
        held = client.submit("Siapa Direktur Hebei MPA?", api_name="/ask")
        assert warta.inside.wait(20)  # the worker is busy with it
        waiting = [client.submit("Who is the President Director of MiLab?", api_name="/ask") for _ in range(2)]
        wait_until(lambda: len(ui.demo._queue) == 2)  # the queue is full

        # Refused while the worker is still held: nothing waited for it.
        for _ in range(3):
            surplus = client.submit("Apa itu Biotown?", api_name="/ask")
            with pytest.raises(ValidationError) as refused:
                surplus.result(timeout=20)
            assert BUSY_ID in str(refused.value) and BUSY_EN in str(refused.value)
        with pytest.raises(ValidationError, match=BUSY_EN):
            client.submit("MiLab projects annual exports of 12 million units by 2030.", api_name="/check").result(timeout=20)
        status, body = post_json(url + "gradio_api/call/ask", {"data": ["Apa itu Biotown?", "auto"]})
        assert status == 422 and BUSY_ID in body and BUSY_EN in body, (status, body)

        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#warta-status :text('artikel / articles')", timeout=30000)
        page.fill("#warta-question textarea", "Apa itu Biotown?")
        page.keyboard.press("Enter")
        page.wait_for_function(f"document.body.innerText.includes({BUSY_EN!r})", timeout=20000)
        assert BUSY_ID in page.inner_text("body")
        assert page.locator("#warta-chat [data-testid='bot']").count() == 0
        assert not warta.gate.is_set() and not held.done()
        page.screenshot(path=str(tmp_path / "busy.png"), full_page=True)

        # Released: the held and the queued questions are answered, and new ones are too.
        warta.gate.set()
        assert "Fengshan Wang" in held.result(timeout=30)
        assert all("Idham Hamzah" in job.result(timeout=30) for job in waiting)
        assert "Biotown" in client.predict("Apa itu Biotown?", api_name="/ask")
        page.fill("#warta-question textarea", "Siapa Direktur Hebei MPA?")
        page.keyboard.press("Enter")
        page.wait_for_function("[...document.querySelectorAll(\"#warta-chat [data-testid='bot']\")]"
                               ".some(b => b.innerText.includes('Fengshan Wang'))", timeout=30000)
        page.close()
    finally:
        warta.gate.set()
        ui.demo.close()


def test_queue_size_from_the_environment_floods_the_real_server(tmp_path):
    """`python app.py` with WARTA_QUEUE_SIZE=1, flooded by 40 simultaneous questions: each one is
    answered or refused as busy (nothing else), and the server answers normally afterwards."""
    from gradio_client import Client

    server = start_app(tmp_path, CORPUS, "none", "none", extra_env={"WARTA_QUEUE_SIZE": "1"})
    try:
        start, results = threading.Barrier(40), []

        def ask():
            start.wait()
            status, body = post_json(server.url + "gradio_api/call/ask", {"data": ["Siapa Direktur Hebei MPA?", "auto"]})
            results.append((status, body))

        threads = [threading.Thread(target=ask) for _ in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(results) == 40
        busy = [body for status, body in results if status == 422]
        accepted = [json.loads(body)["event_id"] for status, body in results if status == 200]
        assert len(busy) + len(accepted) == 40, [r for r in results if r[0] not in (200, 422)]
        assert busy and all(BUSY_ID in body and BUSY_EN in body for body in busy)
        for event_id in accepted:  # each accepted question gets its real answer
            with urllib.request.urlopen(f"{server.url}gradio_api/call/ask/{event_id}", timeout=30) as response:
                assert "Fengshan Wang" in response.read().decode()
        assert "Fengshan Wang" in Client(server.url, verbose=False).predict("Siapa Direktur Hebei MPA?", api_name="/ask")
    finally:
        server.stop()
