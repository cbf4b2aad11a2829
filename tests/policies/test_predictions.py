"""Selections and scores per model family (`policies.predictions`), and data files by content
(`policies.datafiles`): known answers from the models' own methods."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from policies.datafiles import read_data
from policies.predictions import check_threshold, predict
from policies.results import MetricInputError


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    y = pd.Series((x["a"] + 0.5 * rng.normal(size=400) > 0).astype(int))
    return x, y


def test_a_probabilistic_classifier_selects_with_predict_or_at_the_threshold(
    data: tuple[pd.DataFrame, pd.Series],
) -> None:
    x, y = data
    model = LogisticRegression().fit(x, y)
    plain = predict(model, x)
    np.testing.assert_array_equal(plain.selected, model.predict(x))
    np.testing.assert_array_equal(plain.score, model.predict_proba(x)[:, 1])
    assert (plain.how, plain.score_kind) == ("predict", "probability")
    at = predict(model, x, threshold=0.8)
    np.testing.assert_array_equal(at.selected, (model.predict_proba(x)[:, 1] >= 0.8).astype(int))
    assert at.how == "predict_proba[:, 1] >= 0.8"
    assert predict(model, x, threshold=0.0).selected.tolist() == [1] * len(x)  # type: ignore[union-attr]


def test_a_decision_function_classifier_is_scored_by_it_and_refuses_a_probability_threshold(
    data: tuple[pd.DataFrame, pd.Series],
) -> None:
    x, y = data
    model = LinearSVC().fit(x, y)
    found = predict(model, x)
    np.testing.assert_array_equal(found.score, model.decision_function(x))
    assert found.score_kind == "decision_function"
    with pytest.raises(MetricInputError, match="no predict_proba"):
        predict(model, x, threshold=0.5)


def test_a_regressor_scores_and_selects_only_with_a_threshold(data: tuple[pd.DataFrame, pd.Series]) -> None:
    x, y = data
    model = LinearRegression().fit(x, y)
    found = predict(model, x)
    assert found.selected is None and found.score_kind == "regression"
    at = predict(model, x, threshold=0.5)
    np.testing.assert_array_equal(at.selected, (model.predict(x) >= 0.5).astype(int))


def test_labels_other_than_zero_and_one_are_refused(data: tuple[pd.DataFrame, pd.Series]) -> None:
    x, y = data
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(x, y.map({0: "no", 1: "yes"}))
    with pytest.raises(MetricInputError, match="binary metrics need 0/1"):
        predict(model, x)


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan"), float("inf")])
def test_a_threshold_is_a_probability(bad: float) -> None:
    with pytest.raises(MetricInputError, match="between 0 and 1"):
        check_threshold(bad, "--threshold")
    assert check_threshold(1.0, "policy") == 1.0 and check_threshold(None, "policy") is None


def test_parquet_is_told_by_content_and_hashed_as_stored(data: tuple[pd.DataFrame, pd.Series], tmp_path: Path) -> None:
    frame = data[0].assign(group=["x", "y"] * 200)
    disguised = tmp_path / "rows.csv"  # a Parquet file with a CSV name
    frame.to_parquet(disguised, index=False)
    found, digest = read_data(disguised)
    pd.testing.assert_frame_equal(found, frame)
    assert digest == hashlib.sha256(disguised.read_bytes()).hexdigest()
    as_csv = tmp_path / "rows.parquet"  # and a CSV with a Parquet name
    frame.to_csv(as_csv, index=False)
    again, _ = read_data(as_csv)
    pd.testing.assert_frame_equal(again, frame, check_exact=False, rtol=1e-15)


def test_a_truncated_parquet_file_is_a_usage_error(data: tuple[pd.DataFrame, pd.Series], tmp_path: Path) -> None:
    path = tmp_path / "cut.parquet"
    data[0].to_parquet(path, index=False)
    raw = path.read_bytes()
    path.write_bytes(raw[:12] + raw[-8:])  # keeps both magic numbers, loses the row groups
    with pytest.raises(MetricInputError, match="not a readable Parquet file"):
        read_data(path)
