"""The pipeline opened in the background: not ready, then ready; or failed, and saying why."""
import pytest

from rag.errors import CorpusError, NotReady
from rag.web.service import PipelineService
from tests.conftest import HeldOpener


def test_not_ready_while_opening_then_the_real_pipeline(settings, messages):
    opener = HeldOpener("Chunked 5 documents into 58 passages")
    service = PipelineService(settings, report=messages.report, opener=opener).start()
    with pytest.raises(NotReady, match="Chunked 5 documents into 58 passages"):
        service.pipeline()
    assert service.state == "opening" and not service.wait(0.05)
    opener.release()
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
    assert "Adding documents" in " ".join(ui.status()) and "Warta could not start" in " ".join(ui.status())
    chat = list(ui.respond("Apa itu Biotown?", [], "auto", {}))[-1][0]
    assert "has no readable documents" in chat[-1]["content"]
