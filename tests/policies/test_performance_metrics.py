"""Performance measurements, checked against scikit-learn per group and against fairlearn's
MetricFrame bootstrap."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm

from policies.metrics import PERFORMANCE_METRICS, measure_performance
from policies.results import MetricInputError

SKLEARN: dict[str, Callable[..., float]] = {
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "roc_auc": skm.roc_auc_score,
    "precision": partial(skm.precision_score, zero_division=np.nan),
    "recall": partial(skm.recall_score, zero_division=np.nan),
    "brier_score": skm.brier_score_loss,
}


def second_input(metric: str, p: np.ndarray, s: np.ndarray) -> np.ndarray:
    return s if PERFORMANCE_METRICS[metric].needs_score else p


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Scores of varying quality per group (with ties), predictions at 0.5, and a small group."""
    rng = np.random.default_rng(21)
    n = 800
    group = rng.choice(["a", "b", "c", "small"], size=n, p=[0.45, 0.35, 0.17, 0.03])
    y = rng.integers(0, 2, n)
    noise = np.select([group == "a", group == "b"], [0.25, 0.4], 0.55)
    s = np.clip(np.round(0.5 + (y - 0.5) * 0.6 + rng.normal(0, noise), 2), 0, 1)
    p = (s >= 0.5).astype(int)
    return y, p, s, pd.DataFrame({"group": group})


@pytest.mark.parametrize("metric", sorted(PERFORMANCE_METRICS))
def test_overall_equals_sklearn(metric: str, data: tuple[np.ndarray, ...]) -> None:
    y, p, s, _ = data
    m = measure_performance(metric, y, p, s)
    assert m.value == pytest.approx(SKLEARN[metric](y, second_input(metric, p, s)), abs=1e-12)
    assert m.worst_group is None and m.groups == [] and m.insufficient is None


@pytest.mark.parametrize("metric", sorted(PERFORMANCE_METRICS))
def test_worst_included_group(metric: str, data: tuple[Any, ...]) -> None:
    y, p, s, sensitive = data
    labels = sensitive["group"].to_numpy()
    m = measure_performance(metric, y, p, s, sensitive=sensitive, min_group_size=40)
    per_group = {g: SKLEARN[metric](y[labels == g], second_input(metric, p, s)[labels == g]) for g in np.unique(labels)}
    included = {g: v for g, v in per_group.items() if g != "small"}
    pick = max if metric == "brier_score" else min
    worst = pick(included, key=lambda g: included[g])
    assert m.worst_group == worst
    assert m.value == pytest.approx(included[worst], abs=1e-12)
    rows = {r.group: r for r in m.groups}
    assert set(rows) == set(per_group)
    for g, row in rows.items():
        mask = labels == g
        assert row.value == pytest.approx(per_group[g], abs=1e-12)
        assert (row.count, row.selected, row.positives) == (mask.sum(), p[mask].sum(), y[mask].sum())
    assert rows["small"].excluded is not None and "minimum group size 40" in rows["small"].excluded
    assert m.details["overall"] == pytest.approx(SKLEARN[metric](y, second_input(metric, p, s)))
    json.dumps(m.details)
    json.dumps([r.as_json() for r in m.groups])


def test_an_excluded_group_is_never_the_worst() -> None:
    y = np.array([1, 0] * 50 + [1, 0, 1, 0])
    p = np.array([1, 0] * 50 + [0, 1, 0, 1])  # the 4-row group is always wrong
    sensitive = pd.DataFrame({"g": ["big"] * 100 + ["tiny"] * 4})
    assert measure_performance("accuracy", y, p, None, sensitive=sensitive).worst_group == "tiny"
    m = measure_performance("accuracy", y, p, None, sensitive=sensitive, min_group_share=0.05)
    assert (m.worst_group, m.value) == ("big", 1.0)
    tiny = m.groups[1]
    assert (tiny.group, tiny.value, tiny.count) == ("tiny", 0.0, 4)
    assert tiny.excluded == "3.8% of rows < 5.0% minimum share (6 RCNY 5-301(d))"


