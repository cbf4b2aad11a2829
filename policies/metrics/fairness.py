"""Group fairness: how far apart the groups' selection, true positive and false positive rates are.

Per-group rates come from one fairlearn `MetricFrame` (fairlearn's `selection_rate`,
`true_positive_rate`, `false_positive_rate`); the comparison is made over the included groups only,
with fairlearn's definitions: a ratio is min/max over groups, a difference is max - min, and
equalized odds takes the worse of the TPR and FPR comparisons (fairlearn's "worst_case"). The
impact ratio of each group is its selection rate over the most-selected included group's, as in
the EEOC four-fifths rule (29 CFR 1607.4(D)) and NYC Local Law 144 bias audits (6 RCNY 5-301);
the value is the lowest of them, which equals the selection rate ratio.

The interval (with `confidence`) is the percentile bootstrap of the value itself, per resample:
for impact_ratio that is min/max selection rate over the included groups, exactly fairlearn's
`MetricFrame.ratio_ci()`; for the other single-rate metrics `ratio_ci()`/`difference_ci()`; for
equalized odds the larger difference (smaller ratio) of TPR and FPR in each resample, which
MetricFrame cannot give (it bootstraps each rate's comparison separately).
A worst group is named where one is harmed: the lowest selection rate or TPR, the highest FPR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate

from policies.metrics._bootstrap import bootstrap_interval, nan_extreme
from policies.metrics._common import (
    FloatArray,
    MetricInfo,
    Need,
    as_number,
    binary_array,
    check_bootstrap,
    check_same_length,
    lookup,
)
from policies.metrics._evaluators import Resample, confusion, verify
from policies.metrics.groups import Partition, partition
from policies.results import GroupRow, Measurement, MetricInputError

__all__ = ["FAIRNESS_METRICS", "MetricInfo", "measure_fairness", "scoring_rate_selections"]


@dataclass(frozen=True)
class _Rate:
    """A per-group rate, and which end of it harms a group (a low selection rate, a high FPR)."""

    function: Callable[..., Any]
    harmful_when_high: bool
    needs: frozenset[Need]


_RATES: dict[str, _Rate] = {
    "selection_rate": _Rate(selection_rate, False, frozenset()),
    "true_positive_rate": _Rate(true_positive_rate, False, frozenset({"positives"})),
    "false_positive_rate": _Rate(false_positive_rate, True, frozenset({"negatives"})),
}


@dataclass(frozen=True)
class _Definition:
    rates: tuple[str, ...]
    compare: Literal["ratio", "difference"]
    description: str


_EQUALIZED = ("true_positive_rate", "false_positive_rate")
_DEFINITIONS: dict[str, _Definition] = {
    "selection_rate_ratio": _Definition(
        ("selection_rate",), "ratio", "demographic parity ratio: lowest / highest selection rate"
    ),
    "selection_rate_difference": _Definition(
        ("selection_rate",), "difference", "demographic parity difference: highest - lowest selection rate"
    ),
    "equalized_odds_difference": _Definition(
        _EQUALIZED, "difference", "the larger of the TPR and FPR differences (highest - lowest) between groups"
    ),
    "equalized_odds_ratio": _Definition(
        _EQUALIZED, "ratio", "the smaller of the TPR and FPR ratios (lowest / highest) between groups"
    ),
    "true_positive_rate_difference": _Definition(
        ("true_positive_rate",), "difference", "equal opportunity difference: highest - lowest true positive rate"
    ),
    "false_positive_rate_difference": _Definition(
        ("false_positive_rate",), "difference", "highest - lowest false positive rate"
    ),
    "impact_ratio": _Definition(
        ("selection_rate",),
        "ratio",
        "lowest impact ratio: each group's selection rate over the most-selected included group's "
        "(EEOC four-fifths rule, 29 CFR 1607.4(D); NYC LL144, 6 RCNY 5-301)",
    ),
}

# NYC LL144 for tools that score rather than select (6 RCNY 5-300 "scoring rate", 5-301(c)): the
# rate at which a category scores above the sample's median score, over the highest category's rate.
# The caller turns scores into "above the median" selections (`scoring_rate_selections`); the
# comparison is the impact ratio's.
_DEFINITIONS["scoring_rate_impact_ratio"] = _Definition(
    ("selection_rate",),
    "ratio",
    "lowest scoring-rate impact ratio: each group's rate of scores above the sample median over the "
    "highest group's (NYC LL144, 6 RCNY 5-301(c))",
)
_NEEDS_SCORE = frozenset({"scoring_rate_impact_ratio"})

FAIRNESS_METRICS: dict[str, MetricInfo] = {
    name: MetricInfo(
        higher_is_better=definition.compare == "ratio",
        needs_score=name in _NEEDS_SCORE,
        description=definition.description,
        needs=frozenset().union(*(_RATES[rate].needs for rate in definition.rates)),
    )
    for name, definition in _DEFINITIONS.items()
}


def _compare(kind: Literal["ratio", "difference"], values: FloatArray) -> tuple[FloatArray, float, int]:
    """Per-rate comparison over the groups present (columns; NaN = absent), the combined value,
    and which rate decided it. A ratio with a highest rate of 0 is 0/0: undefined (NaN)."""
    low, high = nan_extreme(values, highest=False, axis=1), nan_extreme(values, highest=True, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_rate = np.asarray(low / high if kind == "ratio" else high - low, dtype=np.float64)
    if np.isnan(per_rate).any():
        return per_rate, float("nan"), int(np.argmax(np.isnan(per_rate)))
    deciding = int(np.argmin(per_rate) if kind == "ratio" else np.argmax(per_rate))
    return per_rate, float(per_rate[deciding]), deciding


def _statistic(kind: Literal["ratio", "difference"]) -> Callable[[Resample], float]:
    return lambda resample: _compare(kind, resample.values)[1]


def measure_fairness(
    metric: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    sensitive: pd.DataFrame,
    *,
    min_group_size: int = 0,
    min_group_share: float = 0.0,
    min_positives: int = 1,
    confidence: float | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> Measurement:
    """The metric over the included groups, every group's row (excluded ones with their reason),
    and with `confidence` the percentile bootstrap interval of the value (deterministic per seed)."""
    info = lookup(metric, FAIRNESS_METRICS, "fairness")
    definition = _DEFINITIONS[metric]
    truth = binary_array(y_true, "target (y_true)", metric)
    predicted = binary_array(y_pred, "predictions (y_pred)", metric)
    check_same_length(y_true=truth, y_pred=predicted, sensitive=sensitive)
    check_bootstrap(confidence, n_boot)
    if isinstance(min_positives, bool) or not isinstance(min_positives, int) or min_positives < 0:
        raise MetricInputError(f"min_positives must be a non-negative integer, got {min_positives!r}")
    parts = partition(sensitive, truth, predicted, min_group_size=min_group_size, min_group_share=min_group_share)
    frame = MetricFrame(
        metrics={rate: _RATES[rate].function for rate in definition.rates},
        y_true=truth,
        y_pred=predicted,
        sensitive_features=parts.labels.to_numpy(dtype=object),
    )
    values = np.array(
        [
            [_defined(parts, g, rate, frame.by_group.loc[name, rate]) for g, name in enumerate(parts.names)]
            for rate in definition.rates
        ],
        dtype=np.float64,
    )
    included = parts.included
    details: dict[str, Any] = {
        "definition": definition.description,
        "overall": {rate: as_number(frame.overall[rate]) for rate in definition.rates},
        "rows": len(truth),
        "included_rows": int(parts.counts[included].sum()) if included else 0,
    }
    if len(included) < 2:
        rows = _rows(parts, values[0], None)
        left = ", ".join(repr(parts.names[g]) for g in included) or "none"
        return Measurement(
            value=None,
            groups=rows,
            insufficient=f"fewer than two groups remain after exclusion (left: {left}); there is nothing to compare",
            details=details,
        )
    problems = parts.problems(info.needs, metric, min_positives)
    kept = values[:, included]
    per_rate, value, deciding = _compare(definition.compare, kept)
    rate_name = definition.rates[deciding]
    details["rates"] = {
        rate: {
            "value": as_number(per_rate[r]),
            "lowest_group": parts.names[included[int(np.argmin(kept[r]))]],
            "highest_group": parts.names[included[int(np.argmax(kept[r]))]],
            "by_group": {name: as_number(values[r, g]) for g, name in enumerate(parts.names)},
        }
        for r, rate in enumerate(definition.rates)
    }
    details["deciding_rate"] = rate_name
    reference = included[int(np.argmax(kept[deciding]))]
    ratios = None
    if metric == "impact_ratio":
        details["reference_group"] = parts.names[reference]
        ratios = values[0] / values[0, reference] if values[0, reference] > 0 else None
    rows = _rows(parts, values[deciding], ratios)
    harmed = np.argmax if _RATES[rate_name].harmful_when_high else np.argmin
    worst_group: str | None = parts.names[included[int(harmed(kept[deciding]))]]
    if not np.isfinite(value):
        worst_group = None
        problems.append(
            f"{metric!r} is undefined: the highest {rate_name.replace('_', ' ')} among the included groups is 0"
        )
    if problems:
        return Measurement(
            value=as_number(value),
            worst_group=worst_group,
            groups=rows,
            insufficient="; ".join(problems),
            details=details,
        )
    if confidence is None:
        return Measurement(value=value, worst_group=worst_group, groups=rows, details=details)
    mask, codes = parts.included_rows()
    evaluate = confusion(definition.rates, truth[mask], predicted[mask], codes, len(included))
    raw = np.array([[frame.by_group.loc[parts.names[g], rate] for g in included] for rate in definition.rates])
    verify(evaluate, int(mask.sum()), raw)
    interval = bootstrap_interval(
        evaluate,
        int(mask.sum()),
        statistic=_statistic(definition.compare),
        needs=info.needs,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
    )
    return Measurement(
        value=value,
        interval=interval.bounds,
        worst_group=worst_group,
        groups=rows,
        insufficient=interval.problem,
        details={**details, "bootstrap": interval.details},
    )


def _defined(parts: Partition, g: int, rate: str, value: Any) -> float:
    """fairlearn reports the TPR of a group without positives (FPR without negatives) as 0; it is
    undefined, so it is kept as NaN and never compared or shown as a rate."""
    needs = _RATES[rate].needs
    if ("positives" in needs and parts.positives[g] == 0) or ("negatives" in needs and parts.negatives[g] == 0):
        return float("nan")
    return float(value)


def _rows(parts: Partition, values: FloatArray, ratios: FloatArray | None) -> list[GroupRow]:
    """Every group, included or not; an excluded group keeps its own rate but gets no impact ratio."""
    return [
        GroupRow(
            group=name,
            count=int(parts.counts[g]),
            value=as_number(values[g]),
            selected=int(parts.selected[g]),
            positives=int(parts.positives[g]),
            ratio=as_number(ratios[g]) if ratios is not None and name not in parts.excluded else None,
            excluded=parts.excluded.get(name),
        )
        for g, name in enumerate(parts.names)
    ]


def scoring_rate_selections(scores: np.ndarray) -> tuple[npt.NDArray[np.int64], dict[str, Any]]:
    """1 where a score is above the sample's median score (6 RCNY 5-300, "scoring rate"), and what
    a reader needs to judge it: the median, and the share of scores tied at it (many ties at the
    median, e.g. most scores exactly 0, make the scoring rate say little)."""
    values = np.asarray(scores, dtype=np.float64)
    median = float(np.median(values))
    above = (values > median).astype(np.int64)
    ties = float(np.mean(values == median))
    return above, {"scoring": "score above the sample median", "median_score": median, "share_at_median": ties}
