"""The policy file format: a name, a version and rules, validated strictly.

A rule names a metric, optionally the protected classes it is computed `by` (several mean
intersectional groups; classes, not column names: the user maps classes to columns at evaluation,
see `policies.protected`), a comparison and threshold, a severity (`block` or `warn`), the smallest
group it will judge (`min_group_size`, or `min_group_share`, e.g. 0.02 as NYC LL144 allows) and,
optionally, the statistical confidence it must be judged at (`confidence: 0.95` judges the
bootstrap interval, not the point estimate). Unknown keys are refused: a typo must never turn a
rule off. A policy may also set the probability `threshold` at which a model selects (instead of
its own `predict`) and `trust`: model-file types the gate loads beyond its default libraries.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "CATEGORIES",
    "CLASS_NAME",
    "EXPLAINABILITY_BOUNDS",
    "ClassRequirements",
    "Comparison",
    "Policy",
    "Rule",
    "category_of",
]

# A protected class's name in a policy (sex, race, national_origin, ...); `policies.protected` maps
# classes to data columns. Here, not there, because the policy language is read without numpy/pandas.
CLASS_NAME: Final[str] = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
Comparison = Literal["<", "<=", ">", ">=", "=="]
DottedName = Annotated[
    str, Field(min_length=3, max_length=300, pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
]
RuleId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]

# Which metrics each category offers; the metric modules implement them.
CATEGORIES: dict[str, frozenset[str]] = {
    "performance": frozenset({"accuracy", "balanced_accuracy", "roc_auc", "precision", "recall", "brier_score"}),
    "fairness": frozenset(
        {
            "selection_rate_ratio",
            "selection_rate_difference",
            "equalized_odds_difference",
            "equalized_odds_ratio",
            "true_positive_rate_difference",
            "false_positive_rate_difference",
            "impact_ratio",
            "scoring_rate_impact_ratio",
        }
    ),
    "explainability": frozenset(
        {"sensitive_in_top_k", "sensitive_attribution_share", "additivity_error", "explainable_share"}
    ),
    "data": frozenset(
        {
            "unregistered_datasets",
            "datasets_without_licence",
            "undeclared_sensitive_attributes",
            "evaluation_training_overlap",
            "undocumented_model_fields",
            "protected_features_used",
        }
    ),
    "approval": frozenset({"approvals"}),
}


# The permutation explainer costs sample_size x 2 x (2 x features + 1) x background_size predictions,
# so both sizes are bounded: 5,000 x 1,000 rows is already hours on an opaque model.
EXPLAINABILITY_BOUNDS: dict[str, tuple[int, int]] = {
    "background_size": (1, 1000),
    "sample_size": (1, 5000),
    "seed": (0, 2**32 - 1),
}


def category_of(metric: str) -> str:
    for category, metrics in CATEGORIES.items():
        if metric in metrics:
            return category
    known = sorted(m for metrics in CATEGORIES.values() for m in metrics)
    raise ValueError(f"unknown metric {metric!r}; known metrics: {', '.join(known)}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    id: RuleId
    metric: str
    by: list[Annotated[str, Field(pattern=CLASS_NAME)]] = Field(default_factory=list, max_length=5)
    comparison: Comparison
    threshold: float
    severity: Literal["block", "warn"] = "block"
    min_group_size: int = Field(default=30, ge=0)
    min_group_share: float = Field(default=0.0, ge=0.0, lt=1.0)
    min_positives: int = Field(default=5, ge=1)
    confidence: float | None = Field(default=None, gt=0.5, lt=1.0)
    n_boot: int = Field(default=200, ge=20, le=5000)
    params: dict[str, Any] = Field(default_factory=dict)
    description: str | None = Field(default=None, max_length=2000)

    @property
    def category(self) -> str:
        return category_of(self.metric)

    @model_validator(mode="after")
    def _coherent(self) -> Rule:
        category = category_of(self.metric)
        if category == "fairness" and not self.by:
            raise ValueError(f"rule {self.id}: fairness metric {self.metric} needs `by` (sensitive attributes)")
        if category in ("explainability", "data", "approval") and self.by:
            raise ValueError(f"rule {self.id}: {self.metric} is not computed by group; remove `by`")
        if self.confidence is not None and category not in ("performance", "fairness"):
            raise ValueError(f"rule {self.id}: confidence applies to performance and fairness metrics only")
        if category == "approval" and (self.comparison != ">=" or self.threshold < 1 or self.threshold % 1):
            raise ValueError(f"rule {self.id}: write approvals as `comparison: '>='` and a whole number >= 1")
        if self.metric == "sensitive_in_top_k" and not isinstance(self.params.get("k"), int):
            raise ValueError(f"rule {self.id}: sensitive_in_top_k needs params.k (an integer)")
        return self


ClassName = Annotated[str, Field(pattern=CLASS_NAME)]


class ClassRequirements(_Strict):
    """Which protected classes the policy needs mapped to columns, how numeric ones are banded, and
    (for fair-lending packs) which classes are prohibited bases that no feature or reason may be."""

    required: list[ClassName] = Field(
        default_factory=list, max_length=30, description="unmapped → insufficient evidence, naming the class"
    )
    at_least: int = Field(default=0, ge=0, le=30, description="how many of the policy's classes must be mapped")
    bands: dict[ClassName, Annotated[list[float], Field(min_length=1, max_length=20)]] = Field(
        default_factory=dict, description="cut points for a numeric column, e.g. age: [40] (ADEA)"
    )
    prohibited_bases: list[ClassName] = Field(
        default_factory=list,
        max_length=30,
        description="classes a credit decision may not take into account (e.g. Regulation B 1002.6)",
    )

    @model_validator(mode="after")
    def _sorted_bands(self) -> ClassRequirements:
        for name, cuts in self.bands.items():
            if sorted(set(cuts)) != list(cuts):
                raise ValueError(f"bands for {name} must be distinct and increasing, got {cuts}")
        return self


class Policy(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    version: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")]
    description: str | None = Field(default=None, max_length=5000)
    references: list[str] = Field(default_factory=list, max_length=50)
    explainability: dict[str, int] = Field(
        default_factory=dict, description="SHAP sampling: background_size, sample_size, seed"
    )
    protected_classes: ClassRequirements = Field(default_factory=ClassRequirements)
    rules: list[Rule] = Field(min_length=1, max_length=200)
    threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description="select when P(positive) >= threshold (instead of predict)"
    )
    trust: list[DottedName] = Field(
        default_factory=list, max_length=100, description="model-file types trusted beyond the default libraries"
    )

    @model_validator(mode="after")
    def _distinct_ids(self) -> Policy:
        ids = [r.id for r in self.rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"rule ids must be distinct: {duplicates}")
        classes = self.protected_classes
        if classes.at_least > len(self.sensitive_attributes):
            raise ValueError(
                f"protected_classes.at_least is {classes.at_least} but the policy names "
                f"{len(self.sensitive_attributes)} classes"
            )
        unknown = set(self.explainability) - set(EXPLAINABILITY_BOUNDS)
        if unknown:
            raise ValueError(f"unknown explainability settings: {sorted(unknown)}")
        for name, value in self.explainability.items():
            low, high = EXPLAINABILITY_BOUNDS[name]
            if not low <= value <= high:
                raise ValueError(f"explainability.{name} must be between {low} and {high}, got {value}")
        return self

    @property
    def approvals_required(self) -> int:
        """The largest `approvals` threshold among blocking approval rules (0 if none)."""
        return max(
            (int(r.threshold) for r in self.rules if r.metric == "approvals" and r.severity == "block"), default=0
        )

    @property
    def sensitive_attributes(self) -> list[str]:
        """Every protected class the policy names: in its rules, as required, or as a prohibited basis."""
        classes = self.protected_classes
        named = [*(a for r in self.rules for a in r.by), *classes.required, *classes.prohibited_bases]
        return list(dict.fromkeys(named))
