"""The fitted answer-sentence and abstention models: logistic regressions whose weights live in
`answer_model.json` next to this file, written by `python -m eval.fit` from the public QA sets'
train splits (IDK-MRC, FacQA) and chosen on their validation splits. Scoring is a dot product;
scikit-learn is needed only to refit.

Three variants of the sentence model, one per situation:
- "full": a model is loaded and the sentence is in the question's language: every feature.
- "semantic": a model is loaded and the sentence is in the other language: words cannot be
  compared across languages, so the lexical features are left out and the embedding decides.
- "lexical": model-free mode: no embedding features.

The abstention model of the same variant reads the best candidate's probability, its margin over
the next one, and what the best sentence holds; Warta answers when its probability that the
question is answered by the passages reaches the variant's threshold (chosen on IDK-MRC
validation, README "How answers are chosen").
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.answer.features import FEATURES, LEXICAL, SEMANTIC

MODEL_FILE = Path(__file__).with_name("answer_model.json")
VARIANTS = ("full", "semantic", "lexical")
ABSTAIN_FEATURES = ("best", "margin", "cov_passage", "cos", "missing_rare", "missing_names", "lacks",
                    "asks_known", "score")


def variant_features(variant: str) -> tuple[str, ...]:
    dropped = {"full": (), "semantic": LEXICAL, "lexical": SEMANTIC}[variant]
    return tuple(f for f in FEATURES if f not in dropped)


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class Logistic:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_json(cls, data: dict) -> "Logistic":
        return cls(tuple(data["features"]), np.array(data["mean"]), np.array(data["scale"]),
                   np.array(data["coef"]), float(data["intercept"]))

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": _rounded(self.mean), "scale": _rounded(self.scale),
                "coef": _rounded(self.coef), "intercept": round(float(self.intercept), 6)}

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """P(positive) of each row (columns in `self.features` order)."""
        z = ((rows - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


def _rounded(values) -> list[float]:
    return [round(float(v), 6) for v in values]


def columns(names: tuple[str, ...], source: tuple[str, ...] = FEATURES) -> list[int]:
    return [source.index(n) for n in names]


@dataclass(frozen=True)
class AnswerModel:
    sentence: dict[str, Logistic]
    abstain: dict[str, Logistic]
    thresholds: dict[str, float]
    follow: float  # a further sentence is quoted when its probability is at least this share of the best's
    about: dict

    @classmethod
    def from_json(cls, data: dict) -> "AnswerModel":
        return cls({v: Logistic.from_json(m) for v, m in data["sentence"].items()},
                   {v: Logistic.from_json(m) for v, m in data["abstain"].items()},
                   {v: float(t) for v, t in data["thresholds"].items()}, float(data["follow"]), data.get("about", {}))

    def to_json(self) -> dict:
        return {"about": self.about, "follow": self.follow, "thresholds": self.thresholds,
                "sentence": {v: m.to_json() for v, m in self.sentence.items()},
                "abstain": {v: m.to_json() for v, m in self.abstain.items()}}

    def sentence_probabilities(self, features: np.ndarray, variants: list[str]) -> np.ndarray:
        """P(the sentence holds the answer) of each candidate row, each by its variant's model."""
        out = np.zeros(len(features))
        for variant in set(variants):
            rows = np.array([v == variant for v in variants])
            model = self.sentence[variant]
            out[rows] = model.probability(features[rows][:, columns(model.features)])
        return out


def abstain_row(best: np.ndarray, p_best: float, p_next: float | None, variant: str) -> np.ndarray:
    """The abstention model's input (ABSTAIN_FEATURES order), from the best candidate's features
    (those its variant withholds read as 0, as when it was fitted) and the best and next
    probabilities."""
    margin = logit(p_best) - (logit(p_next) if p_next is not None else logit(1e-3))
    kept = set(variant_features(variant))
    pick = [best[FEATURES.index(name)] if name in kept else 0.0 for name in ABSTAIN_FEATURES[2:]]
    return np.array([logit(p_best), margin, *pick])


def save(model: AnswerModel, path: Path = MODEL_FILE) -> None:
    path.write_text(json.dumps(model.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


@lru_cache(maxsize=4)
def load(path: Path = MODEL_FILE) -> AnswerModel:
    return AnswerModel.from_json(json.loads(path.read_text(encoding="utf-8")))
