"""python -m eval.generation_speed: time to first token and decode speed of the default generator
configuration on this CPU, with a randomly initialised model of the default model's architecture
and size (Qwen2.5-0.5B-Instruct: 24 layers, hidden 896, 14 heads, 2 KV heads, vocabulary
151,936): the weights do not change the arithmetic, so the timing is the real one.
"""
from __future__ import annotations

import argparse
import sys
import time

from eval.report import table

QWEN25_05B = dict(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                  num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
                  tie_word_embeddings=True, rope_theta=1000000.0)


def main(argv: list[str] | None = None) -> int:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    parser = argparse.ArgumentParser(prog="python -m eval.generation_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--prompt-tokens", type=int, nargs="+", default=[300, 800, 1500],
                        help="prompt lengths (the default config sends ~800: system prompt, 600 context, question)")
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), nargs="+", default=["float32"])
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    rows = []
    for dtype in args.dtype:
        model = Qwen2ForCausalLM(Qwen2Config(**QWEN25_05B)).to(getattr(torch, dtype)).eval()
        for n in args.prompt_tokens:
            ids = torch.randint(0, QWEN25_05B["vocab_size"], (1, n))
            with torch.inference_mode():
                started = time.perf_counter()
                out = model(input_ids=ids, use_cache=True)
                first = time.perf_counter() - started
                past, token = out.past_key_values, out.logits[:, -1:].argmax(-1)
                started = time.perf_counter()
                for _ in range(args.new_tokens):
                    out = model(input_ids=token, past_key_values=past, use_cache=True)
                    past, token = out.past_key_values, out.logits[:, -1:].argmax(-1)
                decode = time.perf_counter() - started
            rows.append([dtype, n, f"{first:.2f}", f"{args.new_tokens / decode:.1f}"])
        del model
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("\n".join(table(["dtype", "prompt tokens", "time to first token (s)", "decode tokens/s"], rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
