"""Tiny real models built locally, so tests run Warta's real loading code without the hub.

    python -m tests.tiny_models embedding DIR    # builds one from the command line
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


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "embedding":
        sys.exit("usage: python -m tests.tiny_models embedding DIR")
    print(build_tiny_embedding_model(Path(sys.argv[2])))
