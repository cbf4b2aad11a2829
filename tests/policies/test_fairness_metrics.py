"""Fairness measurements, checked against confusion counts computed here with numpy, against
fairlearn's own functions and bootstrap, and against the NYC LL144 worked example."""

from __future__ import annotations

import json
from typing import Any

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.metrics import FAIRNESS_METRICS, exclusions, group_labels, measure_fairness
from policies.results import Measurement, MetricInputError

# --- helpers -----------------------------------------------------------------------------------


def applicants(spec: dict[str, tuple[int, int]], column: str = "group") -> tuple[pd.DataFrame, np.ndarray]:
    """Rows for groups given as {name: (applicants, selected)}; y_true = y_pred = selected."""
    names: list[str] = []
    selected: list[int] = []
    for name, (n, chosen) in spec.items():
        names += [name] * n
        selected += [1] * chosen + [0] * (n - chosen)
    return pd.DataFrame({column: names}), np.array(selected)


def numpy_rates(y: np.ndarray, p: np.ndarray, labels: np.ndarray) -> dict[str, dict[str, float]]:
    """Per-group confusion counts and rates, straight from the definitions."""
    out: dict[str, dict[str, float]] = {}
    for g in np.unique(labels):
        m = labels == g
        tp = int(np.sum(m & (y == 1) & (p == 1)))
        fn = int(np.sum(m & (y == 1) & (p == 0)))
        fp = int(np.sum(m & (y == 0) & (p == 1)))
        tn = int(np.sum(m & (y == 0) & (p == 0)))
        out[str(g)] = {
            "n": tp + fn + fp + tn,
            "selected": tp + fp,
            "positives": tp + fn,
            "selection_rate": (tp + fp) / (tp + fn + fp + tn),
            "true_positive_rate": tp / (tp + fn),
            "false_positive_rate": fp / (fp + tn),
        }
    return out


RATES_OF = {
    "selection_rate_ratio": ("selection_rate",),
    "selection_rate_difference": ("selection_rate",),
    "impact_ratio": ("selection_rate",),
    # on "score above the median" selections (scoring_rate_selections), the impact ratio's computation
    "scoring_rate_impact_ratio": ("selection_rate",),
    "true_positive_rate_difference": ("true_positive_rate",),
    "false_positive_rate_difference": ("false_positive_rate",),
    "equalized_odds_difference": ("true_positive_rate", "false_positive_rate"),
    "equalized_odds_ratio": ("true_positive_rate", "false_positive_rate"),
}


