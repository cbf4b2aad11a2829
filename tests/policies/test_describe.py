"""What a registration records about a fitted model, read off the object (policies.describe)."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import BaggingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from policies.describe import describe_model


def test_a_plain_estimator_is_named_by_its_class_with_its_scalar_parameters() -> None:
    described = describe_model(LogisticRegression(C=np.float64(0.5), max_iter=np.int64(200)), ["age", "income"])
    assert described["estimator"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert described["input_features"] == ["age", "income"]
    params = described["hyperparameters"]
    assert params["C"] == 0.5 and type(params["C"]) is float  # numpy scalars become JSON scalars
    assert params["max_iter"] == 200 and type(params["max_iter"]) is int


def test_a_pipeline_names_its_steps_and_records_each_steps_parameters() -> None:
    described = describe_model(make_pipeline(StandardScaler(), LogisticRegression(C=2.0)), ["x"])
    assert described["estimator"] == "sklearn.pipeline.Pipeline: StandardScaler → LogisticRegression"
    params = described["hyperparameters"]
    assert params["logisticregression__C"] == 2.0 and params["standardscaler__with_mean"] is True
    assert "memory" not in params  # the pipeline's own settings say nothing of the model


def test_a_nested_estimator_is_named_not_expanded() -> None:
    described = describe_model(BaggingClassifier(estimator=LogisticRegression()), [])
    assert described["hyperparameters"]["estimator"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert all(v is None or isinstance(v, str | int | float | bool) for v in described["hyperparameters"].values())
