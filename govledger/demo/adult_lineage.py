"""Register the UCI Adult files, their derived train/eval CSVs, and models trained on them.

Used by the demo and the tests: the same lineage a real team would record before gating a
model (raw sources with licence and hashes, derivations with their transformation, the training
run with its environment, the model version with its documentation).
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

from govledger.demo.adult import COLUMNS, PreparedAdult
from govledger.demo.training import SENSITIVE, TARGET
from ledger.api import Ledger
from ledger.log.entry import Actor
from policies.artifacts import artifact_sha256, load_model
from policies.describe import describe_model
from policies.evaluate import library_versions

__all__ = ["LICENCE", "model_documentation", "register_adult_datasets", "register_trained_model"]

LICENCE = "CC BY 4.0 (UCI Machine Learning Repository: Adult, Becker & Kohavi 1996)"
SOURCE = "https://archive.ics.uci.edu/dataset/2/adult"


def _columns() -> list[dict[str, str]]:
    numeric = {"age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week", TARGET}
    return [{"name": c, "type": "int" if c in numeric else "category"} for c in COLUMNS]


def register_adult_datasets(
    ledger: Ledger, prepared: PreparedAdult, *, actor: Actor, prefix: str = "adult"
) -> dict[str, str]:
    """raw train/test files -> train.csv / eval.csv; returns {role: dataset_id}."""
    ids = {
        "raw_train": f"{prefix}-raw-train",
        "raw_test": f"{prefix}-raw-test",
        "train": f"{prefix}-train",
        "eval": f"{prefix}-eval",
    }
    raw = {"raw_train": "adult.data", "raw_test": "adult.test"}
    rows = {"raw_train": 32561, "raw_test": 16281}
    for role, name in raw.items():
        ledger.append(
            "dataset.registered",
            {
                "dataset_id": ids[role],
                "content_sha256": prepared.sources[name],
                "columns": _columns(),
                "rows": rows[role],
                "source_uri": f"{SOURCE} ({name})",
                "licence": LICENCE,
                "sensitive_attributes": list(SENSITIVE),
                "description": "1994 US Census extract; income above 50K as the label",
            },
            actor=actor,
        )
    for role, parent, file in (("train", "raw_train", prepared.train), ("eval", "raw_test", prepared.eval)):
        ledger.append(
            "dataset.registered",
            {
                "dataset_id": ids[role],
                "content_sha256": file.sha256,
                "columns": _columns(),
                "rows": file.rows,
                "source_uri": f"file:{file.path.name}",
                "licence": LICENCE,
                "sensitive_attributes": list(SENSITIVE),
                "derived_from": [ids[parent]],
                "transformation": "whitespace stripped, '?' rows dropped, label mapped to 0/1 (govledger.demo.adult)",
            },
            actor=actor,
        )
    return ids


DESCRIPTIONS = {
    "baseline": "Gradient-boosted trees (scikit-learn HistGradientBoostingClassifier) on one-hot features; "
    "income above 50K as a stand-in for a credit pre-screening outcome",
    "mitigated": "Logistic-regression mixture found by fairlearn ExponentiatedGradient under a demographic-parity "
    "constraint on sex x race (neither is an input); income above 50K as a stand-in for a credit pre-screening outcome",
}


def model_documentation(kind: str = "baseline") -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS.get(kind, DESCRIPTIONS["baseline"]),
        "use_domain": "credit",
        "human_oversight": {
            "review": "every_adverse",
            "description": "A credit officer reviews every adverse outcome before the applicant is told, "
            "and may override it (decision.reviewed records the outcome and the reason)",
        },
        "intended_use": "Pre-screening of applications; every adverse outcome is reviewed by a person",
        "out_of_scope_uses": "Final credit decisions without human review; employment decisions",
        "owner": "Credit risk analytics",
        "risk_tier": "high (EU AI Act Annex III 5(b))",
        "limitations": "Trained on 1994 census data; sex and race excluded as inputs but proxies remain",
        "monitoring_plan": (
            "Monthly impact ratios by sex and race on logged decisions; revalidate if any falls below 0.8"
        ),
    }


def register_trained_model(
    ledger: Ledger,
    *,
    name: str,
    version: str,
    model_path: Path,
    run_id: str,
    train_dataset: str,
    parameters: dict[str, Any],
    actor: Actor,
) -> str:
    """Record the training run and register the model version (its estimator, hyperparameters and
    input features read off the saved file, as `gate --register` does); returns the artifact's SHA-256."""
    artifact = artifact_sha256(model_path)
    fitted = load_model(model_path)
    features = [str(f) for f in getattr(fitted, "feature_names_in_", [])]
    ledger.append(
        "training_run.recorded",
        {
            "run_id": run_id,
            "code_version": "govledger govledger.demo.training",
            "parameters": parameters,
            "environment": {"python": platform.python_version(), **library_versions()},
            "input_datasets": [train_dataset],
            "artifact_sha256": artifact,
        },
        actor=actor,
    )
    ledger.append(
        "model.registered",
        {
            "model": {"name": name, "version": version},
            "artifact_sha256": artifact,
            "run_id": run_id,
            **model_documentation(str(parameters.get("kind", "baseline"))),
            **describe_model(fitted, features),
        },
        actor=actor,
    )
    return artifact
