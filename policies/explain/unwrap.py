"""Look inside scikit-learn Pipelines: the final estimator, the preprocessing, and where each
transformed column came from.

shap's Tree and Linear explainers only understand the final estimator, so they explain it on the
transformed matrix; `sources` then sums each one-hot (or scaled, imputed…) column back into the input
column it was derived from. Because SHAP values are additive, the per-source sums still add up to the
model output. Any step whose column lineage cannot be established exactly returns None, and the caller
falls back to the model-agnostic permutation explainer over the original columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import OneToOneFeatureMixin
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

__all__ = ["Unwrapped", "unwrap"]


@dataclass(frozen=True)
class Unwrapped:
    """The estimator to hand to shap, how to get its input from the original frame, and for each of
    its input columns the index of the original column it derives from."""

    estimator: Any
    transform: Callable[[pd.DataFrame], npt.NDArray[np.float64]]
    sources: list[int]


def unwrap(model: Any, n_columns: int) -> Unwrapped | None:
    """Split a Pipeline into preprocessing and final estimator; a bare estimator maps one-to-one."""
    if not isinstance(model, Pipeline):
        return Unwrapped(model, _dense, list(range(n_columns)))
    sources: list[int] | None = list(range(n_columns))
    for _, step in model.steps[:-1]:
        sources = _lineage(step, sources) if sources is not None else None
    if sources is None:
        return None
    preprocess = model[:-1]
    return Unwrapped(model.steps[-1][1], lambda frame: _dense(preprocess.transform(frame)), sources)


def _dense(matrix: Any) -> npt.NDArray[np.float64]:
    if hasattr(matrix, "toarray"):  # scipy sparse output of OneHotEncoder / ColumnTransformer
        matrix = matrix.toarray()
    if isinstance(matrix, pd.DataFrame):
        matrix = matrix.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(matrix, dtype=np.float64)


def _lineage(step: Any, inputs: list[int]) -> list[int] | None:
    """Source index of every output column of a fitted transformer, given those of its inputs."""
    if step is None or (isinstance(step, str) and step == "passthrough"):
        return inputs
    if isinstance(step, str) and step == "drop":
        return []
    if isinstance(step, Pipeline):
        current: list[int] | None = inputs
        for _, inner in step.steps:
            current = _lineage(inner, current) if current is not None else None
        return current
    if isinstance(step, ColumnTransformer):
        return _column_transformer_lineage(step, inputs)
    if isinstance(step, OneHotEncoder):
        sizes = getattr(step, "_n_features_outs", None)  # per-input block widths (drop/infrequent aware)
        if sizes is None or len(sizes) != len(inputs):
            return None
        return [source for source, size in zip(inputs, sizes, strict=True) for _ in range(int(size))]
    if _is_one_to_one(step, len(inputs)):
        return inputs
    return None


def _is_one_to_one(step: Any, n_inputs: int) -> bool:
    """Scalers, imputers that keep every column, ordinal encoders, one-to-one FunctionTransformers."""
    if getattr(step, "n_features_in_", n_inputs) != n_inputs:
        return False
    if isinstance(step, OneToOneFeatureMixin):
        return True
    try:
        names_out = [str(name) for name in step.get_feature_names_out()]
    except Exception:  # no get_feature_names_out, or it refuses: lineage unknown
        return False
    names_in = getattr(step, "feature_names_in_", None)
    expected = [str(n) for n in names_in] if names_in is not None else [f"x{i}" for i in range(n_inputs)]
    return names_out == expected


def _column_transformer_lineage(step: ColumnTransformer, inputs: list[int]) -> list[int] | None:
    """Outputs are the fitted transformers' outputs concatenated in `transformers_` order (remainder last)."""
    indices: dict[str, Any] | None = getattr(step, "_transformer_to_input_indices", None)
    names_in = [str(n) for n in getattr(step, "feature_names_in_", [])]
    outputs: list[int] = []
    for name, transformer, columns in step.transformers_:
        positions = indices[name] if indices is not None and name in indices else _positions(columns, names_in)
        if positions is None:
            return None
        if len(positions) == 0 or (isinstance(transformer, str) and transformer == "drop"):
            continue
        mapped = _lineage(transformer, [inputs[int(p)] for p in positions])
        if mapped is None:
            return None
        outputs.extend(mapped)
    return outputs


def _positions(columns: Any, names_in: list[str]) -> list[int] | None:
    """Resolve a ColumnTransformer column selection to input positions."""
    if isinstance(columns, str | int):
        columns = [columns]
    if isinstance(columns, slice):
        return list(range(len(names_in)))[columns] if names_in else None
    selection = list(np.asarray(columns).tolist()) if not isinstance(columns, list) else columns
    if selection and all(isinstance(c, bool) for c in selection):
        return [i for i, keep in enumerate(selection) if keep]
    if all(isinstance(c, int) for c in selection):
        return [int(c) for c in selection]
    if all(isinstance(c, str) for c in selection) and names_in:
        return [names_in.index(c) for c in selection if c in names_in] if set(selection) <= set(names_in) else None
    return None
