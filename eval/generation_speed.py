"""python -m eval.generation_speed: time to first token and decode speed of the default generator
configuration on this CPU, with a randomly initialised model of the default model's architecture
and size (Qwen2.5-0.5B-Instruct: 24 layers, hidden 896, 14 heads, 2 KV heads, vocabulary
151,936): the weights do not change the arithmetic, so the timing is the real one.

It runs the real generation path (model.generate with a streamer, greedy; with the system prompt's
cache it is rag.answer.generation.PrefixCache, copied per request), for fp32 and bf16, with and without
that cache, at the default context budget (Settings.context_tokens). A prompt is the system prompt
(SYSTEM_TOKENS), the passages (the budget) and the question with its chat-template frame
(QUESTION_TOKENS). `measure_generation` is the function eval.bench calls.

Measured on the 2-core AMD EPYC (AVX-512 with AVX512_BF16) this project runs on, torch 2.13, 32
new tokens, best of 2 (bf16: 1); prompt = 140 system + context + 45 question tokens:

| dtype | context tokens | prompt tokens | tokens read | system prompt cached | first token (s) | decode tokens/s |
|-------|----------------|---------------|-------------|----------------------|-----------------|-----------------|
| fp32  | 200            | 385           | 385         | no                   | 1.88            | 8.1             |
| fp32  | 200            | 385           | 245         | yes                  | 1.18            | 7.8             |
| fp32  | 250            | 435           | 435         | no                   | 2.15            | 7.6             |
| fp32  | 250            | 435           | 295         | yes                  | 1.47            | 8.3             |
| fp32  | 300            | 485           | 485         | no                   | 2.33            | 8.2             |
| fp32  | 300            | 485           | 345         | yes                  | 1.61            | 7.8             |
| fp32  | 350            | 535           | 535         | no                   | 2.61            | 8.0             |
| fp32  | 350            | 535           | 395         | yes                  | 1.78            | 8.3             |
| fp32  | 450            | 635           | 635         | no                   | 3.11            | 7.3             |
| fp32  | 450            | 635           | 495         | yes                  | 2.23            | 7.5             |
| bf16  | 300            | 485           | 485         | no                   | 0.77            | 17.0            |
| bf16  | 300            | 485           | 345         | yes                  | 0.50            | 17.3            |

Earlier, on a 2-core AVX2 Zen3 without bf16 instructions: fp32 1,500 prompt tokens 12-13 s, decode
5.6 tokens/s, bf16 4.5x slower at prefill. rag.answer.generation.generation_dtype picks by CPU accordingly.
"""
from __future__ import annotations

import argparse
import sys
import time
from functools import lru_cache

from eval.report import table
from rag.config import DEFAULT_CONTEXT_TOKENS

QWEN25_05B = dict(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                  num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
                  tie_word_embeddings=True, rope_theta=1000000.0)
# Estimates for the Qwen2.5 tokenizer (not installed here; ~4.3 characters a token in English):
# the system prompt of rag.answer.generation (612 characters, 97 words, the canary) with its
# "<|im_start|>system ... <|im_end|>" frame ~140; the user frame, "Question: …" (a 20-token
# question) and "Answer in …, citing passages as [n]." with the assistant header ~45.
SYSTEM_TOKENS = 140
QUESTION_TOKENS = 45


def prompt_tokens_for(context_tokens: int) -> int:
    """Prompt length of a request with `context_tokens` of passages."""
    return SYSTEM_TOKENS + context_tokens + QUESTION_TOKENS


@lru_cache(maxsize=2)
def _model(dtype: str, config: tuple):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(**dict(config))).to(getattr(torch, dtype)).eval()
    with torch.inference_mode():  # first-call costs (allocator, kernels) out of the timings
        model(input_ids=torch.zeros((1, 8), dtype=torch.long))
    return model


