"""Validation figures an evaluation records whatever its policy's rules: the model-risk view.

A policy's rules decide the gate; a validator (SR 26-2 outcomes analysis, EU AI Act Annex IV 3)
needs the model's measured behaviour regardless of which rules a policy happens to hold:
accuracy, ROC AUC, true and false positive rates and precision, overall and per group, each with
a percentile bootstrap interval; the confusion matrices; the calibration curve and ROC points of
the scores; and selection rates over the intersection of the protected classes, with intervals
for each rate and for its ratio to the most-selected group.

Why one pass: every figure is computed from row multiplicities (`_evaluators`), so each bootstrap
resample is drawn once and every grouping (overall, each class, the intersection) is evaluated
from it with one `np.bincount` each. At 100,000 rows, two classes and 200 resamples this costs
about two seconds (ROC AUC's ranks are most of it), not the minutes a MetricFrame per figure
would. The seed, the resample count and the confidence are recorded with the figures, so a
reader can recompute them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

from policies.metrics._bootstrap import percentile_interval, resamples
from policies.metrics._common import FloatArray, IntArray
from policies.metrics._evaluators import Evaluator, auc, confusion
from policies.metrics.groups import SEPARATOR, group_labels

__all__ = ["VALIDATION_METRICS", "ValidationSettings", "measure_validation"]

# Count metrics in `_evaluators.COUNT_METRICS` names; "roc_auc" needs scores.
VALIDATION_METRICS = ("accuracy", "roc_auc", "true_positive_rate", "false_positive_rate", "precision")
_COUNT_METRICS = [m for m in VALIDATION_METRICS if m != "roc_auc"]
_DIGITS = 6  # curve points are read off a chart, not recomputed: six decimals keep the entry small


@dataclass(frozen=True)
class ValidationSettings:
    """Bounded so the gate stays fast; recorded with the figures."""

    n_boot: int = 200
    confidence: float = 0.95
    seed: int = 0
    min_group_size: int = 30  # smaller groups are listed, without an interval, and marked as too small
    calibration_bins: int = 10
    roc_points: int = 60  # the ROC curve is downsampled to at most this many points
    max_intersection: int = 2  # classes crossed at most (a third leaves few rows per cell)

    def as_record(self) -> dict[str, Any]:
        return {
            "n_boot": self.n_boot,
            "confidence": self.confidence,
            "seed": self.seed,
            "method": "percentile bootstrap over rows (numpy default_rng seed per resample, as fairlearn MetricFrame)",
            "min_group_size": self.min_group_size,
            "calibration_bins": self.calibration_bins,
            "roc_points": self.roc_points,
        }


@dataclass(frozen=True)
class _Grouping:
    """One way to split the rows: its groups (sorted names), each row's group, and evaluators."""

    name: str
    names: list[str]
    codes: IntArray
    counts: IntArray
    positives: IntArray
    selected: IntArray | None
    count_eval: Evaluator | None
    auc_eval: Evaluator | None
    samples: dict[str, FloatArray]  # metric -> [n_boot, n_groups]


def _grouping(
    name: str, labels: pd.Series | None, y_true: IntArray, y_pred: IntArray | None, y_score: FloatArray | None
) -> _Grouping:
    """`y_score` None leaves ROC AUC out (the intersection needs selection rates only, and AUC is
    three quarters of the bootstrap's time)."""
    if labels is None:
        names, codes = ["all rows"], np.zeros(len(y_true), dtype=np.int64)
    else:
        factorized, uniques = pd.factorize(labels.to_numpy(dtype=object), sort=True)
        names, codes = [str(u) for u in uniques], factorized.astype(np.int64)
    size = len(names)
    return _Grouping(
        name=name,
        names=names,
        codes=codes,
        counts=np.bincount(codes, minlength=size).astype(np.int64),
        positives=np.bincount(codes, weights=y_true, minlength=size).astype(np.int64),
        selected=None if y_pred is None else np.bincount(codes, weights=y_pred, minlength=size).astype(np.int64),
        count_eval=None
        if y_pred is None
        else confusion(["selection_rate", *_COUNT_METRICS], y_true, y_pred, codes, size),
        auc_eval=None if y_score is None else auc(y_true, y_score, codes, size),
        samples={},
    )


