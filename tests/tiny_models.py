"""Tiny real models built locally, so tests run Warta's real loading code without the hub.

    python -m tests.tiny_models embedding DIR    # builds one from the command line
    python -m tests.tiny_models causal-lm DIR
"""
from __future__ import annotations

import sys
from pathlib import Path

from rag.ingest.corpus import load_corpus

ROOT = Path(__file__).resolve().parent.parent


def build_tiny_embedding_model(target: Path, corpus_dir: Path = ROOT / "corpus", seed: int = 0) -> Path:
    """A WordPiece tokenizer trained on the corpus + a 2-layer BERT, saved as a sentence-transformers
    model (mean pooling, normalisation) in `target`. Random weights: real code path, no semantics."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling
    from sentence_transformers.base.modules import Normalize, Transformer
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, BertTokenizerFast

    texts = [doc.text for doc in load_corpus(corpus_dir).documents]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=2000, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tokenizer.train_from_iterator(texts, trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", tokenizer.token_to_id("[CLS]")), ("[SEP]", tokenizer.token_to_id("[SEP]"))],
    )
    bert_dir = target / "bert"
    fast = BertTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                             cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]", model_max_length=256)
    fast.save_pretrained(bert_dir)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=tokenizer.get_vocab_size(), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=256)
    BertModel(config).save_pretrained(bert_dir)

    transformer = Transformer(str(bert_dir), max_seq_length=256)
    model = SentenceTransformer(modules=[transformer, Pooling(32, pooling_mode="mean"), Normalize()], device="cpu")
    st_dir = target / "sentence-transformer"
    model.save(str(st_dir))
    return st_dir


def build_tiny_nli_model(target: Path, tokenizer_dir: Path, seed: int = 0) -> Path:
    """A 2-layer BERT sequence classifier with entailment/neutral/contradiction labels (random
    weights), using the tokenizer in `tokenizer_dir`: the real NLI loading and scoring path."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    tokenizer.save_pretrained(target)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=256, num_labels=3,
                        id2label={0: "ENTAILMENT", 1: "NEUTRAL", 2: "CONTRADICTION"},
                        label2id={"ENTAILMENT": 0, "NEUTRAL": 1, "CONTRADICTION": 2})
    BertForSequenceClassification(config).save_pretrained(target)
    return target


CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_causal_lm(target: Path, corpus_dir: Path = ROOT / "corpus", seed: int = 0) -> Path:
    """A 2-layer Qwen2-architecture causal LM with random weights, a WordPiece tokenizer trained on
    the corpus and a ChatML chat template, saved in `target`. Real loading, templating and
    generation code paths; its words are noise."""
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    texts = [doc.text for doc in load_corpus(corpus_dir).documents]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=False)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    special = ["[PAD]", "[UNK]", "<|im_start|>", "<|im_end|>", "<|endoftext|>"]
    tokenizer.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=3000, special_tokens=special))
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                   eos_token="<|im_end|>", bos_token=None, model_max_length=2048)
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(target)
    torch.manual_seed(seed)
    config = Qwen2Config(vocab_size=tokenizer.get_vocab_size(), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=2048, tie_word_embeddings=True,
                         eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id)
    Qwen2ForCausalLM(config).save_pretrained(target)
    return target


