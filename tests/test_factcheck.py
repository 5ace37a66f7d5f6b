"""Fact checks on the real corpus: the structured comparison decides alone. Claims in the other
language than their source need the multilingual model to be found (model-free retrieval no longer
translates through the glossary, which did not help on the public QA sets); the rest run model-free."""
import pytest

# Claims whose source is in the other language: checked with the bundled multilingual model.
CROSS_LINGUAL = {"MiLab menargetkan ekspor tahunan sebesar 9,3 juta unit pada 2030.",
                 "MiLab sudah mengekspor 900.000 unit Dermatix ke Tiongkok",
                 "Simposium Indonesia-Korea 2024 menampilkan lima sesi presentasi."}


@pytest.mark.parametrize("claim, lang, verdict, quoted", [
    ("MiLab shipped its first container of Dermatix to China on 4 December 2025.", "en", "supported", "4 December 2025"),
    ("Obat NBP telah digunakan oleh lebih dari 40 juta pasien di seluruh dunia.", "id", "supported", "40 juta pasien"),
    ("MiLab menargetkan ekspor tahunan sebesar 9,3 juta unit pada 2030.", "id", "supported", "9.3 million"),  # source in English
    ("Kepala BPOM bertemu Commissioner NMPA Li Li di Beijing.", "id", "supported", "di Beijing"),
    ("MiLab sudah mengekspor 900.000 unit Dermatix ke Tiongkok", "id", "contradicted", "700,000 units"),  # wrong number
    ("MiLab projects annual exports of 12 million units by 2030.", "en", "contradicted", "9.3 million units"),
    ("The Shanghai Health & Life Science Summit 2025 was held on 19 November.", "en", "contradicted", "9 November"),  # wrong date
    ("MiLab entered export markets in 2021, starting with South Korea.", "en", "contradicted", "markets in 2023"),  # wrong year
    ("BPOM mempercepat evaluasi lebih dari 70 produk biologi sejak 2019.", "id", "contradicted", "sejak 2017"),  # wrong year
    ("MiLab's manufacturing plant is based in Surabaya, East Java.", "en", "contradicted", "Based in Cikarang"),  # wrong city
    ("Kepala BPOM bertemu Commissioner NMPA Li Li di Shanghai.", "id", "contradicted", "di Beijing"),  # wrong city
    ("Simposium Indonesia-Korea 2024 menampilkan lima sesi presentasi.", "id", "contradicted", "three presentation sessions"),
    ("Proposal kawasan Biotown diajukan kepada Kementerian Kesehatan.", "id", "contradicted", "Kementerian Perindustrian"),
    ("Kalbe Farma will produce HPV vaccines in Indonesia.", "en", "not_found", None),  # never mentioned
    ("MiLab berencana membangun pabrik kedua di Batam.", "id", "not_found", None),
    ("Dermatix Ultra will retail in Chinese pharmacies for 150 yuan per tube.", "en", "not_found", None),
    ("Sinovac akan membangun pusat riset vaksin bersama BPOM di Bandung.", "id", "not_found", None),
])
def test_verdicts_on_the_seed_corpus(request, claim, lang, verdict, quoted):
    warta = request.getfixturevalue("seed_bundled" if claim in CROSS_LINGUAL else "seed_warta")
    result = warta.check(claim)
    assert (result.verdict, result.lang) == (verdict, lang), result.explanation
    documents = {d.doc_id: d.text for d in warta.index.documents.values()}
    for c in result.evidence:  # evidence is quoted verbatim
        assert documents[c.doc_id][c.start:c.end] == c.quote
    if quoted:  # ... and it is the sentence that decides
        assert quoted in result.evidence[0].quote
    else:  # not found: the closest passages are quoted, so the reader sees what the corpus does say
        assert 1 <= len(result.evidence) <= 2


def test_a_wrong_city_is_named_on_both_sides(seed_warta):
    result = seed_warta.check("MiLab's manufacturing plant is based in Surabaya, East Java.")
    assert result.explanation == "The corpus places it in Cikarang, West Java [1], the claim in Surabaya, East Java."
    assert result.differences == [{"kind": "place", "claim": "Surabaya", "corpus": "Cikarang"},
                                  {"kind": "place", "claim": "East Java", "corpus": "West Java"}]


def test_a_wrong_figure_is_named_on_both_sides_in_the_claims_language(seed_warta, seed_bundled):
    result = seed_warta.check("MiLab projects annual exports of 12 million units by 2030")
    assert result.explanation == "The corpus says 9.3 million units [1], the claim says 12 million units."
    assert "9.3 million units" in result.evidence[0].quote
    assert result.differences == [{"kind": "number", "claim": "12 million units", "corpus": "9.3 million units"}]
    result = seed_bundled.check("MiLab sudah mengekspor 900.000 unit Dermatix ke Tiongkok")
    assert result.explanation == "Korpus menyebut nearly 700,000 units [1], klaim menyebut 900.000 unit Dermatix."


def test_not_found_quotes_the_closest_passages_and_says_so(seed_warta):
    result = seed_warta.check("Kalbe Farma will produce HPV vaccines in Indonesia.")
    assert result.explanation == "The corpus does not say this; the closest passages it has are quoted below."
    assert result.evidence and "Kalbe Farma" in " ".join(c.quote for c in result.evidence)


def test_empty_claim_is_refused(seed_warta):
    with pytest.raises(ValueError, match="the claim is empty"):
        seed_warta.check("  ")


def test_an_nli_model_adds_scores_through_the_real_loading_code(tiny_model, tmp_path_factory, settings):
    """A tiny random NLI model: its scores are noise, so this checks the path, not the judgement."""
    from rag.pipeline import Warta
    from tests.tiny_models import build_tiny_nli_model

    nli_dir = build_tiny_nli_model(tmp_path_factory.mktemp("tiny-nli"), tiny_model.parent / "bert")
    warta = Warta.open(settings.with_overrides(nli_model=str(nli_dir)), report=lambda m: None, with_generator=True)
    assert warta.nli is not None and warta.nli.labels == ["entailment", "neutral", "contradiction"]
    result = warta.check("MiLab projects annual exports of 12 million units by 2030")
    assert result.nli and all(abs(sum(s.values()) - 1) < 1e-3 for s in result.nli)
    assert result.verdict == "contradicted" and result.rule == "figure"  # a figure conflict outranks NLI
    assert result.mode["nli"] == str(nli_dir) and "nli" in result.timings_ms


def test_a_missing_nli_model_is_named_and_checks_go_on(settings, messages):
    from rag.pipeline import Warta
    from tests.conftest import MISSING_MODEL

    warta = Warta.open(settings.with_overrides(nli_model=MISSING_MODEL), report=messages.report, with_generator=True)
    assert warta.nli is None and any("fact checks without NLI: nli model warta-tests/no-such-model is not in the local cache" in m for m in messages)
    assert warta.check("MiLab projects annual exports of 12 million units by 2030.").verdict == "contradicted"