def _values(grouping: _Grouping, weights: FloatArray) -> dict[str, FloatArray]:
    """Every metric per group for one set of row weights."""
    out: dict[str, FloatArray] = {}
    if grouping.count_eval is not None:
        values = grouping.count_eval(weights).values
        for i, metric in enumerate(["selection_rate", *_COUNT_METRICS]):
            out[metric] = values[i]
    if grouping.auc_eval is not None:
        out["roc_auc"] = grouping.auc_eval(weights).values[0]
    return out


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _interval(samples: FloatArray, confidence: float) -> list[float] | None:
    found = percentile_interval(samples, confidence)
    return None if found is None else [found[0], found[1]]


def _confusion(y_true: IntArray, y_pred: IntArray, codes: IntArray, size: int) -> IntArray:
    """c[g] = [[tn, fp], [fn, tp]] per group."""
    cells = codes * 4 + y_true * 2 + y_pred
    return np.bincount(cells, minlength=4 * size).reshape(size, 2, 2).astype(np.int64)


def _table(
    grouping: _Grouping,
    point: dict[str, FloatArray],
    y_true: IntArray,
    y_pred: IntArray | None,
    settings: ValidationSettings,
) -> list[dict[str, Any]]:
    size = len(grouping.names)
    matrices = None if y_pred is None else _confusion(y_true, y_pred, grouping.codes, size)
    rows = []
    for g, group in enumerate(grouping.names):
        small = int(grouping.counts[g]) < settings.min_group_size
        metrics = {}
        for metric in VALIDATION_METRICS:
            if metric not in point:
                continue
            value = _number(point[metric][g])
            interval = (
                None if small or value is None else _interval(grouping.samples[metric][:, g], settings.confidence)
            )
            metrics[metric] = {"value": value, "interval": interval}
        row: dict[str, Any] = {
            "group": group,
            "count": int(grouping.counts[g]),
            "positives": int(grouping.positives[g]),
            "metrics": metrics,
        }
        if grouping.selected is not None:
            row["selected"] = int(grouping.selected[g])
        if matrices is not None:
            (tn, fp), (fn, tp) = matrices[g].tolist()
            row["confusion"] = {"tn": tn, "fp": fp, "fn": fn, "tp": tp}
        if small:
            row["too_small"] = f"{int(grouping.counts[g])} rows, under the minimum of {settings.min_group_size}"
        rows.append(row)
    return rows


def _intersection(grouping: _Grouping, point: dict[str, FloatArray], settings: ValidationSettings) -> dict[str, Any]:
    """Selection rate per intersectional group, and its ratio to the most-selected included group,
    each with an interval (groups under the minimum size are listed but not compared)."""
    included = grouping.counts >= settings.min_group_size
    rates = point["selection_rate"]
    samples = grouping.samples["selection_rate"]
    best = np.nanmax(np.where(included, rates, np.nan)) if included.any() else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        best_samples = np.nanmax(np.where(included[None, :], samples, np.nan), axis=1) if included.any() else None
    groups = []
    for g, name in enumerate(grouping.names):
        row: dict[str, Any] = {
            "group": name,
            "count": int(grouping.counts[g]),
            "selected": int(grouping.selected[g]) if grouping.selected is not None else None,
            "selection_rate": _number(rates[g]),
        }
        if included[g] and best_samples is not None and best > 0:
            row["interval"] = _interval(samples[:, g], settings.confidence)
            row["ratio"] = _number(rates[g] / best)
            with np.errstate(invalid="ignore", divide="ignore"):
                row["ratio_interval"] = _interval(samples[:, g] / best_samples, settings.confidence)
        else:
            row["too_small"] = f"{int(grouping.counts[g])} rows, under the minimum of {settings.min_group_size}"
        groups.append(row)
    return {"by": grouping.name.split(SEPARATOR), "groups": groups}


