"""The generator's prompt budget and system-prompt cache, on the tiny random LM: the passages fit
the context token budget by the model's tokenizer and are cut only between sentences, passage n
stays hits[n - 1], and generation with the cached system prompt writes the very same tokens as
reading the whole prompt."""
import re

import pytest

from rag.config import Settings, settings_from_env
from rag.errors import ConfigError, ModelUnavailable
from rag.answer.generation import CANARY, load_generator
from rag.ingest.sentences import split_sentences
from rag.answer.verify import verify

QUESTION = "Berapa unit Dermatix diekspor MiLab ke Tiongkok pada 2025?"
PASSAGE = re.compile(r'<passage n="(\d+)" source="([^"]*)">\n(.*?)\n</passage>', re.S)


@pytest.fixture(scope="module")
def cached(tiny_lm):
    return load_generator(str(tiny_lm), max_new_tokens=24, context_tokens=400)


@pytest.fixture(scope="module")
def uncached(tiny_lm):
    return load_generator(str(tiny_lm), max_new_tokens=24, context_tokens=400, prefix_cache=False)


@pytest.fixture(scope="module")
def hits(seed_warta):
    return seed_warta.retriever.retrieve(QUESTION, k=5, mode="lexical")


def test_context_tokens_setting():
    assert Settings().context_tokens == settings_from_env({}).context_tokens
    assert settings_from_env({"WARTA_CONTEXT_TOKENS": "420"}).context_tokens == 420
    with pytest.raises(ConfigError):
        settings_from_env({"WARTA_CONTEXT_TOKENS": "lots"})
    with pytest.raises(ConfigError):
        Settings(context_tokens=10)


def test_the_pipeline_passes_the_budget_to_the_generator(tiny_lm):
    from rag.models import open_generator

    generator, reason = open_generator(Settings(generator_model=str(tiny_lm), context_tokens=321))
    assert reason is None and generator.context_tokens == 321


@pytest.mark.parametrize("budget", [64, 150, 400, 700, 5000])
def test_passages_fit_the_budget_in_whole_sentences_and_keep_their_numbers(cached, hits, budget):
    cached.context_tokens = budget
    try:
        block = cached._passage_block(hits)
    finally:
        cached.context_tokens = 400
    assert len(cached.tokenizer(block, add_special_tokens=False)["input_ids"]) <= budget
    shown = PASSAGE.findall(block)
    assert "\n".join(f'<passage n="{n}" source="{t}">\n{x}\n</passage>' for n, t, x in shown) == block
    if budget >= 150:
        assert shown  # at least one passage's first sentence fits
    numbers = [int(n) for n, _, _ in shown]
    assert numbers == sorted(set(numbers))
    for n, title, text in shown:
        hit = hits[int(n) - 1]  # passage n is hits[n - 1], whatever was left out
        assert title == hit.document.title and hit.passage.text.startswith(text)
        ends = {len(hit.passage.text.rstrip())} | {s.end for s in split_sentences(hit.passage.text)}
        assert len(text) in ends  # cut after a whole sentence, never inside one
    if budget == 150:  # the first passage does not fit whole: its first sentence does
        assert shown[0][0] == "1" and len(shown[0][2]) < len(hits[0].passage.text.rstrip())
    if budget == 400:  # several passages: each one's first sentence before more of the first
        assert len(shown) >= 2
    if budget == 5000:  # room for everything: nothing is cut
        assert [x for _, _, x in shown] == [h.passage.text.rstrip() for h in hits]


def test_a_citation_of_a_trimmed_passage_is_checked_against_that_passage(cached, hits, seed_warta):
    """With passages cut or left out by the budget, a sentence copied from shown passage n and
    cited [n] verifies against the retrieved passages; cited as another passage's number, it does
    not."""
    cached.context_tokens = 700
    try:
        shown = PASSAGE.findall(cached._passage_block(hits))
    finally:
        cached.context_tokens = 400
    assert len(shown) < len(hits) or any(len(x) < len(hits[int(n) - 1].passage.text.rstrip()) for n, _, x in shown)
    checked = 0
    for n, _, text in shown:
        for sentence in split_sentences(text):
            number = re.search(r"\d[\d,.]*\d", sentence.text)
            if number and sentence.text.endswith("."):
                claim = sentence.text[:-1]
                good = verify(f"{claim} [{n}].", hits, "en", seed_warta.term_weights, seed_warta.evidence)
                assert good.verified == 1 and good.citations[0].doc_id == hits[int(n) - 1].passage.doc_id
                assert good.citations[0].quote in text
                for other, hit in enumerate(hits, start=1):
                    if number.group() not in hit.passage.text:
                        assert verify(f"{claim} [{other}].", hits, "en", seed_warta.term_weights, seed_warta.evidence).verified == 0
                checked += 1
    assert checked


