"""The explanation record and its canonical, JSON-safe form.

Kept free of shap and scikit-learn so the service can load and re-judge a recorded explanation
without importing the ML stack.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["ExplainerKind", "GlobalExplanation", "OutputSpace", "canonical_sha256", "round_float", "summarise"]

ExplainerKind = Literal["tree", "linear", "permutation"]
# log_odds: decision_function of a logistic-loss classifier; probability: P(positive class);
# margin: decision_function of another linear classifier (SVM, ridge); raw: a regressor's
# prediction; prediction: a bare `predict` output (no score available).
OutputSpace = Literal["log_odds", "probability", "margin", "raw", "prediction"]

_SIGNIFICANT_DIGITS = 12  # enough to tell explanations apart, few enough to survive BLAS/platform noise


def round_float(value: float) -> float | None:
    """Round to 12 significant digits so the JSON form is stable across platforms; None for NaN/inf."""
    if not math.isfinite(value):
        return None
    rounded = float(f"{value:.{_SIGNIFICANT_DIGITS}g}")
    return 0.0 if rounded == 0 else rounded  # no "-0.0" in the record


def canonical_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of the rows as CSV (header, no index, "\\n" line ends, floats as %.17g, i.e. round-trip exact),
    so anyone holding the same rows can recompute the hash whatever their index or row labels."""
    text = frame.to_csv(index=False, lineterminator="\n", float_format="%.17g")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value; compare as_json() instead
class GlobalExplanation:
    """SHAP attributions of one model on a seeded sample of rows, per ORIGINAL input column.

    `contributions[i, j]` is feature j's share of `model_output[i] - base_value`, in `output_space`
    units; one-hot and other derived columns are summed back into the column they came from.
    `rows` are the positions (in the explained data) of the sampled rows. `background` holds the rows
    the explainer integrated over (empty for tree explanations, whose baseline is the training data
    as recorded in the trees' node counts); `background_sha256` is `canonical_sha256(background)`.
    `note` says why a fallback explainer was used, if one was.
    """

    explainer_kind: ExplainerKind
    shap_version: str
    background_sha256: str
    output_space: OutputSpace
    features: list[str]
    mean_abs: dict[str, float]
    ranking: list[str]
    base_value: float
    contributions: npt.NDArray[np.float64] = field(repr=False)
    model_output: npt.NDArray[np.float64] = field(repr=False)
    additivity_error: float
    sample_size: int
    background_size: int
    seed: int
    estimator: str
    note: str | None
    rows: npt.NDArray[np.int64] = field(repr=False)
    background: pd.DataFrame = field(repr=False)

    def row_additivity_errors(self) -> npt.NDArray[np.float64]:
        """|base_value + Σ contributions − model output| per sampled row."""
        residual = self.base_value + self.contributions.sum(axis=1) - self.model_output
        return np.asarray(np.abs(residual), dtype=np.float64)

    def as_json(self) -> dict[str, Any]:
        """The summary to record in the ledger: no per-row arrays, floats rounded deterministically."""
        return {
            "explainer_kind": self.explainer_kind,
            "shap_version": self.shap_version,
            "background_sha256": self.background_sha256,
            "background_size": self.background_size,
            "output_space": self.output_space,
            "estimator": self.estimator,
            "features": list(self.features),
            "mean_abs": {name: round_float(self.mean_abs[name]) for name in self.features},
            "ranking": list(self.ranking),
            "base_value": round_float(self.base_value),
            "additivity_error": round_float(self.additivity_error),
            "sample_size": self.sample_size,
            "seed": self.seed,
            "note": self.note,
        }


def summarise(contributions: npt.NDArray[np.float64], features: list[str]) -> tuple[dict[str, float], list[str]]:
    """Mean |SHAP| per feature and the ranking by it (descending, ties by name so it is deterministic)."""
    means = np.abs(contributions).mean(axis=0) if len(contributions) else np.zeros(len(features))
    mean_abs = {name: float(value) for name, value in zip(features, means, strict=True)}
    ranking = sorted(features, key=lambda name: (-mean_abs[name], name))
    return mean_abs, ranking
