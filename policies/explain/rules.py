"""Explainability measurements for the policy rules: values only, thresholds live in `policies.judge`.

Every measurement's details say which explainer produced it (`explainer`: tree, linear or
permutation, the output space, the sample size and seed, and for the permutation explainer the
background size), so a recorded rule result tells how far its numbers can be trusted.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from policies.explain.explanation import GlobalExplanation, round_float
from policies.explain.reasons import MAX_REASONS, principal_reasons
from policies.results import Measurement

__all__ = ["additivity", "explainable_share", "explainer_details", "sensitive_attribution_share", "sensitive_in_top_k"]


def explainer_details(explanation: GlobalExplanation) -> dict[str, Any]:
    """Which explainer produced the attributions and on how much data (see module doc)."""
    details: dict[str, Any] = {
        "kind": explanation.explainer_kind,
        "output_space": explanation.output_space,
        "estimator": explanation.estimator,
        "sample_size": explanation.sample_size,
        "seed": explanation.seed,
    }
    if explanation.explainer_kind != "tree":  # tree explanations integrate over no background rows
        details["background_size"] = explanation.background_size
    if explanation.note:
        details["note"] = explanation.note
    return details


def sensitive_in_top_k(explanation: GlobalExplanation, sensitive_and_proxies: Sequence[str], k: int) -> Measurement:
    """How many of the listed features rank within the top k by mean |SHAP| (so "<= 0" means none do).

    A feature with zero attribution is not counted even if its rank is small (a model with three
    inputs "ranks" an unused one third); listed features the model does not take are reported as
    absent, since only their proxies can carry them.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    rank = {name: position + 1 for position, name in enumerate(explanation.ranking)}
    listed = list(dict.fromkeys(sensitive_and_proxies))
    present = [name for name in listed if name in rank]
    hits = [name for name in present if rank[name] <= k and explanation.mean_abs[name] > 0]
    return Measurement(
        value=float(len(hits)),
        details={
            "k": k,
            "in_top_k": [{"feature": name, "rank": rank[name]} for name in sorted(hits, key=rank.__getitem__)],
            "ranks": {name: rank[name] for name in present},
            "mean_abs": {name: round_float(explanation.mean_abs[name]) for name in present},
            "absent": [name for name in listed if name not in rank],
            "top_k": explanation.ranking[:k],
            "explainer": explainer_details(explanation),
        },
    )


def sensitive_attribution_share(explanation: GlobalExplanation, sensitive: Sequence[str]) -> Measurement:
    """Share (0..1) of the total mean |SHAP| that falls on the listed features."""
    listed = [name for name in dict.fromkeys(sensitive) if name in explanation.mean_abs]
    total = sum(explanation.mean_abs.values())
    details: dict[str, Any] = {
        "features": listed,
        "absent": [name for name in dict.fromkeys(sensitive) if name not in explanation.mean_abs],
        "total_mean_abs": round_float(total),
        "explainer": explainer_details(explanation),
    }
    if total <= 0:
        return Measurement(value=None, insufficient="the model output does not vary on the sample", details=details)
    shares = {name: explanation.mean_abs[name] / total for name in listed}
    details["shares"] = {name: round_float(share) for name, share in shares.items()}
    return Measurement(value=float(sum(shares.values())), details=details)


def additivity(explanation: GlobalExplanation) -> Measurement:
    """Worst |base value + Σ contributions − model output| over the sample, in output-space units:
    attributions that do not add up to the decision cannot justify it."""
    return Measurement(
        value=explanation.additivity_error,
        details={
            "explainer_kind": explanation.explainer_kind,
            "output_space": explanation.output_space,
            "sample_size": explanation.sample_size,
            "explainer": explainer_details(explanation),
        },
    )


def explainable_share(
    explanation: GlobalExplanation,
    *,
    max_reasons: int = MAX_REASONS,
    tolerance: float = 1e-5,
    excluded: Collection[str] = (),
) -> Measurement:
    """Share of sampled rows that can be given between one and `max_reasons` principal reasons whose
    attribution adds up to the model output within `tolerance` × max(1, |base value| + Σ|contributions|),
    i.e. relative to the size of the terms summed (the scale of their rounding error).

    Relative because XGBoost computes its margins and SHAP values in float32: a 1,000-tree, depth-8
    model misses by up to 3.8e-5 (1.9e-6 of its terms) from rounding alone, which the former absolute
    1e-6 called unexplainable. Float64 models (scikit-learn, LightGBM) and the permutation explainer
    miss by ~1e-15, so for them nothing changes.

    A row fails when no feature lowered its score (nothing to cite as a reason) or when its
    attributions do not add up. Features in `excluded` (prohibited bases and declared proxies) can
    never be a reason (Regulation B 1002.6), so a row lowered only by them has no lawful reason.
    `mean_reason_coverage` tells how much of a row's total downward push
    the cited reasons carry, on average over rows that have any.
    """
    n_rows = explanation.sample_size
    if n_rows == 0:
        return Measurement(value=None, insufficient="no rows were explained")
    scale = np.maximum(1.0, abs(explanation.base_value) + np.abs(explanation.contributions).sum(axis=1))
    adds_up = explanation.row_additivity_errors() <= tolerance * scale
    lawful = np.array([name not in excluded for name in explanation.features], dtype=bool)
    negatives = np.where((explanation.contributions < 0) & lawful, explanation.contributions, 0.0)
    has_reason = (negatives < 0).any(axis=1)
    coverage = [
        _cited(explanation, int(row), max_reasons, excluded) / float(negatives[row].sum())
        for row in np.flatnonzero(has_reason)
    ]
    explainable = adds_up & has_reason
    return Measurement(
        value=float(explainable.mean()),
        details={
            "rows": n_rows,
            "explainable": int(explainable.sum()),
            "without_reasons": int((~has_reason).sum()),
            "not_additive": int((~adds_up).sum()),
            "max_reasons": max_reasons,
            "excluded_from_reasons": sorted(set(excluded) & set(explanation.features)),
            "tolerance": tolerance,
            "tolerance_is": "relative to max(1, |base value| + sum of |contributions|)",
            "explainer": explainer_details(explanation),
            "mean_reason_coverage": round_float(float(np.mean(coverage))) if coverage else None,
        },
    )


def _cited(explanation: GlobalExplanation, row: int, max_reasons: int, excluded: Collection[str]) -> float:
    """The total (negative) contribution of the reasons cited for a row."""
    cited = principal_reasons(explanation, row, max_reasons=max_reasons, excluded=excluded).reasons
    return float(sum(value for _, value in cited))
