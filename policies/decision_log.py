"""Decision records for a model in production, as a scoring service would send them: the score
and outcome, the applicant's input (sealed by the ledger per subject, never in clear), and for
adverse decisions the up to four principal reasons from SHAP in plain words (Regulation B
1002.9(b)(2)). Used by the demo and the tests; a real service sends the same shape over HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from policies.explain import explain_rows, principal_reasons

__all__ = ["FEATURE_TEXT", "decision_requests"]

# Plain-words reason statements for each model feature (the "group map" of the reason codes).
FEATURE_TEXT = {
    "age": "Age of applicant",
    "workclass": "Type of employment",
    "education_num": "Length of education",
    "marital_status": "Marital status",
    "occupation": "Occupation",
    "relationship": "Household relationship",
    "capital_gain": "Amount of capital gains",
    "capital_loss": "Amount of capital losses",
    "hours_per_week": "Hours worked per week",
    "native_country": "Country of origin",
}
REASON_MAP_VERSION = "adult-reasons-1"


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def decision_requests(
    model: Any,
    applicants: pd.DataFrame,
    *,
    model_ref: dict[str, str],
    features: list[str],
    start: datetime,
    explain_at_most: int = 200,
    prefix: str = "d",
    monitoring_fields: tuple[str, ...] = ("sex", "race"),
) -> list[dict[str, Any]]:
    """One request per applicant row (deterministic ids and times, one second apart)."""
    X = applicants[features]  # noqa: N806 - scikit-learn's name
    predicted = np.asarray(model.predict(X), dtype=np.int64)
    scores = np.asarray(model.predict_proba(X)[:, 1], dtype=np.float64)
    adverse_rows = [i for i in range(len(X)) if predicted[i] == 0][:explain_at_most]
    reasons: dict[int, list[tuple[str, float]]] = {}
    additive: dict[int, bool] = {}
    explainer = ("", "", "")
    if adverse_rows:
        explained = explain_rows(model, X.iloc[adverse_rows], X.iloc[: min(len(X), 100)], seed=0)
        explainer = (explained.explainer_kind, explained.shap_version, explained.background_sha256)
        errors = explained.row_additivity_errors()
        for position, row in enumerate(adverse_rows):
            reasons[row] = principal_reasons(explained, position, max_reasons=4)
            additive[row] = bool(errors[position] <= 1e-6)
    requests = []
    for i in range(len(X)):
        moment = start + timedelta(seconds=i)
        adverse = bool(predicted[i] == 0)
        record: dict[str, Any] = {
            "decision_id": f"{prefix}-{i:06d}",
            "request_id": f"req-{prefix}-{i:06d}",
            "trace_id": f"{(i + 1):032x}",
            "ts_start": _ts(moment),
            "ts_end": _ts(moment + timedelta(milliseconds=40)),
            "model": dict(model_ref),
            "subject_ref": f"applicant-{i:06d}",
            "input": {c: _plain(applicants.iloc[i][c]) for c in [*features, *monitoring_fields]},
            "input_schema_version": "adult-v1",
            "output": {
                "decision": "deny" if adverse else "approve",
                "score": round(float(scores[i]), 6),
                "adverse": adverse,
            },
            "deployment": {
                "deployer": "govledger demo lender",
                "environment": "production",
                "feature_pipeline_version": "adult-v1",
                "threshold_version": "mixture-vote-1",
            },
            "retention": {
                "retention_class": "reg-b-25-months",
                "earliest_purge": (moment + timedelta(days=761)).strftime("%Y-%m-%d"),
            },
            "not_applicable": {
                "reference_database_id": "no matching against a reference database (AIA 12(3)(b)-(c) does not apply)",
                "notice": "the adverse-action notice is issued as a govledger report on request",
            },
        }
        if i in reasons:
            record["explanation"] = {
                "explainer": f"shap.{explainer[0]}",
                "explainer_version": explainer[1],
                "baseline_sha256": explainer[2],
                "additivity_ok": additive[i],
                "reason_codes": [
                    {"code": feature, "text": FEATURE_TEXT.get(feature, feature), "contribution": round(value, 6)}
                    for feature, value in reasons[i]
                ],
                "group_map_version": REASON_MAP_VERSION,
            }
        else:
            why = "approved: no adverse-action reasons are owed" if not adverse else "explained on request (sampled)"
            record["not_applicable"]["explanation"] = why
        requests.append(record)
    return requests


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value