class _Clock:
    """A streamer that notes when each put() comes: the prompt first, then each new token."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def put(self, value) -> None:
        self.times.append(time.perf_counter())

    def end(self) -> None:
        pass


DTYPES = {"fp32": "float32", "bf16": "bfloat16"}


def measure_generation(prompt_tokens: int, new_tokens: int, dtype: str, cached_prefix: bool, *,
                       prefix_tokens: int = SYSTEM_TOKENS, repeats: int = 1, config: dict | None = None) -> dict:
    """Time to first token (s) and decode speed (tokens/s after the first) for one greedy request
    of `prompt_tokens` random tokens, in `dtype` ("fp32" or "bf16"); with
    `cached_prefix`, its first `prefix_tokens` (the system prompt) come from a cache computed
    beforehand and copied into the request, as in rag.answer.generation. Best of `repeats` runs.
    `config`: model configuration (default: Qwen2.5-0.5B's); the model is built once per dtype."""
    import torch

    from rag.answer.generation import PrefixCache

    config = config or QWEN25_05B
    model = _model(DTYPES[dtype], tuple(sorted(config.items())))
    if cached_prefix and not 0 < prefix_tokens < prompt_tokens:
        raise ValueError(f"a cached prefix of {prefix_tokens} tokens needs a longer prompt than {prompt_tokens}")
    generator = torch.Generator().manual_seed(prompt_tokens)
    # Token 0 and up are ordinary tokens: no eos is set, so each run writes exactly new_tokens.
    ids = torch.randint(0, config["vocab_size"], (1, prompt_tokens), generator=generator)
    prefix = PrefixCache(model, ids[0, :prefix_tokens].tolist()) if cached_prefix else None
    best = None
    for _ in range(max(1, repeats)):
        clock = _Clock()
        with torch.inference_mode():
            started = time.perf_counter()
            cache = {"past_key_values": prefix.copy()} if prefix else {}
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), **cache, streamer=clock,
                                 max_new_tokens=new_tokens, do_sample=False,
                                 eos_token_id=None, pad_token_id=0)
        written = out.shape[1] - prompt_tokens
        ttft = clock.times[1] - started
        decode = clock.times[-1] - clock.times[1]
        run = {"ttft_s": round(ttft, 3),
               "tokens_per_s": round((written - 1) / decode, 2) if written > 1 and decode > 0 else None,
               "prompt_tokens": prompt_tokens, "dtype": dtype,
               "cached_prefix": bool(cached_prefix), "prefill_tokens": prompt_tokens - (prefix_tokens if prefix else 0),
               "new_tokens": written}
        if best is None or run["ttft_s"] < best["ttft_s"]:
            best = run
    return best


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(prog="python -m eval.generation_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--context-tokens", type=int, nargs="+", default=[DEFAULT_CONTEXT_TOKENS],
                        help=f"context budgets to time (default {DEFAULT_CONTEXT_TOKENS}, Settings.context_tokens); "
                             f"the prompt adds {SYSTEM_TOKENS} system and {QUESTION_TOKENS} question tokens")
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--dtype", choices=("fp32", "bf16"), nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--cache", choices=("yes", "no"), nargs="+", default=["no", "yes"],
                        help="with and/or without the system prompt's cache")
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs per row")
    args = parser.parse_args(argv)
    rows = []
    for dtype in args.dtype:
        for context in args.context_tokens:
            for cached in args.cache:
                r = measure_generation(prompt_tokens_for(context), args.new_tokens, dtype, cached == "yes",
                                       repeats=args.repeats)
                rows.append([r["dtype"], context, r["prompt_tokens"], r["prefill_tokens"], cached,
                             f"{r['ttft_s']:.2f}", f"{r['tokens_per_s']:.1f}"])
                print(*rows[-1], sep=" | ", file=sys.stderr, flush=True)
        _model.cache_clear()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.new_tokens} new tokens, "
          f"best of {args.repeats}")
    print("\n".join(table(["dtype", "context tokens", "prompt tokens", "tokens read", "system prompt cached",
                           "time to first token (s)", "decode tokens/s"], rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