def _downsample(values: FloatArray, keep: int) -> list[float]:
    if len(values) > keep:
        values = values[np.unique(np.linspace(0, len(values) - 1, keep).round().astype(np.int64))]
    return [round(float(v), _DIGITS) for v in values]


def _curves(y_true: IntArray, y_score: FloatArray, probabilities: bool, settings: ValidationSettings) -> dict[str, Any]:
    fpr, tpr, _ = roc_curve(y_true, y_score, drop_intermediate=True)
    curves: dict[str, Any] = {
        "roc": {"fpr": _downsample(fpr, settings.roc_points), "tpr": _downsample(tpr, settings.roc_points)}
    }
    if probabilities:
        prob_true, prob_pred = calibration_curve(y_true, y_score, n_bins=settings.calibration_bins, strategy="uniform")
        edges = np.linspace(0.0, 1.0, settings.calibration_bins + 1)
        counts = np.bincount(np.searchsorted(edges[1:-1], y_score, side="right"), minlength=settings.calibration_bins)
        curves["calibration"] = {
            "strategy": "uniform",
            "bins": settings.calibration_bins,
            "mean_predicted": [round(float(v), _DIGITS) for v in prob_pred],
            "observed_rate": [round(float(v), _DIGITS) for v in prob_true],
            "rows": [int(c) for c in counts if c > 0],
        }
    return curves


def measure_validation(
    y_true: IntArray,
    y_pred: IntArray | None,
    y_score: FloatArray | None,
    classes: pd.DataFrame,
    *,
    probabilities: bool,
    settings: ValidationSettings | None = None,
) -> dict[str, Any]:
    """The `validation` record of an evaluation (see the module doc). `classes` holds one column
    per mapped protected class (named by class); `probabilities` says whether `y_score` is a
    probability (a calibration curve is drawn only for one)."""
    settings = settings or ValidationSettings()
    if y_score is not None and len(set(y_true.tolist())) < 2:
        y_score = None  # ROC needs both classes; evaluate() already refuses a one-class target
    names = [str(c) for c in classes.columns]
    groupings = [_grouping("overall", None, y_true, y_pred, y_score)]
    groupings += [_grouping(n, group_labels(classes[[n]]), y_true, y_pred, y_score) for n in names]
    crossed = names[: settings.max_intersection]
    if len(crossed) > 1:
        labels = group_labels(classes[crossed])
        groupings.append(_grouping(SEPARATOR.join(crossed), labels, y_true, y_pred, None))
    ones = np.ones(len(y_true))
    points = [_values(g, ones) for g in groupings]
    for grouping, point in zip(groupings, points, strict=True):
        for metric in point:
            grouping.samples[metric] = np.empty((settings.n_boot, len(grouping.names)))
    for b, rows in enumerate(resamples(len(y_true), settings.n_boot, settings.seed)):
        weights = np.bincount(rows, minlength=len(y_true)).astype(np.float64)
        for grouping in groupings:
            for metric, values in _values(grouping, weights).items():
                grouping.samples[metric][b] = values
    overall = _table(groupings[0], points[0], y_true, y_pred, settings)[0]
    record: dict[str, Any] = {
        "settings": settings.as_record(),
        "metrics": [m for m in VALIDATION_METRICS if m in points[0]],
        "overall": {k: v for k, v in overall.items() if k != "group"},
        "by_class": {
            n: _table(g, p, y_true, y_pred, settings)
            for n, g, p in zip(names, groupings[1 : 1 + len(names)], points[1 : 1 + len(names)], strict=True)
        },
    }
    if len(crossed) > 1 and y_pred is not None:  # the last grouping is the intersection
        record["intersectional"] = _intersection(groupings[-1], points[-1], settings)
    if y_score is not None:
        record.update(_curves(y_true, y_score, probabilities, settings))
    return record