def test_intersectional_groups() -> None:
    sensitive = pd.DataFrame({"sex": ["F", "F", "M", "M"] * 10, "age": ["young", "old"] * 20})
    y = np.array([0, 1, 1, 0] * 10)
    m = measure_performance("accuracy", y, y, None, sensitive=sensitive)
    assert sorted(r.group for r in m.groups) == ["F × old", "F × young", "M × old", "M × young"]
    assert m.value == 1.0


# --- insufficient evidence --------------------------------------------------------------------


def test_roc_auc_with_one_class() -> None:
    y = np.zeros(20, dtype=int)
    s = np.linspace(0, 1, 20)
    m = measure_performance("roc_auc", y, (s > 0.5).astype(int), s)
    assert m.value is None
    assert m.insufficient == "the data has one class only (0 positives, 20 negatives); 'roc_auc' is undefined"
    y = np.r_[np.zeros(10, dtype=int), np.tile([0, 1], 5)]
    sensitive = pd.DataFrame({"g": ["one class"] * 10 + ["both"] * 10})
    m = measure_performance("roc_auc", y, (s > 0.5).astype(int), s, sensitive=sensitive, confidence=0.9)
    assert m.value is None and m.interval is None
    assert m.insufficient == "group 'one class' has one class only (0 positives, 10 negatives); 'roc_auc' is undefined"
    assert {r.group: r.value for r in m.groups}["one class"] is None


def test_precision_without_predicted_positives() -> None:
    y = np.array([0, 1] * 20)
    p = np.r_[np.zeros(20, dtype=int), np.array([0, 1] * 10)]
    m = measure_performance("precision", y, p, None, sensitive=pd.DataFrame({"g": ["none"] * 20 + ["some"] * 20}))
    assert m.value is None and m.insufficient == "group 'none' has no predicted positives; 'precision' is undefined"
    m = measure_performance("precision", y, np.zeros(40, dtype=int), None)
    assert m.value is None and m.insufficient == "the data has no predicted positives; 'precision' is undefined"


def test_every_group_excluded() -> None:
    y = np.array([0, 1] * 10)
    m = measure_performance("accuracy", y, y, None, sensitive=pd.DataFrame({"g": ["a", "b"] * 10}), min_group_size=11)
    assert m.value is None and m.insufficient == "every group is excluded; there is no group to measure"
    assert [r.excluded for r in m.groups] == ["n=10 < minimum group size 11"] * 2


# --- bad input --------------------------------------------------------------------------------


def _raises(match: str, **overrides: Any) -> None:
    kwargs: dict[str, Any] = {
        "metric": "roc_auc",
        "y_true": np.array([0, 1, 1, 0]),
        "y_pred": np.array([1, 1, 0, 0]),
        "y_score": np.array([0.2, 0.9, 0.4, 0.3]),
    }
    kwargs.update(overrides)
    with pytest.raises(MetricInputError, match=match):
        measure_performance(**kwargs)


def test_input_errors() -> None:
    _raises("y_true\\) is empty", y_true=np.array([]), y_pred=np.array([]), y_score=np.array([]))
    _raises("different numbers of rows: y_true has 4, y_pred has 4, y_score has 3", y_score=np.array([0.1, 0.2, 0.3]))
    _raises("sensitive has 2", sensitive=pd.DataFrame({"g": ["a", "b"]}))
    _raises("y_score has 1 missing values", y_score=np.array([0.2, np.nan, 0.4, 0.3]))
    _raises("y_score has 1 infinite values", y_score=np.array([0.2, np.inf, 0.4, 0.3]))
    _raises("y_score must be numeric", y_score=np.array(["a", "b", "c", "d"]))
    _raises("y_true\\) has 1 missing values", y_true=np.array([0.0, 1.0, np.nan, 0.0]))
    _raises(
        r"target \(y_true\) has 3 distinct values \(0, 1, 2\); binary metric 'recall' needs 0/1",
        metric="recall",
        y_true=np.array([0, 1, 2, 1]),
    )
    _raises("'roc_auc' is computed from scores \\(e.g. predict_proba\\), but y_score is missing", y_score=None)
    _raises(
        "y_score must be probabilities in \\[0, 1\\] for 'brier_score'; found values from -0.2 to 1.5",
        metric="brier_score",
        y_score=np.array([-0.2, 1.5, 0.4, 0.3]),
    )
    _raises("unknown performance metric 'f1'; known performance metrics: accuracy, balanced_accuracy, ", metric="f1")
    _raises("has no columns", sensitive=pd.DataFrame(index=range(4)))
    _raises("sensitive column 'g' has 1 missing values", sensitive=pd.DataFrame({"g": ["a", np.nan, "b", "b"]}))
    _raises("confidence must be strictly between 0 and 1", confidence=0.0)


