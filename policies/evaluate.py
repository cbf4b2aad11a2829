"""Evaluate one model file on one data file under one policy: every rule measured and judged.

Inputs are read once: the skops model (never a pickle; types trusted as `policies.artifacts`
says), the data (CSV or Parquet, `policies.datafiles`), its target and the columns the user mapped
to the policy's protected classes (`policies.protected`); the model's selections and scores come
from `policies.predictions`. Bad input (a missing column, a non-binary target, NaNs, an empty file,
features that do not match the model, a bad class mapping) raises `MetricInputError` before
anything is recorded. Seeds are fixed, so the same model, data and policy give the same rule
results, byte for byte.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ledger.log.canonical import canonical_json
from policies.artifacts import TrustedType, load_model_audited, trusted_types
from policies.data_rules import measure_data
from policies.datafiles import read_data
from policies.describe import describe_model
from policies.explain import GlobalExplanation, explain_model
from policies.explain import rules as explain_rules
from policies.facts import LineageFacts
from policies.judge import Judgement, judge, not_evaluated, overall_verdict
from policies.loader import LoadedPolicy
from policies.metrics.fairness import FAIRNESS_METRICS, measure_fairness, scoring_rate_selections
from policies.metrics.performance import PERFORMANCE_METRICS, measure_performance
from policies.metrics.validation import measure_validation
from policies.predictions import binary, check_threshold, predict
from policies.protected import ClassMapping, Coverage, class_frame, coverage, features_on_prohibited_bases
from policies.results import Measurement, MetricInputError
from policies.schema import Rule

__all__ = ["Evaluation", "FactsProvider", "GateInputs", "RuleOutcome", "evaluate", "read_data"]

FactsProvider = Callable[[str, str], LineageFacts]
LIBRARIES = (
    "scikit-learn",
    "fairlearn",
    "shap",
    "skops",
    "numpy",
    "pandas",
    "xgboost",
    "lightgbm",
    "pyarrow",
    "govledger",
)


@dataclass(frozen=True)
class GateInputs:
    model_path: Path
    data_path: Path
    target: str
    classes: ClassMapping
    policy: LoadedPolicy
    # types trusted beyond the policy's `trust:` (--trust, the environment; a plain name: from Python)
    trust: tuple[TrustedType | str, ...] = ()
    threshold: float | None = None  # --threshold; wins over the policy's `threshold:`
    # Called with the model's description (policies.describe) once it has scored the data and
    # before the facts are read, so `gate --register` records what was evaluated.
    described: Callable[[dict[str, Any]], None] | None = None


@dataclass(frozen=True)
class RuleOutcome:
    rule: Rule
    measurement: Measurement
    judgement: Judgement

    @property
    def verdict(self) -> str:
        return self.judgement.verdict

    def as_record(self) -> dict[str, Any]:
        """The `RuleResult` of the evaluation entry."""
        m, r = self.measurement, self.rule
        return {
            "rule_id": r.id,
            "category": r.category,
            "metric": r.metric,
            "by": list(r.by),
            "comparison": r.comparison,
            "threshold": float(r.threshold),
            "severity": r.severity,
            "confidence": r.confidence,
            "value": _finite(m.value),
            "interval": _interval(m.interval),
            "verdict": self.judgement.verdict,
            "worst_group": m.worst_group,
            "groups": [_group_json(g.as_json()) for g in m.groups],
            "message": self.judgement.message,
            "details": _json_safe({**m.details, **({"insufficient": m.insufficient} if m.insufficient else {})}),
        }


@dataclass(frozen=True)
class Evaluation:
    policy: LoadedPolicy
    model_sha256: str
    data_sha256: str
    rows: int
    outcomes: list[RuleOutcome]
    deferred: list[Rule]  # approval rules: enforced by the ledger at promotion
    explanation: GlobalExplanation | None
    facts: LineageFacts
    classes: ClassMapping = field(default_factory=ClassMapping)
    coverage: Coverage = field(default_factory=lambda: Coverage((), (), None))
    parameters: dict[str, Any] = field(default_factory=dict)
    trusted_types: dict[str, Any] | None = None  # TrustAudit.as_record() of the model file
    # Measured performance, curves and intersectional rates, whatever the rules (policies.metrics.validation)
    validation: dict[str, Any] | None = None

    @property
    def verdict(self) -> str:
        return overall_verdict(((o.rule.severity, o.verdict) for o in self.outcomes), shortfall=self.coverage.shortfall)

    @property
    def registered(self) -> bool:
        return self.facts.model is not None

    def payload(self) -> dict[str, Any]:
        """The `evaluation.recorded` payload; its id is a hash of everything else, so the same
        inputs give the same entry and a re-run is recognised rather than duplicated."""
        if self.facts.model is None:
            raise MetricInputError(
                f"model artifact {self.model_sha256[:12]} is not registered in the ledger; register the model "
                "version (and its training run) before recording an evaluation, or use --dry-run"
            )
        return self.record()

    def record(self) -> dict[str, Any]:
        """The whole evaluation record, as recorded (`payload`) or, for a model not registered
        (a dry run), with `model: null` and no evaluation id."""
        evaluation = self.facts.evaluation_dataset
        model = self.facts.model
        bands = self.policy.policy.protected_classes.bands
        body: dict[str, Any] = {
            "model": {"name": model["name"], "version": model["version"]} if model is not None else None,
            "model_artifact_sha256": self.model_sha256,
            "dataset": {
                "dataset_id": evaluation.dataset_id if evaluation else None,
                "content_sha256": self.data_sha256,
                "rows": self.rows,
            },
            "policy": {
                "name": self.policy.policy.name,
                "version": self.policy.policy.version,
                "sha256": self.policy.sha256,
            },
            "verdict": self.verdict,
            "rules": [o.as_record() for o in self.outcomes],
            "libraries": library_versions(),
            "explainability": self.explanation.as_json() if self.explanation else None,
            "parameters": self.parameters,
            "protected_classes": {
                **self.classes.as_record(self.coverage.not_mapped, bands),
                "shortfall": self.coverage.shortfall,
            },
            **({"trusted_types": self.trusted_types} if self.trusted_types is not None else {}),
            **({"validation": _json_safe(self.validation)} if self.validation is not None else {}),
        }
        if model is None:
            return {"evaluation_id": None, **body}
        digest = hashlib.sha256(canonical_json(body)).hexdigest()
        return {"evaluation_id": f"ev-{digest[:24]}", **body}


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _finite(value: float | None) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return float(value)


def _interval(interval: tuple[float, float] | None) -> list[float] | None:
    if interval is None or not all(np.isfinite(v) for v in interval):
        return None
    return [float(interval[0]), float(interval[1])]


def _group_json(group: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in group.items() if v is not None}
    for key in ("value", "ratio"):
        if key in out:
            out[key] = _finite(out[key])
            if out[key] is None:
                del out[key]
    return out


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _finite(float(value))
    return value


def _features(model: Any, frame: pd.DataFrame, target: str) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return [c for c in frame.columns if c != target]
    features = [str(n) for n in names]
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise MetricInputError(f"the model's features do not match the data: missing columns {missing}")
    return features


def _check_target(frame: pd.DataFrame, inputs: GateInputs) -> None:
    if inputs.target not in frame.columns:
        raise MetricInputError(
            f"target column {inputs.target!r} is not in {inputs.data_path} (it has {list(frame.columns)[:20]})"
        )


def evaluate(inputs: GateInputs, facts_for: FactsProvider) -> Evaluation:
    """Measure and judge every rule of the policy (approval rules are left to promotion time)."""
    loaded = load_model_audited(inputs.model_path, _trust(inputs))
    model = loaded.model
    model_sha256 = hashlib.sha256(inputs.model_path.read_bytes()).hexdigest()
    frame, data_sha256 = read_data(inputs.data_path)
    _check_target(frame, inputs)
    policy = inputs.policy.policy
    requirements = policy.protected_classes
    groups = class_frame(
        frame, inputs.classes, list(inputs.classes.columns), requirements.bands, source=str(inputs.data_path)
    )
    missing_proxies = [p for p in inputs.classes.proxies if p not in frame.columns]
    if missing_proxies:
        raise MetricInputError(f"declared proxy column {missing_proxies[0]!r} is not in {inputs.data_path}")
    covered = coverage(
        policy.sensitive_attributes,
        requirements.required,
        requirements.at_least,
        inputs.classes.columns,
        policy=f"policy {policy.name}",
    )
    features = _features(model, frame, inputs.target)
    y_true = binary(frame[inputs.target], f"target column {inputs.target!r}")
    if len(set(y_true.tolist())) < 2:
        raise MetricInputError(f"target column {inputs.target!r} holds one class only; no binary metric is defined")
    threshold = _threshold(inputs)
    predictions = predict(model, frame[features], threshold=None if threshold is None else threshold["value"])
    y_pred, y_score = predictions.selected, predictions.score
    if inputs.described is not None:
        inputs.described(describe_model(model, features))
    facts = facts_for(model_sha256, data_sha256)
    bases = requirements.prohibited_bases or list(inputs.classes.columns)
    context = _Context(groups, inputs.classes, features_on_prohibited_bases(features, inputs.classes, bases), bases)
    settings = {"background_size": 100, "sample_size": 500, "seed": 0, **policy.explainability}
    explanation: GlobalExplanation | None = None
    outcomes: list[RuleOutcome] = []
    for rule in policy.rules:
        if rule.category == "approval":
            continue
        unmapped = [name for name in rule.by if name not in inputs.classes.columns]
        if unmapped:
            unmeasured = Measurement(value=None, details={"not_mapped": unmapped})
            outcomes.append(RuleOutcome(rule, unmeasured, not_evaluated(rule, unmapped)))
            continue
        if _needs_selections(rule) and predictions.selected is None:
            why = (
                f"the model gives scores, not selections ({predictions.how}); give a threshold "
                "(--threshold, or `threshold:` in the policy) to judge rules on selections"
            )
            unselected = Measurement(value=None, insufficient=why)
            outcomes.append(RuleOutcome(rule, unselected, judge(rule, unselected)))
            continue
        if rule.category == "explainability" and explanation is None:
            explanation = explain_model(
                model,
                frame[features],
                background_size=settings["background_size"],
                sample_size=settings["sample_size"],
                seed=settings["seed"],
            )
        measurement = _measure(rule, context, y_true, y_pred, y_score, explanation, facts, features, data_sha256)
        outcomes.append(RuleOutcome(rule, measurement, judge(rule, measurement)))
    return Evaluation(
        policy=inputs.policy,
        model_sha256=model_sha256,
        data_sha256=data_sha256,
        rows=len(frame),
        outcomes=outcomes,
        deferred=[r for r in policy.rules if r.category == "approval"],
        explanation=explanation,
        facts=facts,
        classes=inputs.classes,
        coverage=covered,
        parameters={
            "target": inputs.target,
            "explainability": settings,
            "threshold": threshold,
            "predictions": predictions.as_record(),
        },
        trusted_types=loaded.audit.as_record(),
        validation=measure_validation(
            y_true,
            y_pred,
            y_score,
            groups[[name for name in inputs.classes.columns if name in groups.columns]],
            probabilities=predictions.score_kind == "probability",
        ),
    )


@dataclass(frozen=True)
class _Context:
    """What rules over protected classes need: the class columns as group labels (named by class),
    the mapping, and the model features that are (or stand for) a prohibited basis."""

    groups: pd.DataFrame
    classes: ClassMapping
    on_prohibited_bases: dict[str, str]
    bases: list[str]

    @property
    def protected_columns(self) -> list[str]:
        """Mapped columns of the prohibited bases (all mapped classes if the policy names none)."""
        return [column for name, column in self.classes.columns.items() if name in self.bases]


_TRUST_ORDER = {"cli": 0, "api": 0, "policy": 1, "settings": 2}


def _trust(inputs: GateInputs) -> list[TrustedType]:
    """The gate's own trust first, then the policy's, then the environment's: the first source that
    trusts a type is the one recorded."""
    own = [t if isinstance(t, TrustedType) else trusted_types([t], "api")[0] for t in inputs.trust]
    given = [*own, *trusted_types(inputs.policy.policy.trust, "policy")]
    return sorted(given, key=lambda t: _TRUST_ORDER[t.source])


def _threshold(inputs: GateInputs) -> dict[str, Any] | None:
    """The probability threshold and where it came from: --threshold wins over the policy's."""
    if inputs.threshold is not None:
        return {"value": check_threshold(inputs.threshold, "--threshold"), "source": "cli"}
    if inputs.policy.policy.threshold is not None:
        return {"value": check_threshold(inputs.policy.policy.threshold, "policy"), "source": "policy"}
    return None


