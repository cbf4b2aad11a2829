"""Per-group metric values for one bootstrap resample, given as row multiplicities (weights).

Recomputing a metric on 100,000 resampled rows 200 times through fairlearn or scikit-learn costs
their per-call overhead each time (input validation, `np.unique`, fairlearn's per-row copy): minutes
for MetricFrame, 5-10 s for direct sklearn calls. A resample in which row i appears w[i] times has the
same per-group confusion counts, squared errors and score ranks as the weighted original, so these
evaluators get every group's value from one `np.bincount` (plus one pre-sorting for ROC AUC).

They reproduce the libraries' definitions, including their edge cases: fairlearn's TPR (FPR) of a
group without positives (negatives) is 0; sklearn's precision/recall with zero_division=nan, its
balanced accuracy over the classes present, its ROC AUC (NaN with one class). A group absent from
a resample is NaN, as MetricFrame leaves it out. Each measurement checks its evaluator against the
library values on the original rows (`verify`), and the tests check whole intervals against
MetricFrame's bootstrap.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from policies.metrics._common import FloatArray, IntArray, Need

__all__ = ["COUNT_METRICS", "Evaluator", "Resample", "auc", "brier", "confusion", "degenerate", "verify"]


@dataclass(frozen=True)
class Resample:
    """values[m, g] is metric m on group g (NaN when g is absent); weighted counts per group."""

    values: FloatArray
    counts: FloatArray
    positives: FloatArray

    @property
    def negatives(self) -> FloatArray:
        return self.counts - self.positives


Evaluator = Callable[[FloatArray], Resample]


def _ratio(numerator: FloatArray, denominator: FloatArray, undefined: float) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        result = np.asarray(numerator / denominator, dtype=np.float64)
    result[denominator == 0] = undefined
    return result


# c[g, truth, prediction]: weighted confusion counts per group.
def _selection_rate(c: FloatArray) -> FloatArray:
    return _ratio(c[:, 0, 1] + c[:, 1, 1], c.sum(axis=(1, 2)), np.nan)


def _true_positive_rate(c: FloatArray) -> FloatArray:
    return _ratio(c[:, 1, 1], c[:, 1, 0] + c[:, 1, 1], 0.0)  # fairlearn: 0 without positives


def _false_positive_rate(c: FloatArray) -> FloatArray:
    return _ratio(c[:, 0, 1], c[:, 0, 0] + c[:, 0, 1], 0.0)  # fairlearn: 0 without negatives


def _accuracy(c: FloatArray) -> FloatArray:
    return _ratio(c[:, 0, 0] + c[:, 1, 1], c.sum(axis=(1, 2)), np.nan)


def _precision(c: FloatArray) -> FloatArray:
    return _ratio(c[:, 1, 1], c[:, 0, 1] + c[:, 1, 1], np.nan)


def _recall(c: FloatArray) -> FloatArray:
    return _ratio(c[:, 1, 1], c[:, 1, 0] + c[:, 1, 1], np.nan)


def _balanced_accuracy(c: FloatArray) -> FloatArray:
    """sklearn: the mean recall over the classes present in y_true."""
    per_class = np.vstack(
        [_ratio(c[:, 0, 0], c[:, 0, 0] + c[:, 0, 1], np.nan), _ratio(c[:, 1, 1], c[:, 1, 0] + c[:, 1, 1], np.nan)]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "Mean of empty slice" for an absent group
        return np.asarray(np.nanmean(per_class, axis=0), dtype=np.float64)


COUNT_METRICS: dict[str, Callable[[FloatArray], FloatArray]] = {
    "selection_rate": _selection_rate,
    "true_positive_rate": _true_positive_rate,
    "false_positive_rate": _false_positive_rate,
    "accuracy": _accuracy,
    "precision": _precision,
    "recall": _recall,
    "balanced_accuracy": _balanced_accuracy,
}


def confusion(metrics: Sequence[str], y_true: IntArray, y_pred: IntArray, codes: IntArray, n_groups: int) -> Evaluator:
    """Metrics that depend on the confusion counts only."""
    cells = codes * 4 + y_true * 2 + y_pred
    functions = [COUNT_METRICS[m] for m in metrics]

    def evaluate(weights: FloatArray) -> Resample:
        c = np.asarray(np.bincount(cells, weights=weights, minlength=4 * n_groups), dtype=np.float64)
        c = c.reshape(n_groups, 2, 2)
        counts = c.sum(axis=(1, 2))
        values = np.vstack([f(c) for f in functions])
        values[:, counts == 0] = np.nan
        return Resample(values=values, counts=counts, positives=c[:, 1, :].sum(axis=1))

    return evaluate


def _group_sums(codes: IntArray, weights: FloatArray, n_groups: int) -> FloatArray:
    return np.asarray(np.bincount(codes, weights=weights, minlength=n_groups), dtype=np.float64)


def brier(y_true: IntArray, y_score: FloatArray, codes: IntArray, n_groups: int) -> Evaluator:
    """sklearn's Brier score: the mean squared difference between probability and label."""
    squared = (y_score - y_true) ** 2

    def evaluate(weights: FloatArray) -> Resample:
        counts = _group_sums(codes, weights, n_groups)
        values = _ratio(_group_sums(codes, weights * squared, n_groups), counts, np.nan)
        return Resample(values=values[None, :], counts=counts, positives=_group_sums(codes, weights * y_true, n_groups))

    return evaluate