def test_scores_outside_unit_interval_are_fine_for_roc_auc() -> None:
    m = measure_performance("roc_auc", np.array([0, 1, 1, 0]), np.array([0, 1, 1, 0]), np.array([-3.0, 2.0, 5.0, 0.0]))
    assert m.value == 1.0


def test_recall_needs_positives_in_every_counted_group() -> None:
    y = np.r_[np.zeros(30, dtype=int), np.tile([0, 1], 15)]
    sensitive = pd.DataFrame({"g": ["none"] * 30 + ["some"] * 30})
    with pytest.raises(MetricInputError, match=r"group 'none' has 30 rows but no actual positives.*min_group_size"):
        measure_performance("recall", y, y, None, sensitive=sensitive)
    with pytest.raises(MetricInputError, match="the data has 30 rows but no actual positives"):
        measure_performance("recall", y[:30], y[:30], None)
    assert measure_performance("recall", y, y, None, sensitive=sensitive, min_group_size=31).insufficient is not None


# --- bootstrap intervals ----------------------------------------------------------------------

QUANTILES = [(1 - 0.9) / 2, 1 - (1 - 0.9) / 2]


@pytest.mark.parametrize("metric", sorted(PERFORMANCE_METRICS))
def test_interval_equals_fairlearn_metricframe(metric: str, data: tuple[Any, ...]) -> None:
    """Same resamples, same metric, same quantiles: overall, MetricFrame's overall_ci; by group,
    its group_min_ci (group_max_ci for the Brier score) over the included rows."""
    y, p, s, sensitive = data
    second = second_input(metric, p, s)
    labels = sensitive["group"].to_numpy()
    keep = labels != "small"
    settings: dict[str, Any] = {"n_boot": 25, "ci_quantiles": QUANTILES, "random_state": 4}
    overall = flm.MetricFrame(
        metrics=SKLEARN[metric], y_true=y, y_pred=second, sensitive_features=np.zeros(len(y)), **settings
    )
    m = measure_performance(metric, y, p, s, confidence=0.9, n_boot=25, seed=4)
    assert m.interval == pytest.approx(tuple(overall.overall_ci), abs=1e-12)
    grouped = flm.MetricFrame(
        metrics=SKLEARN[metric], y_true=y[keep], y_pred=second[keep], sensitive_features=labels[keep], **settings
    )
    expected = grouped.group_max_ci() if metric == "brier_score" else grouped.group_min_ci()
    m = measure_performance(metric, y, p, s, sensitive=sensitive, min_group_size=40, confidence=0.9, n_boot=25, seed=4)
    assert m.interval == pytest.approx(tuple(expected), abs=1e-12)


def test_interval_is_deterministic_contains_the_value_and_shrinks_with_data() -> None:
    def measure(n: int, seed: int) -> Any:
        rng = np.random.default_rng(n)
        y = rng.integers(0, 2, n)
        s = np.clip(0.5 + (y - 0.5) * 0.4 + rng.normal(0, 0.3, n), 0, 1)
        sensitive = pd.DataFrame({"g": rng.choice(["a", "b"], n)})
        p = (s > 0.5).astype(int)
        return measure_performance("roc_auc", y, p, s, sensitive=sensitive, confidence=0.95, n_boot=100, seed=seed)

    first, again, other = measure(2000, 0), measure(2000, 0), measure(2000, 1)
    assert first.interval == again.interval and first.interval != other.interval
    assert first.interval[0] <= first.value <= first.interval[1]
    larger = measure(20000, 0)
    assert larger.interval[1] - larger.interval[0] < first.interval[1] - first.interval[0]
    assert first.details["bootstrap"]["n_boot"] == 100 and first.details["bootstrap"]["degenerate_resamples"] == 0