def _needs_selections(rule: Rule) -> bool:
    """Rules on 0/1 selections (fairness over selection rates, accuracy and the like): a score-only
    model without a threshold has none, so they are insufficient evidence (a blocking one keeps the
    model from passing) and say why, while rules on scores (AUC, LL144 scoring rates), explanations
    and data are judged."""
    for table in (FAIRNESS_METRICS, PERFORMANCE_METRICS):
        if rule.metric in table:
            return not table[rule.metric].needs_score
    return False


def _measure(
    rule: Rule,
    context: _Context,
    y_true: npt.NDArray[np.int64],
    y_pred: npt.NDArray[np.int64] | None,
    y_score: npt.NDArray[np.float64] | None,
    explanation: GlobalExplanation | None,
    facts: LineageFacts,
    features: list[str],
    data_sha256: str,
) -> Measurement:
    groups = context.groups[rule.by] if rule.by else None
    if rule.category == "performance":
        return measure_performance(
            rule.metric,
            y_true,
            y_pred,
            y_score,
            sensitive=groups,
            min_group_size=rule.min_group_size,
            min_group_share=rule.min_group_share,
            confidence=rule.confidence,
            n_boot=rule.n_boot,
            seed=0,
        )
    if rule.category == "fairness":
        assert groups is not None  # the schema requires `by` for fairness rules
        scoring: dict[str, Any] = {}
        if rule.metric == "scoring_rate_impact_ratio":
            if y_score is None:
                raise MetricInputError(f"rule {rule.id} ({rule.metric}) needs scores; the model offers only predict")
            y_pred, scoring = scoring_rate_selections(y_score)
        assert y_pred is not None  # _needs_selections
        measured = measure_fairness(
            rule.metric,
            y_true,
            y_pred,
            groups,
            min_group_size=rule.min_group_size,
            min_group_share=rule.min_group_share,
            min_positives=rule.min_positives,
            confidence=rule.confidence,
            n_boot=rule.n_boot,
            seed=0,
        )
        return replace(measured, details={**measured.details, **scoring}) if scoring else measured
    if rule.category == "explainability":
        assert explanation is not None
        declared = [*context.protected_columns, *context.classes.proxies, *rule.params.get("proxies", [])]
        sensitive = list(dict.fromkeys([*declared, *context.on_prohibited_bases]))
        if rule.metric == "sensitive_in_top_k":
            return explain_rules.sensitive_in_top_k(explanation, sensitive, int(rule.params["k"]))
        if rule.metric == "sensitive_attribution_share":
            return explain_rules.sensitive_attribution_share(explanation, sensitive)
        if rule.metric == "additivity_error":
            return explain_rules.additivity(explanation)
        return explain_rules.explainable_share(
            explanation, max_reasons=int(rule.params.get("max_reasons", 4)), excluded=frozenset(sensitive)
        )
    return measure_data(
        rule.metric,
        facts,
        sensitive=list(context.classes.columns.values()),
        features=features,
        data_sha256=data_sha256,
        on_prohibited_bases=context.on_prohibited_bases,
    )
