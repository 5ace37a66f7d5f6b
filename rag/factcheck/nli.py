"""Optional natural-language inference: how strongly a passage entails or contradicts a claim.

Any transformers sequence-classification model whose labels name entailment, neutral and
contradiction works (e.g. an mDeBERTa-v3 XNLI model), by hub id in the local cache or by local
directory (WARTA_NLI_MODEL). Off by default: the structured comparison (rag.factcheck.compare) decides
alone then.
"""
from __future__ import annotations

from pathlib import Path

from rag.errors import ModelUnavailable
from rag.models import how_to_fix, resolve_model

LABELS = ("entailment", "neutral", "contradiction")


def label_order(id2label: dict) -> list[str]:
    """Our label for each of the model's output indices, from its config's names.

    >>> label_order({0: "ENTAILMENT", 1: "neutral", 2: "Contradiction"})
    ['entailment', 'neutral', 'contradiction']
    """
    order = []
    for index in sorted(id2label, key=int):
        name = str(id2label[index]).lower()
        match = [label for label in LABELS if name.startswith(label[:6])]
        if not match:
            raise ValueError(f"label {id2label[index]!r} is not one of {', '.join(LABELS)}")
        order.append(match[0])
    if sorted(order) != sorted(LABELS):
        raise ValueError(f"labels {list(id2label.values())} are not exactly {', '.join(LABELS)}")
    return order


class NLIModel:
    def __init__(self, model_id: str, path: Path, max_length: int = 256) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.model_id = model_id
        self.max_length = max_length
        self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self._model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True).eval()
        self.labels = label_order(self._model.config.id2label)

    def scores(self, premises: list[str], hypothesis: str) -> list[dict]:
        """For each premise, {"entailment", "neutral", "contradiction"} probabilities (sum 1)."""
        import torch

        if not premises:
            return []
        batch = self._tokenizer(premises, [hypothesis] * len(premises), truncation=True,
                                max_length=self.max_length, padding=True, return_tensors="pt")
        with torch.inference_mode():
            probabilities = self._model(**batch).logits.softmax(-1).tolist()
        return [{label: round(p, 4) for label, p in zip(self.labels, row)} for row in probabilities]


def load_nli(model_id: str) -> NLIModel:
    path = resolve_model(model_id, "nli")
    try:
        return NLIModel(model_id, path)
    except (OSError, ValueError, KeyError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelUnavailable(f"NLI model {model_id} at {path} cannot be loaded ({first}); {how_to_fix('nli')}") from None
