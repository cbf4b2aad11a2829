"""Train the demo's two credit-style models on Adult: an unconstrained baseline and a mitigated one.

Protected attributes are never model inputs. `sex` and `race` stay in the data only so fairness
can be measured on outcomes (the ECOA / Regulation B posture: a creditor may not use them to
decide). Leaving them out is not enough on its own: `relationship` ("Husband"/"Wife") and
`marital_status` are strong proxies for sex, which is exactly why the baseline still fails the
four-fifths rule and why the mitigated model constrains outcomes instead of inputs.

Also left out: `fnlwgt` (the census sampling weight, not an attribute of the person) and
`education` (a one-to-one duplicate of `education_num`). `native_country` (national origin),
`marital_status` and `age` are kept, although ECOA treats them as prohibited or restricted bases
too; a real lending model would need a legal review of those, which this demo does not pretend
to be.

Fitting runs single-threaded (threadpoolctl): the result is then bit-identical whatever the core
count, and OpenMP busy-waiting cannot make it many times slower when tests run in parallel.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from fairlearn.reductions import DemographicParity, ExponentiatedGradient
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from policies.results import MetricInputError

__all__ = [
    "CATEGORICAL_FEATURES",
    "FEATURES",
    "MODEL_TYPES",
    "NUMERIC_FEATURES",
    "SENSITIVE",
    "TARGET",
    "FairlearnMixture",
    "train_baseline",
    "train_mitigated",
]

NUMERIC_FEATURES: Final[tuple[str, ...]] = ("age", "education_num", "capital_gain", "capital_loss", "hours_per_week")
CATEGORICAL_FEATURES: Final[tuple[str, ...]] = (
    "workclass",
    "marital_status",
    "occupation",
    "relationship",
    "native_country",
)
FEATURES: Final[tuple[str, ...]] = NUMERIC_FEATURES + CATEGORICAL_FEATURES
SENSITIVE: Final[tuple[str, ...]] = ("sex", "race")
TARGET: Final[str] = "income"

FloatArray = npt.NDArray[np.float64]
_PANDAS_DEPRECATION: type[Warning] = getattr(pd.errors, "Pandas4Warning", DeprecationWarning)  # pandas >= 3


def _check_training_frame(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Refuse what would otherwise fail deep inside sklearn or silently train on garbage."""
    missing = [c for c in (*columns, TARGET) if c not in frame.columns]
    if missing:
        raise MetricInputError(f"training data lacks column(s) {missing}")
    if len(frame) == 0:
        raise MetricInputError("training data has no rows")
    with_nan = [c for c in (*columns, TARGET) if frame[c].isna().any()]
    if with_nan:
        raise MetricInputError(f"training data has missing values in {with_nan}; drop or impute them first")
    labels = set(pd.unique(frame[TARGET]).tolist())
    if not labels <= {0, 1} or len(labels) < 2:
        raise MetricInputError(f"target {TARGET!r} must hold both 0 and 1, found {sorted(labels, key=str)}")


def _features(*, scale_numeric: bool) -> ColumnTransformer:
    """One-hot categoricals (unknown categories at predict time become all-zero rows, not errors).
    Trees get raw numerics so SHAP values stay in the data's own units; linear models get them scaled."""
    numeric: Any = StandardScaler() if scale_numeric else "passthrough"
    return ColumnTransformer(
        [
            ("num", numeric, list(NUMERIC_FEATURES)),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(CATEGORICAL_FEATURES)),
        ],
        remainder="drop",
        verbose_feature_names_out=True,
    )


def train_baseline(train: pd.DataFrame, *, seed: int = 0) -> Pipeline:
    """Features → HistGradientBoostingClassifier, no fairness constraint: the model a team would
    ship by default. shap's TreeExplainer handles `pipeline[-1]` on `pipeline[:-1].transform(X)`."""
    _check_training_frame(train, FEATURES)
    pipeline = Pipeline(
        [
            ("features", _features(scale_numeric=False)),
            ("model", HistGradientBoostingClassifier(random_state=seed)),
        ]
    )
    with threadpool_limits(limits=1):
        pipeline.fit(train[list(FEATURES)], train[TARGET].to_numpy(dtype=np.int64))
    return pipeline


