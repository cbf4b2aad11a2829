"""The SHAP explainability module on real models trained here on small synthetic data.

Tolerances: tree (path-dependent) and linear explanations add up to the model output to ~1e-14, so
1e-9 leaves room for platform noise only. The permutation explainer telescopes along each permutation,
so it is exactly additive too (measured ~1e-15): the same 1e-9 applies, honestly, to all three.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shap
from fairlearn.postprocessing import ThresholdOptimizer
from fairlearn.reductions import DemographicParity, ExponentiatedGradient
from sklearn.compose import make_column_transformer
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from policies.explain import (
    GlobalExplanation,
    additivity,
    canonical_sha256,
    explain_model,
    explain_rows,
    explainable_share,
    principal_reasons,
    sensitive_attribution_share,
    sensitive_in_top_k,
)
from policies.results import MetricInputError

ADDITIVE = 1e-9


def explain_small(
    model: Any, frame: pd.DataFrame, *, seed: int = 0, sensitive_features: Sequence[str] = ()
) -> GlobalExplanation:
    """A small sample and background keep the permutation runs to a fraction of a second."""
    return explain_model(
        model, frame, sample_size=80, background_size=25, seed=seed, sensitive_features=sensitive_features
    )


def make_data(n: int = 600, *, seed: int = 0, label_uses_sex: bool = False) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.normal(size=n),
            "debt": rng.normal(size=n),
            "tenure": rng.normal(size=n),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "sex": rng.integers(0, 2, n),
        }
    )
    signal = frame["income"] - 0.7 * frame["debt"] + 0.8 * (frame["region"] == "north")
    if label_uses_sex:
        signal = 3.0 * frame["sex"] + 0.3 * frame["income"]
    label = (signal + rng.normal(scale=0.5, size=n) > 0.4).astype(int)
    return frame, label


def numeric(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="region")


def one_hot_gbc() -> Pipeline:
    encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["region"]), remainder="passthrough")
    return make_pipeline(encode, GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=0))


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    return make_data()


@pytest.fixture(scope="module")
def gbc(data: tuple[pd.DataFrame, pd.Series]) -> GradientBoostingClassifier:
    frame, y = data
    return GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=0).fit(numeric(frame), y)


@pytest.fixture(scope="module")
def gbc_pipeline(data: tuple[pd.DataFrame, pd.Series]) -> Pipeline:
    frame, y = data
    return one_hot_gbc().fit(frame, y)


@pytest.fixture(scope="module")
def logistic(data: tuple[pd.DataFrame, pd.Series]) -> Pipeline:
    frame, y = data
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(numeric(frame), y)


@pytest.fixture(scope="module")
def knn(data: tuple[pd.DataFrame, pd.Series]) -> Pipeline:
    """A model no native explainer reads, with a string column: the permutation path."""
    frame, y = data
    encode = make_column_transformer((OneHotEncoder(), ["region"]), remainder=StandardScaler())
    return make_pipeline(encode, KNeighborsClassifier(n_neighbors=15)).fit(frame, y)


def assert_consistent(expl: GlobalExplanation, columns: list[str]) -> None:
    """The invariants every explanation keeps, whichever explainer produced it."""
    assert expl.features == columns
    assert expl.contributions.shape == (expl.sample_size, len(columns))
    assert expl.model_output.shape == (expl.sample_size,)
    assert expl.additivity_error <= ADDITIVE
    assert expl.ranking == sorted(columns, key=lambda name: (-expl.mean_abs[name], name))
    assert expl.mean_abs == pytest.approx(dict(zip(columns, np.abs(expl.contributions).mean(axis=0), strict=True)))
    assert expl.background_sha256 == canonical_sha256(expl.background)
    assert expl.shap_version == shap.__version__
    json.dumps(expl.as_json())  # JSON-safe, no arrays


def assert_identical(first: GlobalExplanation, second: GlobalExplanation) -> None:
    assert first.as_json() == second.as_json()
    np.testing.assert_array_equal(first.contributions, second.contributions)
    np.testing.assert_array_equal(first.model_output, second.model_output)
    np.testing.assert_array_equal(first.rows, second.rows)


# --- the three explainers -------------------------------------------------------------------------------


def test_tree_models_get_the_exact_tree_explainer(gbc: Any, data: tuple[pd.DataFrame, pd.Series]) -> None:
    frame = numeric(data[0])
    expl = explain_model(gbc, frame, sample_size=200, seed=3)
    assert (expl.explainer_kind, expl.output_space, expl.estimator) == (
        "tree",
        "log_odds",
        "GradientBoostingClassifier",
    )
    assert_consistent(expl, list(frame.columns))
    np.testing.assert_allclose(expl.model_output, gbc.decision_function(frame.iloc[expl.rows]))
    assert expl.background_size == 0  # path-dependent: the baseline is the training data in the trees
    assert expl.sample_size == 200
    assert expl.note is None


def test_forests_are_explained_in_probability_space(data: tuple[pd.DataFrame, pd.Series]) -> None:
    frame, y = numeric(data[0]), data[1]
    forest = RandomForestClassifier(n_estimators=20, max_depth=5, random_state=0).fit(frame, y)
    expl = explain_model(forest, frame, sample_size=100)
    assert (expl.explainer_kind, expl.output_space) == ("tree", "probability")
    assert_consistent(expl, list(frame.columns))


def test_linear_models_get_the_linear_explainer_against_the_background(
    logistic: Any, data: tuple[pd.DataFrame, pd.Series]
) -> None:
    frame = numeric(data[0])
    expl = explain_model(logistic, frame, sample_size=150, background_size=40, seed=1)
    assert (expl.explainer_kind, expl.output_space, expl.estimator) == (
        "linear",
        "log_odds",
        "Pipeline[LogisticRegression]",
    )
    assert_consistent(expl, list(frame.columns))
    assert expl.background_size == 40
    # The baseline is the model's mean output over the recorded background (linear in the inputs).
    assert expl.base_value == pytest.approx(float(logistic.decision_function(expl.background).mean()), abs=1e-12)


def test_other_models_get_the_permutation_explainer_over_original_columns(
    knn: Any, data: tuple[pd.DataFrame, pd.Series]
) -> None:
    frame = data[0]
    expl = explain_small(knn, frame, seed=2)
    assert (expl.explainer_kind, expl.output_space) == ("permutation", "probability")
    assert_consistent(expl, list(frame.columns))
    np.testing.assert_allclose(expl.model_output, knn.predict_proba(frame.iloc[expl.rows])[:, 1])
    assert expl.base_value == pytest.approx(float(knn.predict_proba(expl.background)[:, 1].mean()), abs=1e-12)
    assert expl.mean_abs["income"] > expl.mean_abs["tenure"]  # the label depends on income, not tenure


def test_a_tree_model_shap_cannot_read_falls_back_to_permutation(data: tuple[pd.DataFrame, pd.Series]) -> None:
    frame, y = data[0].copy(), data[1]
    frame["region"] = frame["region"].astype("category")  # native categorical splits: TreeExplainer cannot parse them
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(frame, y)
    expl = explain_model(model, frame, sample_size=8, background_size=10)  # HGB calls are slow: keep them few
    assert expl.explainer_kind == "permutation"
    assert expl.note is not None and "tree explainer failed" in expl.note
    assert_consistent(expl, list(frame.columns))


@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")  # raised inside fairlearn's fit
@pytest.mark.parametrize("mitigator", ["threshold", "reduction"])
def test_fairlearn_mitigators_are_explained_on_their_positive_probability(
    mitigator: str, data: tuple[pd.DataFrame, pd.Series]
) -> None:
    frame, y = numeric(data[0]), data[1]
    model: Any
    if mitigator == "threshold":
        model = ThresholdOptimizer(estimator=LogisticRegression(), predict_method="predict_proba")
        model.fit(frame, y, sensitive_features=frame["sex"])
        with pytest.raises(MetricInputError, match="sensitive_features"):
            explain_small(model, frame)
        expl = explain_small(model, frame, sensitive_features=["sex"])
    else:
        model = ExponentiatedGradient(LogisticRegression(), DemographicParity()).fit(
            frame, y, sensitive_features=frame["sex"]
        )
        expl = explain_small(model, frame)
    assert (expl.explainer_kind, expl.output_space) == ("permutation", "probability")
    assert_consistent(expl, list(frame.columns))


# --- pipelines with one-hot columns ---------------------------------------------------------------------


def test_one_hot_columns_are_summed_back_into_their_source_column(
    gbc_pipeline: Pipeline, data: tuple[pd.DataFrame, pd.Series]
) -> None:
    frame = data[0]
    expl = explain_model(gbc_pipeline, frame, sample_size=150)
    assert expl.explainer_kind == "tree" and expl.estimator == "Pipeline[GradientBoostingClassifier]"
    assert_consistent(expl, list(frame.columns))
    # Recompute independently on the transformed matrix: region's contribution is its indicators' sum.
    encoder, booster = gbc_pipeline[:-1], gbc_pipeline[-1]
    transformed = encoder.transform(frame.iloc[expl.rows])
    raw = shap.TreeExplainer(booster, feature_perturbation="tree_path_dependent").shap_values(transformed)
    names = list(encoder.get_feature_names_out())
    indicators = [i for i, name in enumerate(names) if name.startswith("onehotencoder__region_")]
    assert len(indicators) == 4
    np.testing.assert_allclose(expl.contributions[:, frame.columns.get_loc("region")], raw[:, indicators].sum(axis=1))
    np.testing.assert_allclose(
        expl.contributions[:, frame.columns.get_loc("income")], raw[:, names.index("remainder__income")]
    )
    assert "region" in expl.ranking[:3]  # the label depends on region == north


# --- determinism ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_name", ["gbc_pipeline", "logistic", "knn"])
def test_same_inputs_and_seed_give_the_same_explanation(
    model_name: str, request: pytest.FixtureRequest, data: tuple[pd.DataFrame, pd.Series]
) -> None:
    model = request.getfixturevalue(model_name)
    frame = data[0] if model_name != "logistic" else numeric(data[0])
    first = explain_small(model, frame, seed=7)
    np.random.seed(123)  # the global generator must not matter (shap's permutation explainer uses it)
    second = explain_small(model, frame, seed=7)
    assert_identical(first, second)
    other = explain_small(model, frame, seed=8)
    assert not np.array_equal(first.rows, other.rows)


def test_the_permutation_explainer_leaves_the_global_numpy_generator_alone(
    knn: Any, data: tuple[pd.DataFrame, pd.Series]
) -> None:
    np.random.seed(5)
    expected = np.random.random()
    np.random.seed(5)
    explain_small(knn, data[0])
    assert np.random.random() == expected


# --- sensitive features ---------------------------------------------------------------------------------


def test_a_model_driven_by_sex_ranks_it_top_and_the_rule_counts_it() -> None:
    frame, y = make_data(label_uses_sex=True)
    model = one_hot_gbc().fit(frame, y)
    expl = explain_model(model, frame, sample_size=200)
    assert expl.ranking[0] == "sex"
    measured = sensitive_in_top_k(expl, ["sex", "zip_code"], k=3)
    assert measured.value == 1.0
    assert measured.details["in_top_k"] == [{"feature": "sex", "rank": 1}]
    assert measured.details["absent"] == ["zip_code"]
    share = sensitive_attribution_share(expl, ["sex"])
    assert share.value is not None and share.value > 0.5


def test_a_model_that_ignores_sex_does_not_rank_it_top(gbc_pipeline: Any, data: tuple[pd.DataFrame, pd.Series]) -> None:
    expl = explain_model(gbc_pipeline, data[0], sample_size=200)
    measured = sensitive_in_top_k(expl, ["sex"], k=3)
    assert measured.value == 0.0
    assert measured.details["ranks"]["sex"] > 3
    share = sensitive_attribution_share(expl, ["sex"])
    assert share.value is not None and share.value < 0.05


def test_a_model_without_the_sex_column_counts_nothing(data: tuple[pd.DataFrame, pd.Series]) -> None:
    frame, y = numeric(data[0]).drop(columns="sex"), data[1]
    model = LogisticRegression().fit(frame, y)
    expl = explain_model(model, data[0], sample_size=50)  # extra columns in the data are ignored
    assert expl.features == list(frame.columns)
    measured = sensitive_in_top_k(expl, ["sex"], k=5)
    assert (measured.value, measured.details["absent"]) == (0.0, ["sex"])
    assert sensitive_attribution_share(expl, ["sex"]).value == 0.0


# --- principal reasons and the rule measurements --------------------------------------------------------


def test_principal_reasons_are_at_most_four_negative_contributions_most_negative_first() -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({f"f{i}": rng.normal(size=500) for i in range(8)})
    y = (frame.sum(axis=1) + rng.normal(scale=0.3, size=500) > 0).astype(int)
    expl = explain_model(LogisticRegression().fit(frame, y), frame, sample_size=100)
    negatives_per_row = (expl.contributions < 0).sum(axis=1)
    assert negatives_per_row.max() > 4  # the truncation is exercised
    for row in range(expl.sample_size):
        reasons = principal_reasons(expl, row).reasons
        assert len(reasons) == min(4, negatives_per_row[row])
        values = [value for _, value in reasons]
        assert all(value < 0 for value in values)
        assert values == sorted(values)
        for name, value in reasons:
            assert value == expl.contributions[row, expl.features.index(name)]
        if reasons:
            assert reasons[0][1] == expl.contributions[row].min()
    assert principal_reasons(expl, int(np.argmax(negatives_per_row)), max_reasons=2).count == 2
    with pytest.raises(IndexError):
        principal_reasons(expl, expl.sample_size)


def test_rule_measurements_on_an_exact_explanation(gbc_pipeline: Any, data: tuple[pd.DataFrame, pd.Series]) -> None:
    expl = explain_model(gbc_pipeline, data[0], sample_size=120)
    measured = additivity(expl)
    assert measured.value == expl.additivity_error and measured.value <= ADDITIVE
    share = explainable_share(expl)
    assert share.value is not None and 0.9 <= share.value <= 1.0
    assert share.details["not_additive"] == 0
    assert share.details["explainable"] + share.details["without_reasons"] == expl.sample_size
    assert explainable_share(expl, tolerance=-1.0).value == 0.0  # nothing adds up within a negative tolerance


def test_explain_rows_reuses_the_global_background(logistic: Any, data: tuple[pd.DataFrame, pd.Series]) -> None:
    frame = numeric(data[0])
    expl = explain_model(logistic, frame, sample_size=50, background_size=30)
    decisions = frame.iloc[expl.rows[:3]]
    local = explain_rows(logistic, decisions, expl)
    assert (local.sample_size, local.background_sha256) == (3, expl.background_sha256)
    assert local.base_value == pytest.approx(expl.base_value, abs=1e-12)
    np.testing.assert_allclose(local.contributions, expl.contributions[:3], atol=1e-12)
    local_reasons, global_reasons = principal_reasons(local, 0).reasons, principal_reasons(expl, 0).reasons
    assert [name for name, _ in local_reasons] == [name for name, _ in global_reasons]
    assert [value for _, value in local_reasons] == pytest.approx([value for _, value in global_reasons])


# --- unusable input -------------------------------------------------------------------------------------


def test_data_without_a_model_column_is_rejected(gbc_pipeline: Any, data: tuple[pd.DataFrame, pd.Series]) -> None:
    with pytest.raises(MetricInputError, match="debt"):
        explain_model(gbc_pipeline, data[0].drop(columns="debt"))


def test_empty_data_is_rejected(gbc_pipeline: Any, data: tuple[pd.DataFrame, pd.Series]) -> None:
    with pytest.raises(MetricInputError, match="empty"):
        explain_model(gbc_pipeline, data[0].iloc[:0])


def test_nans_the_model_cannot_take_are_rejected_even_outside_the_sample(
    gbc: Any, data: tuple[pd.DataFrame, pd.Series]
) -> None:
    frame = numeric(data[0]).copy()
    frame.loc[frame.index[-1], "debt"] = np.nan
    with pytest.raises(MetricInputError, match="debt"):
        explain_model(gbc, frame, sample_size=10, seed=0)  # the sample of 10 rows almost surely misses it
    tolerant = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(frame, data[1])
    expl = explain_model(tolerant, frame, sample_size=len(frame))  # native NaN handling: explained, additively
    assert expl.explainer_kind == "tree" and expl.additivity_error <= ADDITIVE


def test_multiclass_models_are_rejected(data: tuple[pd.DataFrame, pd.Series]) -> None:
    frame = numeric(data[0])
    labels = np.digitize(frame["income"], [-0.5, 0.5])
    model = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(frame, labels)
    with pytest.raises(MetricInputError, match="3 classes"):
        explain_model(model, frame, sample_size=20)


# --- principal reasons never name an excluded feature (prohibited basis or declared proxy) -------------


def test_principal_reasons_skip_excluded_features_and_name_them() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({f"f{i}": rng.normal(size=500) for i in range(8)})
    y = (frame.sum(axis=1) + rng.normal(scale=0.3, size=500) > 0).astype(int)
    expl = explain_model(LogisticRegression().fit(frame, y), frame, sample_size=100)
    excluded = {"f0", "f3", "not-a-feature"}
    skipped_rows = 0
    for row in range(expl.sample_size):
        result = principal_reasons(expl, row, excluded=excluded)
        negative = sorted(
            (float(v), name) for name, v in zip(expl.features, expl.contributions[row], strict=True) if v < 0
        )
        lawful = [(name, v) for v, name in negative if name not in excluded]
        assert list(result.reasons) == lawful[:4]
        assert result.count == len(result.reasons) == min(4, len(lawful))
        assert result.skipped == tuple(name for _, name in negative if name in excluded)
        assert not {name for name, _ in result.reasons} & excluded
        skipped_rows += bool(result.skipped)
    assert skipped_rows > 10  # the exclusion is exercised, not vacuous
    unrestricted = principal_reasons(expl, 0)
    assert unrestricted.skipped == () and unrestricted.count == min(4, int((expl.contributions[0] < 0).sum()))


def test_a_row_lowered_only_by_excluded_features_gets_no_reasons() -> None:
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({name: rng.normal(size=400) for name in ("age", "income", "debt")})
    y = (frame["age"] + frame["income"] - frame["debt"] + rng.normal(scale=0.3, size=400) > 0).astype(int)
    model = LogisticRegression().fit(frame, y)
    # An applicant above the background on income, below on debt, and far below on age: only age lowers the score.
    applicant = pd.DataFrame({"age": [-4.0], "income": [1.0], "debt": [-1.0]})
    assert model.predict(applicant)[0] == 0
    expl = explain_rows(model, applicant, frame)
    negative = [name for name, v in zip(expl.features, expl.contributions[0], strict=True) if v < 0]
    assert negative == ["age"]
    result = principal_reasons(expl, 0, excluded={"age"})
    assert (result.count, result.reasons, result.skipped) == (0, (), ("age",))
    assert principal_reasons(expl, 0).reasons[0][0] == "age"  # without the exclusion, age would be the reason