def test_prompt_tokens_begin_with_the_cached_system_prompt(cached, hits):
    assert cached.prefix_reason is None and set(cached.prefixes) == {"id", "en"}
    for lang, prefix in cached.prefixes.items():
        assert CANARY in cached.tokenizer.decode(prefix.ids)
        ids = cached.tokenizer(cached.prompt(QUESTION, lang, hits), add_special_tokens=False)["input_ids"]
        assert ids[:prefix.length] == prefix.ids and cached.prefix_for(ids) is prefix
    assert cached.prefixes["id"].ids != cached.prefixes["en"].ids  # "Answer in Bahasa Indonesia / English"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_cached_system_prompt_writes_the_same_tokens(cached, uncached, hits, lang):
    import torch

    prompt = cached.prompt(QUESTION, lang, hits)
    assert prompt == uncached.prompt(QUESTION, lang, hits)
    inputs = cached.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    prefix = cached.prefix_for(inputs["input_ids"][0])
    read = []
    hook = cached.model.register_forward_pre_hook(lambda m, a, kw: read.append(kw["input_ids"].shape[1]),
                                                  with_kwargs=True)
    try:
        with torch.inference_mode():
            options = dict(max_new_tokens=24, do_sample=False, pad_token_id=cached.tokenizer.pad_token_id)
            with_cache = cached.model.generate(**inputs, past_key_values=prefix.copy(), **options)
            reads_with_cache = list(read)
            without = uncached.model.generate(**inputs, **options)
    finally:
        hook.remove()
    assert reads_with_cache[0] == inputs["input_ids"].shape[1] - prefix.length  # only the rest is read
    assert torch.equal(with_cache, without)
    assert prefix.cache.get_seq_length() == prefix.length  # the request wrote to its copy only
    # The whole streaming path: the same text, from the cache.
    streaming = cached.stream(QUESTION, lang, hits)
    text = "".join(streaming)
    plain = uncached.stream(QUESTION, lang, hits)
    assert text == "".join(plain) and streaming.new_tokens == plain.new_tokens
    assert streaming.cached_tokens == prefix.length and plain.cached_tokens == 0


def test_a_template_that_does_not_begin_with_the_system_prompt_is_read_whole(tiny_lm, hits):
    generator = load_generator(str(tiny_lm), max_new_tokens=4, context_tokens=150, prefix_cache=False)
    generator.tokenizer.chat_template = (  # the system prompt after the user's message
        "{% for message in messages|reverse %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
        "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    generator._cache_system_prompts()
    assert generator.prefixes == {} and "read whole" in generator.prefix_reason
    generation = generator.stream(QUESTION, "id", hits)
    "".join(generation)
    assert generation.cached_tokens == 0 and generation.new_tokens == 4


def test_measure_generation_reports_what_the_bench_reads():
    from eval.generation_speed import measure_generation

    tiny = dict(vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                num_key_value_heads=1, max_position_embeddings=1024, tie_word_embeddings=True)
    for dtype, cached_prefix in (("fp32", True), ("bf16", False)):
        result = measure_generation(200, 6, dtype, cached_prefix, prefix_tokens=80, config=tiny)
        assert {"ttft_s", "tokens_per_s", "prompt_tokens", "dtype", "cached_prefix"} <= set(result)
        assert result["prompt_tokens"] == 200 and result["dtype"] == dtype and result["cached_prefix"] is cached_prefix
        assert result["ttft_s"] > 0 and result["tokens_per_s"] > 0 and result["new_tokens"] == 6
        assert result["prefill_tokens"] == (120 if cached_prefix else 200)


def test_bf16_only_for_large_models_on_cpus_with_bf16_units(tiny_lm):
    from rag.answer.generation import generation_dtype

    assert generation_dtype(494_000_000, {"avx512_bf16": True}) == "bfloat16"
    assert generation_dtype(494_000_000, {"amx_bf16": True, "avx512_bf16": False}) == "bfloat16"
    assert generation_dtype(494_000_000, {"avx2": True}) == "float32"  # bf16 4.5x slower there
    assert generation_dtype(100_000, {"avx512_bf16": True}) == "float32"  # tiny: fp32, exact
    assert load_generator(str(tiny_lm), max_new_tokens=2).dtype == "float32"
    forced = load_generator(str(tiny_lm), max_new_tokens=2, dtype="bfloat16", prefix_cache=False)
    assert forced.dtype == "bfloat16" and str(forced.model.dtype) == "torch.bfloat16"
    with pytest.raises(ModelUnavailable, match="float16"):
        load_generator(str(tiny_lm), dtype="float16")


def test_the_generator_dtype_setting_reaches_the_loaded_model(tiny_lm, settings):
    from rag.pipeline import Warta

    assert Settings().generation_dtype == "auto"
    assert settings_from_env({"WARTA_GENERATION_DTYPE": " BFloat16 "}).generation_dtype == "bfloat16"
    with pytest.raises(ConfigError, match="generator dtype 'float16' is not one of auto, float32, bfloat16"):
        settings_from_env({"WARTA_GENERATION_DTYPE": "float16"})
    warta = Warta.open(settings.with_overrides(generator_model=str(tiny_lm), generation_dtype="bfloat16"),
                       report=lambda m: None, with_generator=True)
    assert str(warta.generator.model.dtype) == "torch.bfloat16"
    assert warta.answer_mode()["generator_dtype"] == "bfloat16"
    from rag.web.chat_format import status_line

    assert "(bfloat16)" in status_line(warta.answer_mode(), warta.index.manifest["counts"])
