"""What a model decided and how strongly: 0/1 selections, a continuous score, and how each was made.

The gate judges models it has never seen, so it asks each for what it offers:

- a classifier with `predict_proba`: the score is P(positive class); it selects with its own
  `predict`, or, when a probability threshold is given (the policy's `threshold:` or the gate's
  `--threshold`), where `P(positive) >= threshold`, the rule deployed scoring services apply;
- a classifier with only `decision_function` (e.g. `SVC()`, `LinearSVC`): the score is the
  decision function (a margin, not a probability, so a probability threshold does not apply);
  it selects with `predict`;
- a regressor (or any model whose `predict` gives continuous numbers): the output is the score; it
  selects only with a threshold (`score >= threshold`). Without one there are no selections, and
  the rules that need them say so, while rules computed from scores alone (`roc_auc`) still run.

Selections must be 0/1: a classifier predicting other labels is refused (map the target first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from policies.results import MetricInputError

__all__ = ["Predictions", "ScoreKind", "ThresholdSource", "binary", "check_threshold", "predict"]

ScoreKind = Literal["probability", "decision_function", "regression"]
ThresholdSource = Literal["cli", "policy", "api"]


@dataclass(frozen=True)
class Predictions:
    """`selected` is None for a score-only model without a threshold; `score` is None for a model
    that offers no continuous output (a bare `predict`)."""

    selected: npt.NDArray[np.int64] | None
    score: npt.NDArray[np.float64] | None
    score_kind: ScoreKind | None
    how: str

    def as_record(self) -> dict[str, Any]:
        """How selections and scores were made, for the evaluation's parameters."""
        return {"selection": self.how, "score": self.score_kind}


def check_threshold(value: float | None, source: str) -> float | None:
    """A probability threshold lies in [0, 1]; anything else (NaN included) is a usage error."""
    if value is None:
        return None
    if not 0.0 <= value <= 1.0:
        raise MetricInputError(f"the threshold ({source}) must be a probability between 0 and 1, got {value!r}")
    return float(value)


def predict(model: Any, features: pd.DataFrame, *, threshold: float | None = None) -> Predictions:
    """Selections and scores of `model` on `features` (see module doc for each model family)."""
    threshold = check_threshold(threshold, "given")
    if features.isna().any().any():
        bad = [str(c) for c in features.columns[features.isna().any()]]
        raise MetricInputError(f"feature columns {bad} hold missing values (NaN); the model cannot score them")
    try:
        if _offers(model, "predict_proba"):
            return _from_probability(model, features, threshold)
        if _is_classifier(model):
            return _from_classifier(model, features, threshold)
        return _from_regression(model, features, threshold)
    except (ValueError, TypeError, KeyError) as exc:
        raise MetricInputError(f"the model cannot score this data: {exc}".replace("\n", " ")) from None


def binary(values: Any, what: str) -> npt.NDArray[np.int64]:
    """0/1 as int64, or a usage error naming the values found."""
    series = pd.Series(values)
    if series.isna().any():
        raise MetricInputError(f"{what} has {int(series.isna().sum())} missing values (NaN)")
    distinct = sorted({v.item() if hasattr(v, "item") else v for v in series.unique()}, key=str)
    if not set(distinct) <= {0, 1}:
        shown = ", ".join(map(repr, distinct[:5])) + (" …" if len(distinct) > 5 else "")
        raise MetricInputError(
            f"{what} has {len(distinct)} distinct values ({shown}); binary metrics need 0/1 — map it first"
        )
    return np.asarray(series.astype("int64").to_numpy(), dtype=np.int64)


def _offers(model: Any, method: str) -> bool:
    """hasattr, which is also False for scikit-learn's conditional methods (SVC(probability=False))."""
    return callable(getattr(model, method, None))


def _is_classifier(model: Any) -> bool:
    return getattr(model, "_estimator_type", None) == "classifier" or hasattr(model, "classes_")


def _from_probability(model: Any, features: pd.DataFrame, threshold: float | None) -> Predictions:
    probabilities = np.asarray(model.predict_proba(features), dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[1] != 2:
        raise MetricInputError(
            f"only binary classifiers are judged; the model scores {probabilities.shape[-1]} classes"
        )
    score = np.ascontiguousarray(probabilities[:, 1])
    if threshold is None:
        return Predictions(binary(model.predict(features), "the model's predictions"), score, "probability", "predict")
    selected = (score >= threshold).astype(np.int64)
    return Predictions(selected, score, "probability", f"predict_proba[:, 1] >= {threshold:g}")


def _from_classifier(model: Any, features: pd.DataFrame, threshold: float | None) -> Predictions:
    if threshold is not None:
        raise MetricInputError(
            f"a probability threshold ({threshold:g}) was given, but the model ({type(model).__name__}) has no "
            "predict_proba; remove the threshold, or calibrate the model (e.g. CalibratedClassifierCV)"
        )
    selected = binary(model.predict(features), "the model's predictions")
    if _offers(model, "decision_function"):
        score = _vector(model.decision_function(features))
        return Predictions(selected, score, "decision_function", "predict")
    return Predictions(selected, None, None, "predict")


def _from_regression(model: Any, features: pd.DataFrame, threshold: float | None) -> Predictions:
    output = np.asarray(model.predict(features))
    if output.dtype.kind not in "biuf":
        return Predictions(binary(output, "the model's predictions"), None, None, "predict")
    values = _vector(output)
    if set(np.unique(values).tolist()) <= {0.0, 1.0} and threshold is None:
        return Predictions(values.astype(np.int64), None, None, "predict")  # a predict-only classifier
    if not np.isfinite(values).all():
        raise MetricInputError(f"the model's output has {int((~np.isfinite(values)).sum())} non-finite values")
    if threshold is None:
        return Predictions(None, values, "regression", "predict gives continuous scores and no threshold was given")
    return Predictions((values >= threshold).astype(np.int64), values, "regression", f"predict >= {threshold:g}")


def _vector(output: Any) -> npt.NDArray[np.float64]:
    values = np.asarray(output, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise MetricInputError(f"expected one score per row, the model returned shape {values.shape}")
    return values
