"""What performance and fairness measurement share: metric descriptions and input checks.

Every check here turns data that cannot be evaluated into a `MetricInputError` (exit 2, nothing
recorded) with a message that names the column and says what to do, instead of letting numpy,
scikit-learn or fairlearn fail later with a message about their own internals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from policies.results import MetricInputError

__all__ = [
    "FloatArray",
    "IntArray",
    "MetricInfo",
    "Need",
    "as_number",
    "binary_array",
    "check_bootstrap",
    "check_same_length",
    "lookup",
    "need_problem",
    "score_array",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# What a group must contain for a metric to be defined on it:
#   positives/negatives: actual positives (TPR) or negatives (FPR); none at all in a group that
#     counts is bad data (MetricInputError), fewer than `min_positives` is insufficient evidence;
#   both_classes: both labels present (ROC AUC, balanced accuracy), else insufficient evidence;
#   selected: at least one predicted positive (precision), else insufficient evidence.
Need = Literal["positives", "negatives", "both_classes", "selected"]


@dataclass(frozen=True)
class MetricInfo:
    """How to read a metric: its direction (for the worst group), whether it needs scores rather
    than 0/1 predictions, and what each group must contain for it to be defined."""

    higher_is_better: bool
    needs_score: bool
    description: str
    needs: frozenset[Need] = frozenset()


def lookup(metric: str, known: Mapping[str, MetricInfo], kind: str) -> MetricInfo:
    """The metric's description, or a usage error listing the metrics that exist."""
    info = known.get(metric)
    if info is None:
        raise MetricInputError(f"unknown {kind} metric {metric!r}; known {kind} metrics: {', '.join(sorted(known))}")
    return info


def _shown(values: list[Any]) -> str:
    head = ", ".join(repr(v) for v in values[:5])
    return head + (", …" if len(values) > 5 else "")


def _one_dimensional(values: Any, what: str) -> npt.NDArray[Any]:
    array = np.asarray(values)
    if array.ndim != 1:
        raise MetricInputError(f"{what} must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise MetricInputError(f"{what} is empty; there is nothing to evaluate")
    missing = int(pd.isna(array).sum())
    if missing:
        raise MetricInputError(f"{what} has {missing} missing values (NaN); drop or fill those rows first")
    return array


def binary_array(values: Any, what: str, metric: str) -> IntArray:
    """0/1 labels as int64. Booleans and 0/1 numbers are accepted; anything else is refused with the
    distinct values found, so a multi-class or string target is reported as such."""
    array = _one_dimensional(values, what)
    if array.dtype == np.bool_:
        return array.astype(np.int64)
    distinct = pd.unique(array)
    # Python equality makes True == 1, which is what we want; strings never equal 0 or 1.
    if all(not isinstance(v, str) and v in (0, 1) for v in distinct.tolist()):
        return array.astype(np.int64)
    shown = sorted(distinct.tolist(), key=lambda v: (str(type(v)), v))
    hint = ""
    if array.dtype.kind == "f" and len(shown) > 2:
        hint = " (scores or probabilities? threshold them, or pass them as y_score)"
    raise MetricInputError(
        f"{what} has {len(shown)} distinct values ({_shown(shown)}); binary metric {metric!r} needs 0/1{hint}"
    )


def score_array(values: Any, metric: str, *, probabilities: bool) -> FloatArray:
    """Finite float scores; with `probabilities`, also within [0, 1] (the Brier score needs that)."""
    array = _one_dimensional(values, "y_score")
    if array.dtype.kind not in "biuf":
        raise MetricInputError(f"y_score must be numeric for {metric!r}, got dtype {array.dtype}")
    scores = array.astype(np.float64)
    if not np.isfinite(scores).all():
        raise MetricInputError(f"y_score has {int((~np.isfinite(scores)).sum())} infinite values")
    if probabilities and (scores.min() < 0.0 or scores.max() > 1.0):
        raise MetricInputError(
            f"y_score must be probabilities in [0, 1] for {metric!r}; "
            f"found values from {scores.min():.4g} to {scores.max():.4g}"
        )
    return scores


def check_same_length(**arrays: Any) -> None:
    """All per-row inputs must describe the same rows."""
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise MetricInputError(f"inputs have different numbers of rows: {listed}")


def check_bootstrap(confidence: float | None, n_boot: int) -> None:
    """A confidence level is a probability strictly between 0 and 1, and resampling needs rounds."""
    if confidence is None:
        return
    if not (isinstance(confidence, float | int) and math.isfinite(confidence) and 0.0 < confidence < 1.0):
        raise MetricInputError(f"confidence must be strictly between 0 and 1 (e.g. 0.95), got {confidence!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise MetricInputError(f"n_boot must be a positive integer, got {n_boot!r}")


def need_problem(
    needs: frozenset[Need],
    metric: str,
    group: str | None,
    *,
    count: int,
    positives: int,
    selected: int,
    min_positives: int = 1,
) -> str | None:
    """Why `metric` cannot be judged on this group (or on all rows when `group` is None), or None.

    A group that counts but has no actual positives (negatives) at all cannot have a true (false)
    positive rate: that is bad data, raised, not a verdict. Having some, but fewer than
    `min_positives`, is too little evidence."""
    negatives = count - positives
    where = "the data" if group is None else f"group {group!r}"
    advice = "check the target column" + ("" if group is None else ", or raise min_group_size to exclude the group")
    for need, have, rate in (("positives", positives, "true"), ("negatives", negatives, "false")):
        if need in needs and have == 0:
            raise MetricInputError(
                f"{where} has {count} rows but no actual {need}, so its {rate} positive rate and "
                f"{metric!r} are undefined; {advice}"
            )
        if need in needs and have < min_positives:
            return f"{where} has {have} actual {need}, fewer than the minimum of {min_positives}"
    if "both_classes" in needs and (positives == 0 or negatives == 0):
        return f"{where} has one class only ({positives} positives, {negatives} negatives); {metric!r} is undefined"
    if "selected" in needs and selected == 0:
        return f"{where} has no predicted positives; {metric!r} is undefined"
    return None


def as_number(value: Any) -> float | None:
    """A plain float for the record (JSON has no NaN), None when undefined."""
    number = float(value)
    return number if math.isfinite(number) else None
