"""The pipeline opened in the background: not ready, then ready; or failed, and saying why."""
import threading

import pytest

from rag.errors import CorpusError, NotReady
from rag.service import PipelineService


def test_not_ready_while_opening_then_the_real_pipeline(settings, messages):
    from rag.pipeline import Warta

    release = threading.Event()

    def held_open(settings, report, with_generator):
        report("Chunked 5 documents into 58 passages")
        release.wait(60)
        return Warta.open(settings, report=report, with_generator=with_generator)

    service = PipelineService(settings, report=messages.report, opener=held_open).start()
    with pytest.raises(NotReady, match="Chunked 5 documents into 58 passages"):
        service.pipeline()
    assert service.state == "opening" and not service.wait(0.05)
    release.set()
    assert service.wait(60) and service.state == "ready"
    assert "Fengshan Wang" in service.pipeline().ask("Siapa Direktur Hebei MPA?").text
    assert any(m.startswith("Index ready") for m in messages)


def test_empty_corpus_fails_with_the_reason_and_the_app_says_how_to_add_documents(settings, tmp_path, messages):
    from app import WartaChatUI

    empty = tmp_path / "empty-corpus"
    empty.mkdir()
    service = PipelineService(settings.with_overrides(corpus_dir=empty), report=messages.report).start()
    assert service.wait(30) and service.state == "failed"
    with pytest.raises(CorpusError, match="has no readable documents"):
        service.pipeline()
    ui = WartaChatUI(service)
    assert "Adding documents" in ui.status() and "Warta could not start" in ui.status()
    chat = list(ui.respond("Apa itu Biotown?", [], "auto", {}))[-1][0]
    assert "has no readable documents" in chat[-1]["content"]
