"""Data and documentation rules, measured from the ledger's lineage facts.

Each metric counts problems (0 is clean), and `details.problems` names every one, so a failing
rule says exactly which dataset or field is at fault.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from policies.facts import LineageFacts
from policies.results import Measurement

__all__ = ["DOCUMENTATION_FIELDS", "measure_data"]

# Model registration fields that EU AI Act Annex IV 1-2 and model-risk inventories expect.
DOCUMENTATION_FIELDS = ("intended_use", "out_of_scope_uses", "owner", "risk_tier", "limitations", "monitoring_plan")


def _counted(problems: list[str]) -> Measurement:
    return Measurement(value=float(len(problems)), details={"problems": problems})


def measure_data(
    metric: str,
    facts: LineageFacts,
    *,
    sensitive: Sequence[str],
    features: Sequence[str],
    data_sha256: str,
    on_prohibited_bases: Mapping[str, str],
) -> Measurement:
    """`sensitive`: the columns mapped to protected classes for this evaluation; `features`: the
    model's inputs; `on_prohibited_bases`: the features that are, or stand for, a prohibited basis
    (`policies.protected.features_on_prohibited_bases`), each with why."""
    evaluation = facts.evaluation_dataset
    if metric == "unregistered_datasets":
        problems = []
        if facts.model is None:
            problems.append("the model artifact is not registered in the ledger")
        elif not facts.training_datasets:
            problems.append(f"training run {facts.model['run_id']} names no registered dataset")
        if evaluation is None:
            problems.append(f"no registered dataset has the evaluation data's content hash {data_sha256[:12]}")
        return _counted(problems)
    if metric == "datasets_without_licence":
        datasets = [*facts.training_datasets, *([evaluation] if evaluation else [])]
        return _counted([f"dataset {d.dataset_id} has no licence" for d in datasets if not d.licence])
    if metric == "undeclared_sensitive_attributes":
        if evaluation is None:
            return Measurement(value=None, insufficient="the evaluation dataset is not registered")
        missing = [a for a in sensitive if a not in evaluation.sensitive_attributes]
        return _counted([f"{a} is not declared sensitive in dataset {evaluation.dataset_id}" for a in missing])
    if metric == "evaluation_training_overlap":
        if evaluation is None or facts.model is None:
            return Measurement(value=None, insufficient="the model or the evaluation dataset is not registered")
        clashes = [
            f"evaluation data is training dataset {d.dataset_id} (or has its content)"
            for d in facts.training_datasets
            if d.dataset_id == evaluation.dataset_id or d.content_sha256 == evaluation.content_sha256
        ]
        return _counted(clashes)
    if metric == "undocumented_model_fields":
        if facts.model is None:
            return Measurement(value=None, insufficient="the model artifact is not registered")
        registration = facts.model["registration"]
        return _counted([f"model registration lacks {f}" for f in DOCUMENTATION_FIELDS if not registration.get(f)])
    if metric == "protected_features_used":
        return _counted([f"model input {name} is {why}" for name, why in on_prohibited_bases.items()])
    raise ValueError(f"unknown data metric {metric!r}")
