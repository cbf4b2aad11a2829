"""Model performance, overall or at the worst group, with scikit-learn's definitions.

By group, the value is the worst included group's (a model that is accurate on average but not
for one group fails a "worst group" rule), computed with one fairlearn `MetricFrame`; excluded
groups are still listed. The optional interval is the percentile bootstrap of that same value.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import sklearn.metrics as skm
from fairlearn.metrics import MetricFrame
from sklearn.exceptions import UndefinedMetricWarning

from policies.metrics._bootstrap import bootstrap_interval, nan_extreme
from policies.metrics._common import (
    FloatArray,
    IntArray,
    MetricInfo,
    as_number,
    binary_array,
    check_bootstrap,
    check_same_length,
    lookup,
    need_problem,
    score_array,
)
from policies.metrics._evaluators import Evaluator, auc, brier, confusion, verify
from policies.metrics.groups import Partition, partition
from policies.results import GroupRow, Measurement, MetricInputError

__all__ = ["PERFORMANCE_METRICS", "MetricInfo", "measure_performance"]

PERFORMANCE_METRICS: dict[str, MetricInfo] = {
    "accuracy": MetricInfo(True, False, "share of rows predicted correctly (sklearn accuracy_score)"),
    "balanced_accuracy": MetricInfo(
        True,
        False,
        "mean of the true positive and true negative rates, robust to class imbalance "
        "(sklearn balanced_accuracy_score)",
        frozenset({"both_classes"}),
    ),
    "roc_auc": MetricInfo(
        True, True, "area under the ROC curve of the scores (sklearn roc_auc_score)", frozenset({"both_classes"})
    ),
    "precision": MetricInfo(
        True,
        False,
        "share of predicted positives that are actual positives (sklearn precision_score)",
        frozenset({"selected"}),
    ),
    "recall": MetricInfo(
        True,
        False,
        "true positive rate: share of actual positives predicted positive (sklearn recall_score)",
        frozenset({"positives"}),
    ),
    "brier_score": MetricInfo(
        False, True, "mean squared error of the predicted probabilities, lower is better (sklearn brier_score_loss)"
    ),
}

# Undefined cases come back as NaN (zero_division=nan) rather than sklearn's silent 0.0, so an
# undefined group is never mistaken for the worst one.
_SKLEARN: dict[str, Callable[..., Any]] = {
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "roc_auc": skm.roc_auc_score,
    "precision": partial(skm.precision_score, zero_division=np.nan),
    "recall": partial(skm.recall_score, zero_division=np.nan),
    "brier_score": partial(skm.brier_score_loss, pos_label=1),
}


def _metric_function(metric: str) -> Callable[[IntArray, Any], float]:
    """sklearn's metric as MetricFrame calls it, without the warnings it emits for one-class data
    (those cases are reported as insufficient evidence instead)."""
    function = _SKLEARN[metric]

    def compute(y_true: IntArray, y_other: Any) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
            return float(function(y_true, y_other))

    compute.__name__ = metric
    return compute


def _evaluator(
    metric: str, truth: IntArray, predicted: IntArray, scores: FloatArray | None, codes: IntArray, n_groups: int
) -> Evaluator:
    """The fast per-group evaluation of `metric` used for resampling (checked against sklearn)."""
    if metric in ("roc_auc", "brier_score"):
        assert scores is not None
        return (auc if metric == "roc_auc" else brier)(truth, scores, codes, n_groups)
    return confusion([metric], truth, predicted, codes, n_groups)


def measure_performance(
    metric: str,
    y_true: np.ndarray,
    y_pred: np.ndarray | None,
    y_score: np.ndarray | None,
    *,
    sensitive: pd.DataFrame | None = None,
    min_group_size: int = 0,
    min_group_share: float = 0.0,
    confidence: float | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> Measurement:
    """The metric on all rows, or at the worst included group when `sensitive` is given; with
    `confidence`, also the percentile bootstrap interval of that value (deterministic per seed).
    `y_pred` may be None for a metric computed from scores alone (a model that only scores)."""
    info = lookup(metric, PERFORMANCE_METRICS, "performance")
    truth = binary_array(y_true, "target (y_true)", metric)
    if y_pred is None:
        if not info.needs_score:
            raise MetricInputError(f"{metric!r} is computed from 0/1 predictions, but y_pred is missing")
        measured = measure_performance(
            metric,
            truth,
            np.zeros(len(truth), dtype=np.int64),  # a score metric never reads it
            y_score,
            sensitive=sensitive,
            min_group_size=min_group_size,
            min_group_share=min_group_share,
            confidence=confidence,
            n_boot=n_boot,
            seed=seed,
        )
        return replace(measured, groups=[replace(row, selected=None) for row in measured.groups])
    predicted = binary_array(y_pred, "predictions (y_pred)", metric)
    scores = None if y_score is None else score_array(y_score, metric, probabilities=metric == "brier_score")
    if info.needs_score and scores is None:
        raise MetricInputError(f"{metric!r} is computed from scores (e.g. predict_proba), but y_score is missing")
    check_same_length(y_true=truth, y_pred=predicted, y_score=scores, sensitive=sensitive)
    check_bootstrap(confidence, n_boot)
    if sensitive is None:
        return _overall(metric, info, truth, predicted, scores, confidence, n_boot, seed)
    parts = partition(sensitive, truth, predicted, min_group_size=min_group_size, min_group_share=min_group_share)
    return _by_group(metric, info, parts, truth, predicted, scores, confidence, n_boot, seed)


def _overall(
    metric: str,
    info: MetricInfo,
    truth: IntArray,
    predicted: IntArray,
    scores: FloatArray | None,
    confidence: float | None,
    n_boot: int,
    seed: int,
) -> Measurement:
    problem = need_problem(
        info.needs, metric, None, count=len(truth), positives=int(truth.sum()), selected=int(predicted.sum())
    )
    details: dict[str, Any] = {"definition": info.description, "rows": len(truth)}
    if problem is not None:
        return Measurement(value=None, insufficient=problem, details=details)
    raw = _metric_function(metric)(truth, scores if info.needs_score else predicted)
    value = as_number(raw)
    if value is None:
        return Measurement(value=None, insufficient=f"{metric!r} is undefined on this data", details=details)
    if confidence is None:
        return Measurement(value=value, details=details)
    evaluate = _evaluator(metric, truth, predicted, scores, np.zeros(len(truth), dtype=np.int64), 1)
    verify(evaluate, len(truth), np.array([[raw]]))
    interval = bootstrap_interval(
        evaluate,
        len(truth),
        statistic=lambda r: float(r.values[0, 0]),
        needs=info.needs,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
    )
    return Measurement(
        value=value,
        interval=interval.bounds,
        insufficient=interval.problem,
        details={**details, "bootstrap": interval.details},
    )


def _by_group(
    metric: str,
    info: MetricInfo,
    parts: Partition,
    truth: IntArray,
    predicted: IntArray,
    scores: FloatArray | None,
    confidence: float | None,
    n_boot: int,
    seed: int,
) -> Measurement:
    frame = MetricFrame(
        metrics={metric: _metric_function(metric)},
        y_true=truth,
        y_pred=scores if info.needs_score else predicted,
        sensitive_features=parts.labels.to_numpy(dtype=object),
    )
    values = np.array([frame.by_group[metric].loc[name] for name in parts.names], dtype=np.float64)
    rows = [
        GroupRow(
            group=name,
            count=int(parts.counts[g]),
            value=as_number(values[g]),
            selected=int(parts.selected[g]),
            positives=int(parts.positives[g]),
            excluded=parts.excluded.get(name),
        )
        for g, name in enumerate(parts.names)
    ]
    included = parts.included
    details: dict[str, Any] = {
        "definition": info.description,
        "overall": as_number(frame.overall[metric]),
        "rows": len(truth),
        "included_rows": int(parts.counts[included].sum()) if included else 0,
    }
    if not included:
        return Measurement(
            value=None,
            groups=rows,
            insufficient="every group is excluded; there is no group to measure",
            details=details,
        )
    problems = parts.problems(info.needs, metric)
    kept = values[included]
    if problems or not np.isfinite(kept).all():
        reason = "; ".join(problems) or f"{metric!r} is undefined for some included group"
        return Measurement(value=None, groups=rows, insufficient=reason, details=details)
    position = int(np.argmin(kept) if info.higher_is_better else np.argmax(kept))
    worst_group, value = parts.names[included[position]], float(kept[position])
    if confidence is None:
        return Measurement(value=value, worst_group=worst_group, groups=rows, details=details)
    mask, codes = parts.included_rows()
    evaluate = _evaluator(
        metric, truth[mask], predicted[mask], None if scores is None else scores[mask], codes, len(included)
    )
    verify(evaluate, int(mask.sum()), kept[None, :])
    interval = bootstrap_interval(
        evaluate,
        int(mask.sum()),
        statistic=lambda r: float(nan_extreme(r.values[0], highest=not info.higher_is_better)),
        needs=info.needs,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
    )
    return Measurement(
        value=value,
        interval=interval.bounds,
        worst_group=worst_group,
        groups=rows,
        insufficient=interval.problem,
        details={**details, "bootstrap": interval.details},
    )
