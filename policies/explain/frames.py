"""Input checks, seeded row selection, and a numeric codec for DataFrames with categorical columns.

shap's tabular maskers only move floats around, so the permutation explainer works on a float
matrix of codes and `FrameCodec.decode` rebuilds the original DataFrame (same columns, same dtypes)
before every model call: the model is always explained over the columns it was trained on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from policies.results import MetricInputError

__all__ = ["FrameCodec", "choose_rows", "model_columns", "prepare_frame", "score_or_reject"]

# Errors a scikit-learn style model raises for data it cannot score (NaNs, unseen categories,
# strings where numbers are expected, missing columns).
MODEL_INPUT_ERRORS = (ValueError, TypeError, KeyError, IndexError)
_NAN_PROBE_ROWS = 5


def model_columns(model: Any) -> list[str] | None:
    """The column names the model was fitted on, looking through fairlearn wrappers; None if unknown."""
    candidates = [model, getattr(model, "estimator_", None), getattr(model, "estimator", None)]
    predictors = getattr(model, "predictors_", None)  # ExponentiatedGradient
    if predictors is not None and len(predictors):
        candidates.append(predictors.iloc[0] if hasattr(predictors, "iloc") else predictors[0])
    for candidate in candidates:
        names = getattr(candidate, "feature_names_in_", None)
        if names is not None:
            return [str(name) for name in names]
    return None


def prepare_frame(model: Any, data: pd.DataFrame) -> pd.DataFrame:
    """The data restricted to, and ordered as, the model's input columns.

    Extra columns (labels, identifiers) are ignored; missing ones are a MetricInputError, as is
    empty data, because an explanation over columns the model never saw would be meaningless.
    """
    if not isinstance(data, pd.DataFrame):
        raise MetricInputError(f"expected a pandas DataFrame, got {type(data).__name__}")
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise MetricInputError("the data is empty: nothing to explain")
    expected = model_columns(model)
    if expected is None:
        n_expected = getattr(model, "n_features_in_", None)
        if n_expected is not None and n_expected != data.shape[1]:
            raise MetricInputError(f"the model takes {n_expected} features but the data has {data.shape[1]} columns")
        return data
    present = {str(column): column for column in data.columns}
    missing = [name for name in expected if name not in present]
    if missing:
        raise MetricInputError(f"the data lacks column(s) the model was trained on: {', '.join(missing)}")
    return data[[present[name] for name in expected]]


def score_or_reject(score: Callable[[pd.DataFrame], npt.NDArray[np.float64]], frame: pd.DataFrame) -> None:
    """Probe rows with missing values so NaNs the model cannot take are reported even when the
    seeded sample happens to miss them (a model that handles NaNs natively passes)."""
    nan_rows = np.flatnonzero(frame.isna().to_numpy().any(axis=1))
    if len(nan_rows) == 0:
        return
    try:
        score(frame.iloc[nan_rows[:_NAN_PROBE_ROWS]])
    except MODEL_INPUT_ERRORS as exc:
        has_nan = frame.isna().any(axis=0).tolist()
        columns = [str(column) for column, flagged in zip(frame.columns, has_nan, strict=True) if flagged]
        raise MetricInputError(f"missing values in {', '.join(columns)} that the model cannot take: {exc}") from exc


def choose_rows(rng: np.random.Generator, n_rows: int, size: int) -> npt.NDArray[np.int64]:
    """`size` distinct row positions (all rows when there are fewer), sorted, drawn from `rng`."""
    if size < 1:
        raise ValueError(f"a sample size must be at least 1, got {size}")
    if size >= n_rows:
        return np.arange(n_rows, dtype=np.int64)
    return np.sort(rng.choice(n_rows, size=size, replace=False)).astype(np.int64)


class FrameCodec:
    """Floats for shap's maskers, the original DataFrame for the model.

    Numeric and boolean columns are carried as floats; every other column (strings, categoricals,
    dates) as the index of its value among the values seen in the frames given at construction.
    Masking only copies values between rows, so every code decodes back to a real value.
    """

    def __init__(self, *frames: pd.DataFrame) -> None:
        template = frames[0]
        self.columns = list(template.columns)
        self.dtypes = [template[column].dtype for column in self.columns]
        self._values: dict[int, npt.NDArray[Any]] = {}
        for j, column in enumerate(self.columns):
            if not _is_numeric(template[column]):
                joined = pd.concat([frame[column] for frame in frames], ignore_index=True)
                uniques = pd.unique(joined.dropna().astype(object).to_numpy())
                self._values[j] = np.array([*uniques, None], dtype=object)  # code -1 decodes to missing

    def encode(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        encoded = np.empty(frame.shape, dtype=np.float64)
        for j, column in enumerate(self.columns):
            series = frame[column]
            if j in self._values:
                lookup = {value: code for code, value in enumerate(self._values[j][:-1])}
                encoded[:, j] = [lookup.get(value, -1) for value in series.astype(object).to_numpy()]
            else:
                encoded[:, j] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return encoded

    def decode(self, matrix: npt.NDArray[Any]) -> pd.DataFrame:
        columns: dict[Any, Any] = {}
        for j, column in enumerate(self.columns):
            values = np.asarray(matrix[:, j], dtype=np.float64)
            if j in self._values:
                codes = np.where(np.isnan(values), -1, values).astype(np.int64)
                columns[column] = pd.Series(self._values[j][codes]).astype(self.dtypes[j])
            else:
                columns[column] = pd.Series(values).astype(self.dtypes[j])
        return pd.DataFrame(columns)


def _is_numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series)) and not isinstance(
        series.dtype, pd.CategoricalDtype
    )
