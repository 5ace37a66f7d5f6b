"""Filters (outlet, date range, document language) applied inside retrieval: a real corpus with
.meta.json sidecars, a real FAISS index (flat and HNSW) and real bm25s."""
import json
from datetime import date

import numpy as np
import pytest

from rag.search.filters import FilterError, Filters

BIG, SMALL, GLOBE = "Harian Vaksin", "Warta Kota", "Jakarta Globe"
CITIES = ["Bandung", "Medan", "Surabaya", "Makassar", "Padang", "Malang", "Bogor", "Solo", "Manado", "Ambon"]


def write_corpus(folder):
    """60 articles of one outlet saying "vaksin" over and over (they fill any unfiltered top 50),
    8 of a second outlet mentioning it once (two of them undated), 6 English ones of a third."""
    folder.mkdir()
    docs = []
    for i in range(60):
        docs.append((f"big{i:02d}", BIG, f"2023-{i % 12 + 1:02d}-15", "id",
                     f"Vaksin vaksin vaksin: pabrik vaksin nomor {i} di {CITIES[i % 10]} membuat vaksin dan "
                     f"vaksin penguat; vaksin ke-{i} dikirim ke gudang vaksin {CITIES[(i + 3) % 10]}."))
    for i in range(8):
        docs.append((f"small{i}", SMALL, None if i >= 6 else f"2024-0{i + 1}-10", "id",
                     f"Pemerintah kota {CITIES[i]} membuka taman baru dan memperbaiki jalan raya nomor {i}. "
                     f"Puskesmas di sana juga menerima kiriman vaksin minggu lalu, kata wali kota."))
    for i in range(6):
        docs.append((f"globe{i}", GLOBE, f"2025-0{i + 1}-20", "en",
                     f"The {CITIES[i]} city hall opened a new library number {i} and repaired the main road. "
                     f"Clinics there also received a vaccine shipment last week, the mayor said."))
    for doc_id, source, day, lang, text in docs:
        (folder / f"{doc_id}.txt").write_text(text + "\n", encoding="utf-8")
        meta = {"title": f"Artikel {doc_id}", "source": source, "lang": lang, **({"date": day} if day else {})}
        (folder / f"{doc_id}.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return {doc_id: {"source": source, "date": day, "lang": lang} for doc_id, source, day, lang, _ in docs}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("filters") / "corpus"
    return folder, write_corpus(folder)


def open_warta(corpus, index_dir, embedding_model, dense_index="flat"):
    from rag.config import Settings
    from rag.pipeline import Warta

    settings = Settings(corpus_dir=corpus[0], index_dir=index_dir, embedding_model=embedding_model,
                        generator_model=None, encoder="torch", dense_index=dense_index)
    return Warta.open(settings, report=lambda message: None)


@pytest.fixture(scope="module", params=["flat", "hnsw"])
def warta(request, corpus, tiny_model, tmp_path_factory):
    """Hybrid retrieval (the tiny embedding model + BM25) over a flat or an HNSW index."""
    return open_warta(corpus, tmp_path_factory.mktemp(request.param) / "index", str(tiny_model), request.param)


@pytest.fixture(scope="module")
def lexical_warta(corpus, tmp_path_factory):
    return open_warta(corpus, tmp_path_factory.mktemp("lexical") / "index", None)


# --- the Filters value ---------------------------------------------------------------------------

@pytest.mark.parametrize("values, message", [
    ({"since": "2025-13-01"}, "since '2025-13-01' is not a valid date"),
    ({"until": "2025-02-30"}, "until '2025-02-30' is not a valid date"),
    ({"since": "20250101"}, "is not a valid date (YYYY-MM-DD"),
    ({"since": "2025-02-01", "until": "2025-01-31"}, "since 2025-02-01 is after until 2025-01-31"),
    ({"langs": ["fr"]}, "document language 'fr' is not one of id, en"),
    ({"sources": 5}, "outlet must be text or a list of texts"),
    ({"since": 20250101}, "since must be a date as YYYY-MM-DD"),
])
def test_bad_values_are_refused_in_one_line(values, message):
    with pytest.raises(FilterError, match=message.replace("(", r"\(")) as refused:
        Filters.parse(**values)
    assert "\n" not in str(refused.value)


def test_parsing_reads_what_people_and_clients_send():
    f = Filters.parse(sources=["Warta Kota", " warta kota ", "", "Jakarta Globe"], since="2024-01-01",
                      until=" ", langs="EN")
    assert f == Filters(("Warta Kota", "Jakarta Globe"), date(2024, 1, 1), None, ("en",))
    assert Filters.parse() == Filters.parse("", "", None, []) == Filters() and not Filters().active
    assert f.to_json() == {"sources": ["Warta Kota", "Jakarta Globe"], "since": "2024-01-01", "until": None,
                           "langs": ["en"]}
    assert f.describe("en") == "outlet Warta Kota or Jakarta Globe, since 2024-01-01, language English"
    assert f.describe("id") == "media Warta Kota atau Jakarta Globe, sejak 2024-01-01, bahasa Inggris"


def test_matches_outlet_case_insensitively_dates_inclusively_and_never_an_undated_document():
    f = Filters.parse(sources="warta kota", since="2024-01-10", until="2024-03-10")
    assert f.matches({"source": "Warta Kota", "date": "2024-01-10", "lang": "id"})  # both ends count
    assert f.matches({"source": "WARTA KOTA", "date": "2024-03-10", "lang": "en"})
    assert not f.matches({"source": "Warta Kota", "date": "2024-03-11", "lang": "id"})
    assert not f.matches({"source": "Warta Kota", "date": None, "lang": "id"})
    assert not f.matches({"source": "Warta Kota", "date": "sometime in 2024", "lang": "id"})
    assert not f.matches({"source": None, "date": "2024-02-01", "lang": "id"})
    assert Filters.parse(sources="Warta Kota").matches({"source": "Warta Kota", "date": None, "lang": "id"})
    assert Filters.parse(since="2024-01-01").matches({"source": None, "date": "2024-05-01T08:00:00+07:00"})


# --- inside retrieval ----------------------------------------------------------------------------

def hit_docs(hits):
    return [h.document.doc_id for h in hits]


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
@pytest.mark.parametrize("values", [
    {"sources": [SMALL]},
    {"since": "2024-03-10", "until": "2025-02-20"},
    {"langs": ["en"]},
    {"sources": [SMALL, GLOBE], "since": "2024-02-01", "langs": ["id"]},
], ids=["outlet", "dates", "language", "combined"])
def test_each_filter_alone_and_combined_returns_only_matching_documents(warta, corpus, mode, values):
    filters = Filters.parse(**values)
    allowed = {doc_id for doc_id, meta in corpus[1].items() if filters.matches(meta)}
    assert allowed  # every case here lets some through
    hits = warta.retriever.retrieve("vaksin vaccine kota", 5, mode, filters=filters)
    assert set(hit_docs(hits)) <= allowed
    # Lexical search returns only passages sharing a word; every allowed one here does.
    assert len(hits) == min(5, len(allowed))


def test_k_results_come_back_where_filtering_the_unfiltered_results_would_leave_fewer(lexical_warta, corpus):
    k, filters = 5, Filters.parse(sources=[SMALL])
    unfiltered = lexical_warta.retriever.retrieve("vaksin", 50, "lexical")
    assert len(unfiltered) == 50 and all(d.startswith("big") for d in hit_docs(unfiltered))  # 50 deep: none
    post_filtered = [h for h in unfiltered[:k] if filters.matches(h.document.metadata())]
    assert len(post_filtered) < k
    hits = lexical_warta.retriever.retrieve("vaksin", k, "lexical", filters=filters)
    assert len(hits) == k and all(d.startswith("small") for d in hit_docs(hits))
    # Scores are the corpus's own BM25 (IDF over every document), only the candidates differ.
    lone = lexical_warta.index.lexical.scores("vaksin")
    assert [h.score for h in hits] == pytest.approx([float(lone[warta_position(lexical_warta, h)]) for h in hits])


def warta_position(warta, hit) -> int:
    return warta.index.passages.index(hit.passage)


def test_dense_search_under_a_filter_is_the_exact_top_k_of_the_allowed_passages(warta):
    filters = Filters.parse(sources=[SMALL, GLOBE], until="2025-03-31")
    allowed = warta.index.allowed(filters).passages
    query = warta.embedder.embed_batch(["vaksin di kota"], "query")[0]
    vectors = warta.index.dense.vectors()
    scores = np.where(allowed, vectors @ query, -np.inf)
    expected = [int(i) for i in np.argsort(-scores, kind="stable")[:5]]
    hits = warta.retriever.retrieve("vaksin di kota", 5, "dense", filters=filters)
    assert [warta_position(warta, h) for h in hits] == expected
    # Fusion saw only allowed candidates: every passage a side ranked is allowed.
    hybrid = warta.retriever.retrieve("vaksin di kota", 12, "hybrid", filters=filters)
    assert len(hybrid) == int(allowed.sum()) and all(allowed[warta_position(warta, h)] for h in hybrid)


def test_hnsw_filtered_search_walks_the_graph_for_large_shares_and_scans_small_ones_exactly():
    from rag.search.dense import HNSW_WALK_COST, DenseIndex

    rng = np.random.default_rng(0)
    n = 20_000
    vectors = rng.standard_normal((n, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    dense = DenseIndex.build(vectors, kind="hnsw")
    queries = vectors[rng.choice(n, 20, replace=False)] + rng.standard_normal((20, 16)).astype(np.float32) * 0.1
    for share in (0.5, 0.01):
        allowed = rng.random(n) < share
        walks = allowed.sum() > HNSW_WALK_COST * np.ceil(dense.ef_search * n / allowed.sum())
        assert walks == (share == 0.5)
        exact_scores = np.where(allowed, queries @ vectors.T, -np.inf)
        recall = 0
        for query, row in zip(queries, exact_scores):
            found = dense.search(query, 10, allowed)
            assert len(found) == 10 and all(allowed[i] for i, _ in found)
            recall += len({i for i, _ in found} & set(np.argsort(-row)[:10].tolist())) / 10
        assert recall / len(queries) >= (0.9 if walks else 1.0)


# --- what the pipeline says ----------------------------------------------------------------------

def test_search_json_echoes_the_filters_and_an_empty_result_says_why(lexical_warta):
    result = lexical_warta.search("Which clinics received a vaccine shipment?", k=3,
                                  filters=Filters.parse(sources=[GLOBE], since="2025-03-01"))
    assert result["filters"] == {"sources": [GLOBE], "since": "2025-03-01", "until": None, "langs": [],
                                 "matching_documents": 4}
    assert "notices" not in result and len(result["passages"]) == 3
    none = lexical_warta.search("Siapa yang menerima vaksin?", filters=Filters.parse(sources=["Tempo"], since="2025-01-01"))
    assert none["passages"] == []
    assert none["notices"] == ["Tidak ada dokumen yang cocok dengan filter: media Tempo, sejak 2025-01-01."]
    unmatched = lexical_warta.search("football", filters=Filters.parse(langs="en"))
    assert unmatched["passages"] == [] and "Only the 6 document(s) matching" in unmatched["notices"][0]
    assert "filters" not in lexical_warta.search("vaksin")  # nothing filtered, nothing echoed


def test_an_answer_says_when_no_document_passes_the_filters_or_that_only_some_were_searched(lexical_warta):
    answer = lexical_warta.ask("Which clinics received a vaccine shipment?", filters=Filters.parse(until="2020-01-01"))
    assert answer.abstained and answer.hits == []
    assert answer.text == "No documents match the filters: until 2020-01-01."
    assert answer.to_json()["filters"]["matching_documents"] == 0
    off_topic = lexical_warta.ask("Who won the football match?", filters=Filters.parse(langs="en"))
    assert off_topic.abstained
    assert "Only the 6 document(s) matching the filters were searched: language English." in off_topic.notices
    verdict = lexical_warta.check("The Bandung clinic received a vaccine shipment.", filters=Filters.parse(sources="Tempo"))
    assert verdict.verdict == "not_found" and verdict.explanation == "No documents match the filters: outlet Tempo."
    assert verdict.to_json()["filters"]["sources"] == ["Tempo"]


def test_outlets_lists_each_source_once(lexical_warta):
    assert lexical_warta.outlets() == [BIG, GLOBE, SMALL]