def auc(y_true: IntArray, y_score: FloatArray, codes: IntArray, n_groups: int) -> Evaluator:
    """sklearn's ROC AUC (trapezoidal, so tied scores count one half), as the share of
    positive-negative pairs ranked correctly, from rows sorted once by group and score."""
    order = np.lexsort((y_score, codes))
    group, score, truth = codes[order], y_score[order], y_true[order].astype(np.float64)
    starts = np.r_[True, (group[1:] != group[:-1]) | (score[1:] != score[:-1])]
    block = np.cumsum(starts) - 1  # runs of equal scores within a group
    block_group = group[starts]
    n_blocks = len(block_group)
    first_block = np.searchsorted(block_group, np.arange(n_groups))  # of each group (if present)

    def evaluate(weights: FloatArray) -> Resample:
        w = weights[order]
        pos = _group_sums(block, w * truth, n_blocks)
        neg = _group_sums(block, w * (1.0 - truth), n_blocks)
        below = np.cumsum(neg) - neg  # negatives ranked strictly lower, counted from the first group
        below -= below[np.minimum(first_block, n_blocks - 1)][block_group]
        positives, negatives = _group_sums(block_group, pos, n_groups), _group_sums(block_group, neg, n_groups)
        correct = _group_sums(block_group, pos * (below + 0.5 * neg), n_groups)
        values = _ratio(correct, positives * negatives, np.nan)
        return Resample(values=values[None, :], counts=positives + negatives, positives=positives)

    return evaluate


def degenerate(needs: frozenset[Need], resample: Resample) -> bool:
    """A resample in which a group is absent, its metric undefined, or it lacks the positives or
    negatives its metric needs (fairlearn then reports a rate of 0 rather than undefined)."""
    if (resample.counts == 0).any() or np.isnan(resample.values).any():
        return True
    lacks: dict[str, bool] = {
        "positives": bool((resample.positives == 0).any()),
        "negatives": bool((resample.negatives == 0).any()),
    }
    lacks["both_classes"] = lacks["positives"] or lacks["negatives"]
    return any(lacks.get(need, False) for need in needs)


def verify(evaluate: Evaluator, n_rows: int, expected: FloatArray) -> None:
    """The evaluator must give the library's values on the original rows (all weights 1); if it
    ever does not, the interval would describe a different metric, so stop."""
    got = evaluate(np.ones(n_rows)).values
    if not np.allclose(got, expected, rtol=1e-9, atol=1e-12, equal_nan=True):
        raise RuntimeError(f"resampling evaluator disagrees with fairlearn/scikit-learn: {got} != {expected}")
