"""Decision records for a model in production, as a scoring service would send them: the score
and outcome, the applicant's input (sealed by the ledger per subject, never in clear), and for
every adverse decision the up to four principal reasons from SHAP in plain words (Regulation B
1002.9(b)(2)). Used by the demo and the tests; a real service sends the same shape over HTTP.

The reasons never name a feature in `excluded` (the deployer's prohibited bases under Reg B
1002.6(b) and their declared proxies). An adverse decision that no lawful factor explains is
flagged for review (`explanation.review_required`, no reason codes) instead. Which columns are
excluded, and the words each reason is given in, are the deployer's: this module names no column.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from policies.explain import PrincipalReasons, explain_rows, principal_reasons

__all__ = ["NO_FACTOR_LOWERED", "NO_LAWFUL_REASON", "decision_requests"]

# Why an adverse decision was referred to a person; it is printed on the applicant's notice, so it
# names no prohibited basis.
NO_LAWFUL_REASON = (
    "every factor that lowered the score is a prohibited basis or a declared proxy for one, which may not "
    "be given as a reason (Regulation B 1002.6(b)); the decision is referred to a person for review"
)
NO_FACTOR_LOWERED = (
    "no factor of the application lowered the score below the baseline, so the model's explanation names no "
    "principal reason; the decision is referred to a person for review"
)
_ADDITIVE = 1e-6


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def decision_requests(
    model: Any,
    applicants: pd.DataFrame,
    *,
    model_ref: dict[str, str],
    features: list[str],
    start: datetime,
    excluded: Collection[str],
    reason_text: Mapping[str, str],
    reason_map_version: str,
    input_schema_version: str = "v1",
    explain_at_most: int | None = None,
    prefix: str = "d",
    monitoring_fields: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One request per applicant row (deterministic ids and times, one second apart).

    Every adverse decision is explained (or the first `explain_at_most` of them, for tests that
    need only a few). `excluded` features are never given as reasons; `reason_text` maps a feature
    to its plain-words statement (the feature name if absent), versioned by `reason_map_version`.
    `monitoring_fields` are sealed with the input for fairness monitoring, never scored.
    """
    X = applicants[features]  # noqa: N806 - scikit-learn's name
    predicted = np.asarray(model.predict(X), dtype=np.int64)
    scores = np.asarray(model.predict_proba(X)[:, 1], dtype=np.float64)
    adverse_rows = [i for i in range(len(X)) if predicted[i] == 0][:explain_at_most]
    explanations: dict[int, dict[str, Any]] = {}
    if adverse_rows:
        explained = explain_rows(model, X.iloc[adverse_rows], X.iloc[: min(len(X), 100)], seed=0)
        header = {
            "explainer": f"shap.{explained.explainer_kind}",
            "explainer_version": explained.shap_version,
            "baseline_sha256": explained.background_sha256,
        }
        errors = explained.row_additivity_errors()
        for position, row in enumerate(adverse_rows):
            found = principal_reasons(explained, position, max_reasons=4, excluded=excluded)
            additive = bool(errors[position] <= _ADDITIVE)
            explanations[row] = _explanation(header, additive, found, reason_text, reason_map_version)
    # One conversion for all rows: reading applicants.iloc[i][c] per cell cost 2.3 ms a decision (bench.reasons_bench).
    inputs = applicants[[*features, *monitoring_fields]].to_dict("records")
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
            "input": {str(c): _plain(value) for c, value in inputs[i].items()},
            "input_schema_version": input_schema_version,
            "output": {
                "decision": "deny" if adverse else "approve",
                "score": round(float(scores[i]), 6),
                "adverse": adverse,
            },
            "deployment": {
                "deployer": "govledger demo lender",
                "environment": "production",
                "feature_pipeline_version": input_schema_version,
                "threshold_version": "model-predict-1",
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
        if i in explanations:
            record["explanation"] = explanations[i]
        else:
            why = "approved: no adverse-action reasons are owed" if not adverse else "explained on request (sampled)"
            record["not_applicable"]["explanation"] = why
        requests.append(record)
    return requests


def _explanation(
    header: dict[str, str],
    additive: bool,
    found: PrincipalReasons,
    reason_text: Mapping[str, str],
    reason_map_version: str,
) -> dict[str, Any]:
    """The record's `explanation`: the lawful reasons, or a referral to review when none remain."""
    explanation: dict[str, Any] = {
        **header,
        "additivity_ok": additive,
        "reason_codes": [
            {"code": feature, "text": reason_text.get(feature, feature), "contribution": round(value, 6)}
            for feature, value in found.reasons
        ],
        "group_map_version": reason_map_version,
    }
    if found.count == 0:
        explanation["review_required"] = True
        explanation["review_reason"] = NO_LAWFUL_REASON if found.skipped else NO_FACTOR_LOWERED
    return explanation


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value
