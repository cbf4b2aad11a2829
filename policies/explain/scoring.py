"""Which number is explained, per model family, and which shap explainer can explain it exactly.

The score is always computed by the real model on the original columns (pipelines included), so the
additivity check compares shap's attributions with what the model actually outputs, not with shap's
own re-implementation of the trees. For classifiers the positive class is `classes_[1]` (scikit-learn
sorts labels, so 1 in a 0/1 target) and a lower score is the adverse direction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV, SGDClassifier
from sklearn.svm import LinearSVC, LinearSVR
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from policies.explain.explanation import OutputSpace
from policies.results import MetricInputError

__all__ = ["Scorer", "agnostic_scorer", "linear_scorer", "tree_scorer"]

Score = Callable[[pd.DataFrame], npt.NDArray[np.float64]]

_BOOSTED = (GradientBoostingClassifier, HistGradientBoostingClassifier)  # raw output: log-odds
_AVERAGED = (RandomForestClassifier, ExtraTreesClassifier, DecisionTreeClassifier)  # raw output: probability
_TREE_REGRESSORS = (
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
    ExtraTreesRegressor,
    DecisionTreeRegressor,
)


# Objectives whose raw output is log-odds (XGBoost's and LightGBM's names for logistic loss).
_LOGISTIC_OBJECTIVES = frozenset({"binary:logistic", "binary:logitraw", "binary", "cross_entropy", "xentropy"})


def _library_booster(estimator: Any) -> tuple[str, str] | None:
    """(keyword asking `predict` for the raw margin, objective) for XGBoost / LightGBM classifiers.

    Recognised by module and class name, so neither library is imported unless the model uses it."""
    kind = type(estimator)
    if kind.__module__.startswith("xgboost.") and kind.__name__ == "XGBClassifier":
        return "output_margin", str(getattr(estimator, "objective", None) or "binary:logistic")
    if kind.__module__.startswith("lightgbm.") and kind.__name__ == "LGBMClassifier":
        return "raw_score", str(
            getattr(estimator, "objective_", None) or getattr(estimator, "objective", None) or "binary"
        )
    return None


@dataclass(frozen=True)
class Scorer:
    """The model's output for rows of the original frame, and what that output means."""

    score: Score
    output_space: OutputSpace


def tree_scorer(model: Any, estimator: Any) -> Scorer | None:
    """For the tree models shap's TreeExplainer reads: the output it explains natively (margin for
    boosting, leaf-averaged probability for forests and single trees). XGBoost and LightGBM
    classifiers are explained in their raw margin (`output_margin=True`, `raw_score=True`): log-odds
    for their logistic objectives, which is what TreeExplainer attributes, not the probability."""
    boosted_library = _library_booster(estimator)
    if boosted_library is not None:
        _require_binary(estimator)
        keyword, objective = boosted_library
        margin: OutputSpace = "log_odds" if objective in _LOGISTIC_OBJECTIVES else "margin"
        return Scorer(lambda frame: _vector(model.predict(frame, **{keyword: True})), margin)
    if isinstance(estimator, _BOOSTED):
        _require_binary(estimator)
        space: OutputSpace = "log_odds" if getattr(estimator, "loss", "log_loss") == "log_loss" else "margin"
        return Scorer(lambda frame: _vector(model.decision_function(frame)), space)
    if isinstance(estimator, _AVERAGED):
        _require_binary(estimator)
        return Scorer(lambda frame: _vector(model.predict_proba(frame))[:, 1], "probability")
    if isinstance(estimator, _TREE_REGRESSORS):
        return Scorer(lambda frame: _vector(model.predict(frame)), "raw")
    return None


def linear_scorer(model: Any, estimator: Any) -> Scorer | None:
    """For models whose output is coef·x + intercept (what shap's LinearExplainer computes)."""
    is_linear = type(estimator).__module__.startswith("sklearn.linear_model") or isinstance(
        estimator, LinearSVC | LinearSVR
    )
    if not is_linear or not hasattr(estimator, "coef_") or not hasattr(estimator, "intercept_"):
        return None
    if hasattr(estimator, "classes_"):
        _require_binary(estimator)
        logistic = isinstance(estimator, LogisticRegression | LogisticRegressionCV) or (
            isinstance(estimator, SGDClassifier) and estimator.loss == "log_loss"
        )
        return Scorer(lambda frame: _vector(model.decision_function(frame)), "log_odds" if logistic else "margin")
    if np.ndim(estimator.coef_) != 1:
        return None  # multi-output regression: leave it to the permutation explainer's checks
    return Scorer(lambda frame: _vector(model.predict(frame)), "raw")


def agnostic_scorer(model: Any, sensitive_features: Sequence[str]) -> Scorer:
    """The best continuous score any model offers, for the permutation explainer.

    fairlearn's mitigators predict at random; their `_pmf_predict` gives the probability of a positive
    decision, the deterministic quantity behind those draws, so that is what gets explained.
    """
    from fairlearn.postprocessing import ThresholdOptimizer  # lazy: fairlearn is slow to import

    if isinstance(model, ThresholdOptimizer):
        if not sensitive_features:
            raise MetricInputError("a ThresholdOptimizer needs `sensitive_features`: the column(s) it decides by")
        columns = list(sensitive_features)

        def thresholded(frame: pd.DataFrame) -> npt.NDArray[np.float64]:
            groups = frame[columns[0]] if len(columns) == 1 else frame[columns]
            return _positive_column(model._pmf_predict(frame, sensitive_features=groups))

        return Scorer(thresholded, "probability")
    if hasattr(model, "_pmf_predict"):  # ExponentiatedGradient and other reductions
        return Scorer(lambda frame: _positive_column(model._pmf_predict(frame)), "probability")
    if hasattr(model, "predict_proba"):
        return Scorer(lambda frame: _positive_column(model.predict_proba(frame)), "probability")
    if hasattr(model, "decision_function"):
        return Scorer(lambda frame: _vector(model.decision_function(frame)), "margin")
    return Scorer(lambda frame: _vector(model.predict(frame)), "prediction")


def _require_binary(estimator: Any) -> None:
    classes = getattr(estimator, "classes_", None)
    if classes is not None and len(classes) != 2:
        raise MetricInputError(
            f"only binary classifiers and regressors are explained; this one has {len(classes)} classes"
        )


def _vector(output: Any) -> npt.NDArray[np.float64]:
    values = np.asarray(output, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    return values


def _positive_column(probabilities: Any) -> npt.NDArray[np.float64]:
    values = np.asarray(probabilities, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != 2:
        raise MetricInputError(f"only binary classifiers are explained; the model scores {values.shape[-1]} classes")
    return np.ascontiguousarray(values[:, 1])