def build_tiny_parrot_lm(target: Path, answer: str, corpus_dir: Path = ROOT / "corpus", seed: int = 0,
                         steps: int = 120) -> Path:
    """A tiny causal LM that answers `answer`, verbatim, whatever it is asked: a model that really
    misbehaves (writes markup, repeats its system prompt), to test the defences around a model.

    Same family as build_tiny_causal_lm (2-layer Qwen2, the same ChatML template) but with a
    byte-level BPE tokenizer, as real Qwen models have: the WordPiece decoder writes "<script>" as
    "< script >", so that model could never emit markup. Trained on the CPU for `steps` steps
    (about 10 s) on prompts made by the real GenerativeAnswerer.prompt from corpus passages and
    questions; checked on prompts it never saw, RuntimeError if it does not answer `answer` there.
    """
    import random

    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    from rag.ingest.chunking import chunk_corpus
    from rag.answer.generation import load_generator
    from rag.search.retrieval import Hit

    documents = load_corpus(corpus_dir).documents
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    special = ["[PAD]", "<|im_start|>", "<|im_end|>", "<|endoftext|>"]
    # The answer is part of the tokenizer's training text, as HTML is for a real model's tokenizer:
    # fewer tokens to learn.
    tokenizer.train_from_iterator([d.text for d in documents] + [answer] * 20, trainers.BpeTrainer(
        vocab_size=1000, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="[PAD]", eos_token="<|im_end|>",
                                   bos_token=None, model_max_length=2048)
    fast.chat_template = CHAT_TEMPLATE
    answer_ids = fast(answer, add_special_tokens=False)["input_ids"]
    if fast.decode(answer_ids) != answer:
        raise ValueError(f"the tokenizer cannot write {answer!r}")
    fast.save_pretrained(target)
    torch.manual_seed(seed)
    config = Qwen2Config(vocab_size=len(fast), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         tie_word_embeddings=True, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id)
    Qwen2ForCausalLM(config).save_pretrained(target)

    # Prompts exactly as Warta builds them: the real answerer, on passages of the real corpus.
    generator = load_generator(str(target))
    by_id = {d.doc_id: d for d in documents}
    passages = chunk_corpus(documents, 500, 0)
    rng = random.Random(seed)

    def prompt() -> str:
        chosen = rng.sample(passages, rng.randint(1, 5))
        hits = [Hit(p, by_id[p.doc_id], rank, 1.0 / rank) for rank, p in enumerate(chosen, start=1)]
        words = rng.choice(passages).text.split()
        start = rng.randrange(len(words))
        question = " ".join(words[start:start + rng.randint(2, 14)]).strip() + "?"
        return generator.prompt(question, rng.choice(["id", "en"]), hits)

    target_ids = torch.tensor(answer_ids + [fast.eos_token_id])
    model = generator.model

    def train(n: int) -> None:
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.0)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / n)
        for _ in range(n):
            ids = torch.tensor(fast(prompt(), add_special_tokens=False)["input_ids"])
            # Only the answer's logits: the prompt is context, not something to learn.
            logits = model(input_ids=torch.cat([ids, target_ids])[None], logits_to_keep=len(target_ids) + 1).logits
            loss = torch.nn.functional.cross_entropy(logits[0, :-1], target_ids)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        model.eval()

    def mistake() -> str | None:
        """What it says instead of `answer` on one of three new prompts, or None."""
        with torch.inference_mode():
            for _ in range(3):
                inputs = fast(prompt(), return_tensors="pt", add_special_tokens=False)
                out = model.generate(**inputs, max_new_tokens=len(target_ids) + 8, do_sample=False,
                                     pad_token_id=fast.pad_token_id)
                said = fast.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
                if said != answer:
                    return said
        return None

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is as fast, and leaves a core to the rest
    try:
        train(steps)
        # How fast it learns varies with the answer (a random canary can repeat itself, "F28F28"):
        # more rounds until it holds, each checked.
        for extra in range(6):
            said = mistake()
            if said is None:
                break
            if extra == 5:
                raise RuntimeError(f"the parrot did not learn its answer: it says {said!r}")
            train(steps // 2)
    finally:
        torch.set_num_threads(threads)
    model.save_pretrained(target)
    return target


if __name__ == "__main__":
    builders = {"embedding": build_tiny_embedding_model, "causal-lm": build_tiny_causal_lm}
    if len(sys.argv) != 3 or sys.argv[1] not in builders:
        sys.exit("usage: python -m tests.tiny_models embedding|causal-lm DIR")
    print(builders[sys.argv[1]](Path(sys.argv[2])))
