"""Tiny real models built locally, so tests run Warta's real loading code without the hub.

    python -m tests.tiny_models embedding DIR    # builds one from the command line
    python -m tests.tiny_models causal-lm DIR
"""
from __future__ import annotations

import sys
from pathlib import Path

from rag.corpus import load_corpus

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


if __name__ == "__main__":
    builders = {"embedding": build_tiny_embedding_model, "causal-lm": build_tiny_causal_lm}
    if len(sys.argv) != 3 or sys.argv[1] not in builders:
        sys.exit("usage: python -m tests.tiny_models embedding|causal-lm DIR")
    print(builders[sys.argv[1]](Path(sys.argv[2])))