def numpy_value(metric: str, rates: dict[str, dict[str, float]], included: list[str]) -> float:
    per_rate = []
    for rate in RATES_OF[metric]:
        values = [rates[g][rate] for g in included]
        per_rate.append(min(values) / max(values) if "ratio" in metric else max(values) - min(values))
    return min(per_rate) if "ratio" in metric else max(per_rate)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Three groups of different sizes and rates, plus a tiny fourth one."""
    rng = np.random.default_rng(11)
    n = 900
    group = rng.choice(["a", "b", "c", "tiny"], size=n, p=[0.5, 0.3, 0.18, 0.02])
    y = (rng.random(n) < np.select([group == "a", group == "b"], [0.5, 0.35], 0.45)).astype(int)
    lift = np.select([group == "a", group == "b"], [0.25, 0.1], 0.0)
    p = (rng.random(n) < 0.25 + lift + 0.4 * y).astype(int)
    return y, p, pd.DataFrame({"group": group})


# --- the NYC LL144 worked example -------------------------------------------------------------


def test_ll144_sex_example() -> None:
    sensitive, selected = applicants({"Male": (1200, 360), "Female": (1000, 240)}, "sex")
    m = measure_fairness("impact_ratio", selected, selected, sensitive)
    rows = {r.group: r for r in m.groups}
    assert rows["Male"].ratio == pytest.approx(1.0)
    assert rows["Female"].ratio == pytest.approx(0.8)
    assert (rows["Male"].count, rows["Male"].selected) == (1200, 360)
    assert rows["Male"].value == pytest.approx(0.3)
    assert m.value == pytest.approx(0.8) and m.worst_group == "Female"
    assert m.details["reference_group"] == "Male"


def test_ll144_race_example_with_two_percent_exclusion() -> None:
    sensitive, selected = applicants(
        {
            "White": (900, 279),
            "Black or African American": (500, 130),
            "Hispanic or Latino": (450, 108),
            "Asian": (320, 80),
            "Native American or Alaska Native": (30, 3),
        },
        "race",
    )
    m = measure_fairness("impact_ratio", selected, selected, sensitive, min_group_share=0.02)
    rows = {r.group: r for r in m.groups}
    assert rows["White"].ratio == pytest.approx(1.0)
    assert round(rows["Black or African American"].ratio or 0, 3) == 0.839
    assert round(rows["Hispanic or Latino"].ratio or 0, 3) == 0.774
    assert round(rows["Asian"].ratio or 0, 3) == 0.806
    native = rows["Native American or Alaska Native"]
    assert native.excluded == "1.4% of rows < 2.0% minimum share (6 RCNY 5-301(d))"
    assert (native.count, native.selected, native.ratio) == (30, 3, None)
    assert native.value == pytest.approx(0.10)
    assert m.value == pytest.approx(108 / 450 / (279 / 900)) and m.worst_group == "Hispanic or Latino"
    assert m.insufficient is None


def test_without_exclusion_the_small_group_counts() -> None:
    sensitive, selected = applicants({"White": (900, 279), "Native American or Alaska Native": (30, 3)}, "race")
    m = measure_fairness("impact_ratio", selected, selected, sensitive)
    assert m.value == pytest.approx(0.10 / 0.31)
    assert m.worst_group == "Native American or Alaska Native"


# --- every metric against numpy counts and fairlearn ------------------------------------------


@pytest.mark.parametrize("metric", sorted(FAIRNESS_METRICS))
def test_value_matches_numpy_counts(metric: str, data: tuple[np.ndarray, np.ndarray, pd.DataFrame]) -> None:
    y, p, sensitive = data
    labels = sensitive["group"].to_numpy()
    m = measure_fairness(metric, y, p, sensitive, min_group_size=50)
    rates = numpy_rates(y, p, labels)
    included = ["a", "b", "c"]
    assert m.value == pytest.approx(numpy_value(metric, rates, included), abs=1e-12)
    assert m.insufficient is None
    rows = {r.group: r for r in m.groups}
    assert set(rows) == {"a", "b", "c", "tiny"}
    assert rows["tiny"].excluded is not None and all(rows[g].excluded is None for g in included)
    for g, row in rows.items():
        assert (row.count, row.selected, row.positives) == (rates[g]["n"], rates[g]["selected"], rates[g]["positives"])
    if len(RATES_OF[metric]) == 1:
        rate = RATES_OF[metric][0]
        for g, row in rows.items():
            assert row.value == pytest.approx(rates[g][rate])
        harmed = max if rate == "false_positive_rate" else min
        assert m.worst_group == harmed(included, key=lambda g: rates[g][rate])
    json.dumps(m.details)
    json.dumps([r.as_json() for r in m.groups])


def test_impact_ratio_rows_match_numpy(data: tuple[np.ndarray, np.ndarray, pd.DataFrame]) -> None:
    y, p, sensitive = data
    rates = numpy_rates(y, p, sensitive["group"].to_numpy())
    m = measure_fairness("impact_ratio", y, p, sensitive, min_group_size=50)
    top = max(rates[g]["selection_rate"] for g in ("a", "b", "c"))
    for row in m.groups:
        expected = None if row.group == "tiny" else pytest.approx(rates[row.group]["selection_rate"] / top)
        assert row.ratio == expected
    assert m.value == pytest.approx(min(r.ratio for r in m.groups if r.ratio is not None))


FAIRLEARN = {
    "selection_rate_ratio": flm.demographic_parity_ratio,
    "impact_ratio": flm.demographic_parity_ratio,
    "scoring_rate_impact_ratio": flm.demographic_parity_ratio,
    "selection_rate_difference": flm.demographic_parity_difference,
    "true_positive_rate_difference": flm.equal_opportunity_difference,
    "equalized_odds_difference": flm.equalized_odds_difference,
    "equalized_odds_ratio": flm.equalized_odds_ratio,
}


@pytest.mark.parametrize("metric", sorted(FAIRNESS_METRICS))
def test_value_matches_fairlearn(metric: str, data: tuple[np.ndarray, np.ndarray, pd.DataFrame]) -> None:
    y, p, sensitive = data
    keep = sensitive["group"].to_numpy() != "tiny"
    groups = sensitive["group"].to_numpy()[keep]
    if metric == "false_positive_rate_difference":
        frame = flm.MetricFrame(
            metrics=flm.false_positive_rate, y_true=y[keep], y_pred=p[keep], sensitive_features=groups
        )
        expected = frame.difference()
    else:
        expected = FAIRLEARN[metric](y[keep], p[keep], sensitive_features=groups)
    assert measure_fairness(metric, y, p, sensitive, min_group_size=50).value == pytest.approx(expected, abs=1e-12)


def test_equalized_odds_names_the_deciding_rate(data: tuple[np.ndarray, np.ndarray, pd.DataFrame]) -> None:
    y, p, sensitive = data
    m = measure_fairness("equalized_odds_difference", y, p, sensitive, min_group_size=50)
    rates = m.details["rates"]
    deciding = m.details["deciding_rate"]
    assert m.value == pytest.approx(max(rates[r]["value"] for r in rates)) == rates[deciding]["value"]
    assert {r.group: r.value for r in m.groups} == rates[deciding]["by_group"]


# --- groups and exclusions --------------------------------------------------------------------


def test_intersectional_labels_in_column_order() -> None:
    frame = pd.DataFrame({"sex": ["Female", "Male", "Female"], "race": ["Black", "White", "White"]}, index=[7, 8, 9])
    labels = group_labels(frame)
    assert labels.tolist() == ["Female × Black", "Male × White", "Female × White"]
    assert labels.index.tolist() == [7, 8, 9] and labels.name == "sex × race"
    assert group_labels(frame[["race", "sex"]]).iloc[0] == "Black × Female"


def test_intersectional_groups_are_measured() -> None:
    rng = np.random.default_rng(3)
    n = 400
    sensitive = pd.DataFrame({"sex": rng.choice(["Female", "Male"], n), "race": rng.choice(["Black", "White"], n)})
    p = rng.integers(0, 2, n)
    m = measure_fairness("selection_rate_ratio", p, p, sensitive)
    names = sorted(r.group for r in m.groups)
    assert names == ["Female × Black", "Female × White", "Male × Black", "Male × White"]
    labels = (sensitive["sex"] + " × " + sensitive["race"]).to_numpy()
    rates = numpy_rates(p, p, labels)
    assert m.value == pytest.approx(numpy_value("selection_rate_ratio", rates, names))


def test_exclusion_reasons() -> None:
    labels = pd.Series(["a"] * 940 + ["b"] * 30 + ["c"] * 30)
    assert exclusions(labels, min_group_size=0, min_group_share=0.0) == {}
    assert exclusions(labels, min_group_size=50, min_group_share=0.0) == {
        "b": "n=30 < minimum group size 50",
        "c": "n=30 < minimum group size 50",
    }
    both = exclusions(labels, min_group_size=50, min_group_share=0.05)["b"]
    assert both == "n=30 < minimum group size 50; 3.0% of rows < 5.0% minimum share (6 RCNY 5-301(d))"
    # a share just under the minimum is never printed as equal to it
    close = exclusions(pd.Series(["a"] * 9801 + ["b"] * 199), min_group_size=0, min_group_share=0.02)
    assert close == {"b": "1.99% of rows < 2.00% minimum share (6 RCNY 5-301(d))"}


def test_excluded_group_is_not_the_reference() -> None:
    """The most-selected group is chosen among included groups only."""
    sensitive, selected = applicants({"big": (500, 100), "other": (400, 60), "small": (20, 18)})
    m = measure_fairness("impact_ratio", selected, selected, sensitive, min_group_size=50)
    rows = {r.group: r for r in m.groups}
    assert m.details["reference_group"] == "big" and rows["big"].ratio == 1.0
    assert rows["small"].excluded == "n=20 < minimum group size 50"
    assert rows["small"].value == pytest.approx(0.9) and rows["small"].ratio is None
    assert m.value == pytest.approx(0.15 / 0.2)


# --- insufficient evidence --------------------------------------------------------------------


def test_fewer_than_two_groups_after_exclusion() -> None:
    sensitive, selected = applicants({"big": (500, 100), "small": (20, 5)})
    m = measure_fairness("impact_ratio", selected, selected, sensitive, min_group_size=50)
    assert m.value is None and m.insufficient is not None and "fewer than two groups" in m.insufficient
    assert [r.group for r in m.groups] == ["big", "small"]


def test_too_few_positives_is_insufficient_but_keeps_the_value() -> None:
    y = np.array([1, 1, 0, 0, 0, 0] + [1] * 10 + [0] * 10)
    p = np.array([1, 0, 0, 0, 1, 0] + [1] * 8 + [0] * 2 + [0] * 9 + [1])
    sensitive = pd.DataFrame({"g": ["few"] * 6 + ["many"] * 20})
    m = measure_fairness("true_positive_rate_difference", y, p, sensitive, min_positives=5)
    assert m.insufficient == "group 'few' has 2 actual positives, fewer than the minimum of 5"
    assert m.value == pytest.approx(0.8 - 0.5)
    assert measure_fairness("true_positive_rate_difference", y, p, sensitive, min_positives=2).insufficient is None


def test_too_few_negatives_for_false_positive_rates() -> None:
    y = np.array([1, 1, 1, 0] + [1] * 10 + [0] * 10)
    p = np.array([1, 1, 0, 1] + [1] * 10 + [0] * 9 + [1])
    sensitive = pd.DataFrame({"g": ["few"] * 4 + ["many"] * 20})
    m = measure_fairness("false_positive_rate_difference", y, p, sensitive, min_positives=3)
    assert m.insufficient == "group 'few' has 1 actual negatives, fewer than the minimum of 3"
    assert measure_fairness("selection_rate_difference", y, p, sensitive, min_positives=3).insufficient is None


def test_nobody_selected_makes_ratios_undefined() -> None:
    sensitive, _ = applicants({"a": (50, 0), "b": (60, 0)})
    y = np.tile([0, 1], 55)
    p = np.zeros(110, dtype=int)
    for metric in ("impact_ratio", "selection_rate_ratio"):
        m = measure_fairness(metric, y, p, sensitive)
        assert m.value is None and m.worst_group is None
        assert m.insufficient is not None and "highest selection rate among the included groups is 0" in m.insufficient
    assert measure_fairness("selection_rate_difference", y, p, sensitive).value == 0.0


# --- bad input --------------------------------------------------------------------------------


def _raises(match: str, **overrides: Any) -> None:
    kwargs: dict[str, Any] = {
        "metric": "selection_rate_ratio",
        "y_true": np.array([0, 1, 1, 0]),
        "y_pred": np.array([1, 1, 0, 0]),
        "sensitive": pd.DataFrame({"g": ["a", "a", "b", "b"]}),
    }
    kwargs.update(overrides)
    with pytest.raises(MetricInputError, match=match):
        measure_fairness(**kwargs)


def test_input_errors() -> None:
    _raises("y_true\\) is empty", y_true=np.array([]), y_pred=np.array([]), sensitive=pd.DataFrame({"g": []}))
    _raises("different numbers of rows: y_true has 4, y_pred has 3", y_pred=np.array([1, 0, 0]))
    _raises("different numbers of rows", sensitive=pd.DataFrame({"g": ["a", "b"]}))
    _raises("y_true\\) has 1 missing values", y_true=np.array([0, 1, np.nan, 0]))
    _raises("y_pred\\) has 1 missing values", y_pred=np.array([0, 1, None, 0], dtype=object))
    _raises("sensitive column 'g' has 1 missing values", sensitive=pd.DataFrame({"g": ["a", None, "b", "b"]}))
    _raises(
        r"target \(y_true\) has 3 distinct values \(0, 1, 2\); binary metric 'selection_rate_ratio' needs 0/1",
        y_true=np.array([0, 1, 2, 1]),
    )
    _raises("has 2 distinct values \\('no', 'yes'\\)", y_pred=np.array(["yes", "no", "yes", "no"]))
    _raises("scores or probabilities", y_pred=np.array([0.1, 0.7, 0.4, 0.9]))
    _raises("unknown fairness metric 'parity'; known fairness metrics: equalized_odds_difference, ", metric="parity")
    _raises("has no columns", sensitive=pd.DataFrame(index=range(4)))
    _raises("confidence must be strictly between 0 and 1", confidence=1.5)
    _raises("n_boot must be a positive integer", confidence=0.9, n_boot=0)
    _raises("min_positives must be a non-negative integer", min_positives=-1)
    _raises("min_group_share must be in", min_group_share=1.0)


def test_booleans_are_binary() -> None:
    m = measure_fairness(
        "selection_rate_difference",
        np.array([True, False, True, False]),
        np.array([True, True, False, False]),
        pd.DataFrame({"g": ["a", "a", "b", "b"]}),
    )
    assert m.value == pytest.approx(1.0)


def test_group_without_positives_is_bad_data() -> None:
    y = np.array([0] * 60 + [0, 1] * 30)
    p = np.array([0, 1] * 60)
    sensitive = pd.DataFrame({"g": ["none"] * 60 + ["some"] * 60})
    for metric in ("true_positive_rate_difference", "equalized_odds_ratio"):
        with pytest.raises(MetricInputError, match=r"group 'none' has 60 rows but no actual positives.*min_group_size"):
            measure_fairness(metric, y, p, sensitive)
    assert measure_fairness("selection_rate_ratio", y, p, sensitive).insufficient is None
    # excluded, it no longer counts: it is listed without a rate
    m = measure_fairness("true_positive_rate_difference", y, p, sensitive, min_group_size=61)
    assert m.insufficient is not None and m.groups[0].value is None and m.groups[0].excluded is not None
    with pytest.raises(MetricInputError, match="no actual negatives"):
        measure_fairness("false_positive_rate_difference", 1 - y, p, sensitive)


# --- bootstrap intervals ----------------------------------------------------------------------

QUANTILES = [(1 - 0.9) / 2, 1 - (1 - 0.9) / 2]


@pytest.fixture(scope="module")
def small() -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(5)
    n = 300
    group = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.4, 0.1])
    y = rng.integers(0, 2, n)
    p = (rng.random(n) < 0.3 + 0.4 * y + 0.1 * (group == "a")).astype(int)
    return y, p, pd.DataFrame({"group": group})


@pytest.mark.parametrize(
    ("metric", "rate", "aggregate"),
    [
        ("impact_ratio", flm.selection_rate, "ratio_ci"),
        ("selection_rate_ratio", flm.selection_rate, "ratio_ci"),
        ("selection_rate_difference", flm.selection_rate, "difference_ci"),
        ("true_positive_rate_difference", flm.true_positive_rate, "difference_ci"),
        ("false_positive_rate_difference", flm.false_positive_rate, "difference_ci"),
    ],
)
def test_interval_equals_fairlearn_metricframe(
    metric: str, rate: Any, aggregate: str, small: tuple[np.ndarray, np.ndarray, pd.DataFrame]
) -> None:
    """Same resamples, same metric, same quantiles: the interval is MetricFrame's, computed on the
    included rows (group 'c', 10% of rows, is excluded by a 15% minimum share)."""
    y, p, sensitive = small
    keep = sensitive["group"].to_numpy() != "c"
    frame = flm.MetricFrame(
        metrics=rate,
        y_true=y[keep],
        y_pred=p[keep],
        sensitive_features=sensitive["group"].to_numpy()[keep],
        n_boot=40,
        ci_quantiles=QUANTILES,
        random_state=7,
    )
    expected = getattr(frame, aggregate)()
    m = measure_fairness(metric, y, p, sensitive, min_group_share=0.15, confidence=0.9, n_boot=40, seed=7)
    assert m.interval == pytest.approx(tuple(expected), abs=1e-12)


def test_degenerate_resamples_follow_fairlearn() -> None:
    """A group with 3 positives loses all of them in some resamples; fairlearn then counts its TPR
    as 0, and so does the interval, which reports how many resamples that happened in."""
    rng = np.random.default_rng(9)
    group = np.array(["a"] * 150 + ["b"] * 40)
    y = np.r_[rng.integers(0, 2, 150), [1, 1, 1], np.zeros(37, dtype=int)]
    p = rng.integers(0, 2, 190)
    frame = flm.MetricFrame(
        metrics=flm.true_positive_rate,
        y_true=y,
        y_pred=p,
        sensitive_features=group,
        n_boot=60,
        ci_quantiles=QUANTILES,
        random_state=2,
    )
    m = measure_fairness(
        "true_positive_rate_difference", y, p, pd.DataFrame({"g": group}), confidence=0.9, n_boot=60, seed=2
    )
    assert m.interval == pytest.approx(tuple(frame.difference_ci()), abs=1e-12)
    assert m.details["bootstrap"]["degenerate_resamples"] > 0


def test_equalized_odds_interval_is_the_bootstrap_of_the_worse_rate(
    small: tuple[np.ndarray, np.ndarray, pd.DataFrame],
) -> None:
    """fairlearn has no interval for equalized odds; resample as MetricFrame does (pandas sample
    with its per-resample seeds) and take the larger TPR/FPR difference from numpy counts."""
    y, p, sensitive = small
    rows = pd.DataFrame({"y": y, "p": p, "g": sensitive["group"].to_numpy()})
    seeds = np.random.default_rng(3).integers(0, np.iinfo(np.uint32).max, size=30, dtype=np.uint32)
    values = []
    for s in seeds:
        sample = rows.sample(frac=1, replace=True, random_state=s)
        rates = numpy_rates(sample["y"].to_numpy(), sample["p"].to_numpy(), sample["g"].to_numpy())
        values.append(numpy_value("equalized_odds_difference", rates, sorted(rates)))
    m = measure_fairness("equalized_odds_difference", y, p, sensitive, confidence=0.9, n_boot=30, seed=3)
    assert m.interval == pytest.approx(tuple(np.quantile(values, QUANTILES)), abs=1e-12)


def test_interval_is_deterministic_contains_the_value_and_shrinks_with_data() -> None:
    def measure(n: int, seed: int) -> Measurement:
        rng = np.random.default_rng(n)
        group = rng.choice(["a", "b"], size=n)
        y = rng.integers(0, 2, n)
        p = (rng.random(n) < np.where(group == "a", 0.5, 0.4)).astype(int)
        return measure_fairness(
            "selection_rate_ratio", y, p, pd.DataFrame({"g": group}), confidence=0.95, n_boot=100, seed=seed
        )

    first, again, other = measure(2000, 0), measure(2000, 0), measure(2000, 1)
    assert first.interval is not None and first.value is not None
    assert first.interval == again.interval and first.interval != other.interval
    assert first.interval[0] <= first.value <= first.interval[1]
    assert first.details["bootstrap"] == {
        "confidence": 0.95,
        "n_boot": 100,
        "seed": 0,
        "method": "percentile bootstrap over rows, with fairlearn MetricFrame's resamples",
        "degenerate_resamples": 0,
    }
    larger = measure(20000, 0)
    assert larger.interval is not None
    assert larger.interval[1] - larger.interval[0] < first.interval[1] - first.interval[0]


def test_no_interval_when_evidence_is_insufficient() -> None:
    sensitive, selected = applicants({"big": (500, 100), "small": (20, 5)})
    m = measure_fairness("impact_ratio", selected, selected, sensitive, min_group_size=50, confidence=0.95)
    assert m.interval is None and m.insufficient is not None


# --- property ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ABCDE"), st.booleans()), min_size=2, max_size=80),
    st.integers(min_value=0, max_value=12),
)
def test_impact_ratio_is_min_rate_over_max_rate(rows: list[tuple[str, bool]], min_size: int) -> None:
    group = np.array([g for g, _ in rows])
    p = np.array([int(s) for _, s in rows])
    y = np.zeros(len(rows), dtype=int)
    m = measure_fairness("impact_ratio", y, p, pd.DataFrame({"g": group}), min_group_size=min_size)
    names, counts = np.unique(group, return_counts=True)
    included = [g for g, c in zip(names, counts, strict=True) if c >= min_size]
    rates = {g: p[group == g].mean() for g in included}
    if len(included) < 2:
        assert m.value is None and m.insufficient is not None
        return
    top = max(rates.values())
    if top == 0:
        assert m.value is None and m.insufficient is not None
        return
    assert m.value == pytest.approx(min(r / top for r in rates.values()))
    assert m.value is not None and 0.0 <= m.value <= 1.0
    assert {r.group: r.ratio for r in m.groups if r.excluded is None} == pytest.approx(
        {g: r / top for g, r in rates.items()}
    )
    assert len(m.groups) == len(names)


def test_scoring_rate_selections_are_the_scores_above_the_median() -> None:
    """6 RCNY 5-300: the scoring rate is the rate of scores above the sample's median score."""
    from policies.metrics.fairness import scoring_rate_selections

    above, details = scoring_rate_selections(np.array([0.0, 0.0, 0.0, 0.2, 0.9]))
    assert above.tolist() == [0, 0, 0, 1, 1]
    assert details["median_score"] == 0.0 and details["share_at_median"] == pytest.approx(0.6)
    above, details = scoring_rate_selections(np.array([1.0, 2.0, 3.0, 4.0]))
    assert above.tolist() == [0, 0, 1, 1] and details["median_score"] == 2.5