class FairlearnMixture(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """fairlearn's ExponentiatedGradient, kept as its fitted outcome and made deterministic.

    Why not store the ExponentiatedGradient itself: it keeps pandas Series/DataFrames and its
    constraint object in attributes, which skops cannot load without trusting pandas internals.
    Here the outcome is plain sklearn estimators plus a numpy weight vector.

    Why not its `predict`: that draws a random member of the mixture per call, so the same
    applicant could get two answers. Here the draw is derandomised: each row picks the member
    whose cumulative weight covers a uniform number derived from a hash of the row's features.
    The same applicant always gets the same answer, and over a population the members are used
    in the proportions fairlearn's solution requires, which is what its fairness guarantee is
    about (a weighted majority vote instead collapses to the heaviest member and loses it; on
    Adult that took the sex impact ratio from 0.85 back to 0.66). `predict_proba` is the mixture's
    probability of a positive (exactly fairlearn's `_pmf_predict`). The four-fifths ratio of the
    result is measured by the gate, not assumed.

    At predict time only the features are needed: the sensitive feature is used by `fit` alone.
    """

    def __init__(
        self,
        estimator: Any = None,
        *,
        difference_bound: float = 0.01,
        max_iter: int = 50,
    ) -> None:
        self.estimator = estimator
        self.difference_bound = difference_bound
        self.max_iter = max_iter

    def fit(self, X: Any, y: Any, *, sensitive_features: Any) -> FairlearnMixture:  # noqa: N803 - sklearn API
        """Run the reduction, then keep only the members with positive weight (the rest never vote)."""
        base = LogisticRegression(max_iter=1000) if self.estimator is None else clone(self.estimator)
        reduction = ExponentiatedGradient(
            base,
            constraints=DemographicParity(difference_bound=self.difference_bound),
            max_iter=self.max_iter,
        )
        with warnings.catch_warnings():
            # fairlearn 0.15 uses pandas idioms pandas 3 deprecates; the noise says nothing about this fit.
            warnings.filterwarnings("ignore", category=_PANDAS_DEPRECATION, module=r"fairlearn\.")
            reduction.fit(X, y, sensitive_features=sensitive_features)
        weights = np.asarray(reduction.weights_, dtype=np.float64)
        keep = np.flatnonzero(weights > 0)
        self.estimators_: list[Any] = [reduction.predictors_.iloc[i] for i in keep]
        self.weights_: FloatArray = weights[keep] / weights[keep].sum()
        self.classes_: npt.NDArray[np.int64] = np.array([0, 1], dtype=np.int64)
        self.n_features_in_: int = int(np.shape(X)[1])
        return self

    def _positive_probability(self, X: Any) -> FloatArray:  # noqa: N803
        votes = np.column_stack([np.asarray(est.predict(X), dtype=np.float64) for est in self.estimators_])
        result: FloatArray = votes @ self.weights_
        return result

    def predict_proba(self, X: Any) -> FloatArray:  # noqa: N803
        """[P(0), P(1)] of the randomised mixture: scores for AUC, not calibrated probabilities."""
        positive = self._positive_probability(X)
        return np.column_stack([1.0 - positive, positive])

    def predict(self, X: Any) -> npt.NDArray[np.int64]:  # noqa: N803
        """The member chosen by the row's own hash votes: the same row always gets the same answer."""
        votes = np.column_stack([np.asarray(est.predict(X), dtype=np.int64) for est in self.estimators_])
        dense = X.toarray() if hasattr(X, "toarray") else np.asarray(X, dtype=np.float64)
        hashes = pd.util.hash_pandas_object(pd.DataFrame(dense), index=False).to_numpy(dtype=np.uint64)
        uniform = (hashes >> np.uint64(11)).astype(np.float64) / float(2**53)
        member = np.minimum(np.searchsorted(np.cumsum(self.weights_), uniform, side="right"), len(self.weights_) - 1)
        chosen: npt.NDArray[np.int64] = votes[np.arange(len(member)), member]
        return chosen


def train_mitigated(train: pd.DataFrame, *, seed: int = 0, constrain_on: Sequence[str] = ("sex", "race")) -> Pipeline:
    """Features → `FairlearnMixture` (ExponentiatedGradient + DemographicParity on the
    intersection of the `constrain_on` attributes, logistic-regression members). Constraining
    sex × race keeps both the sex and the race selection rates close (constraining sex alone left
    the race impact ratio at 0.49). The attributes must be in `train` but are not features."""
    _check_training_frame(train, (*FEATURES, *constrain_on))
    used = [c for c in constrain_on if c in FEATURES]
    if used:
        raise MetricInputError(f"{used} are model features; constrain on protected attributes")
    groups = train[list(constrain_on)].astype(str).agg(" × ".join, axis=1).to_numpy()
    pipeline = Pipeline(
        [
            ("features", _features(scale_numeric=True)),
            (
                "model",
                FairlearnMixture(LogisticRegression(max_iter=1000, random_state=seed)),
            ),
        ]
    )
    with threadpool_limits(limits=1):
        pipeline.fit(
            train[list(FEATURES)],
            train[TARGET].to_numpy(dtype=np.int64),
            model__sensitive_features=groups,
        )
    return pipeline


# The demo's own class in its model files: the gate trusts it only when told to (trust=MODEL_TYPES,
# or --trust govledger.demo.training.FairlearnMixture), like any type outside its default libraries.
MODEL_TYPES: Final[tuple[str, ...]] = (f"{FairlearnMixture.__module__}.{FairlearnMixture.__qualname__}",)
