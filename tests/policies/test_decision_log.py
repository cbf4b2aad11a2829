"""Decision records as the scoring service sends them: every adverse decision carries its principal
reasons, none of them an excluded feature (a prohibited basis or declared proxy), and a decision
that only excluded features explain is referred to review instead of being given an unlawful reason.

Real models throughout: the demo's mitigated model on Adult's evaluation rows, and a logistic
regression on a small synthetic set built so that one applicant is lowered by `age` alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.linear_model import LogisticRegression

from govledger.demo.adult import prepare_adult_csvs
from govledger.demo.fair_lending import EXCLUDED_FROM_REASONS, REASON_MAP_VERSION, REASON_TEXT
from govledger.demo.training import MITIGATED_FEATURES, train_mitigated
from ledger.lineage.schemas import Explanation
from policies.decision_log import NO_LAWFUL_REASON, decision_requests

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def requests_for(model: Any, applicants: pd.DataFrame, features: list[str], excluded: set[str]) -> list[dict[str, Any]]:
    return decision_requests(
        model,
        applicants,
        model_ref={"name": "m", "version": "1"},
        features=features,
        start=START,
        excluded=excluded,
        reason_text=REASON_TEXT,
        reason_map_version=REASON_MAP_VERSION,
    )


@pytest.fixture(scope="module")
def adult(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, pd.DataFrame]:
    prepared = prepare_adult_csvs(tmp_path_factory.mktemp("adult"))
    model = train_mitigated(pd.read_csv(prepared.train.path), seed=0)
    return model, pd.read_csv(prepared.eval.path).head(1500)


def test_every_adverse_decision_gets_lawful_principal_reasons(adult: tuple[Any, pd.DataFrame]) -> None:
    model, applicants = adult
    requests = requests_for(model, applicants, list(MITIGATED_FEATURES), set(EXCLUDED_FROM_REASONS))
    adverse = [r for r in requests if r["output"]["adverse"]]
    assert len(adverse) > 1000
    for record in adverse:
        explanation = Explanation.model_validate(record["explanation"])
        codes = [reason.code for reason in explanation.reason_codes]
        assert 1 <= len(codes) <= 4 and not explanation.review_required
        assert not set(codes) & EXCLUDED_FROM_REASONS
        assert {reason.text for reason in explanation.reason_codes} <= set(REASON_TEXT.values())
        assert explanation.additivity_ok and explanation.explainer == "shap.linear"
        contributions = [reason.contribution or 0.0 for reason in explanation.reason_codes]
        assert all(c < 0 for c in contributions) and contributions == sorted(contributions)
    for record in requests:
        if not record["output"]["adverse"]:
            assert "explanation" not in record and "approved" in record["not_applicable"]["explanation"]


@pytest.fixture(scope="module")
def age_only() -> tuple[LogisticRegression, pd.DataFrame]:
    """A model that scores age, and applicants of whom the first is lowered by age alone."""
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({name: rng.normal(size=400) for name in ("age", "income", "debt")})
    y = (frame["age"] + frame["income"] - frame["debt"] + rng.normal(scale=0.3, size=400) > 0).astype(int)
    model = LogisticRegression().fit(frame, y)
    applicants = pd.concat([pd.DataFrame({"age": [-4.0], "income": [1.0], "debt": [-1.0]}), frame.head(150)])
    return model, applicants.reset_index(drop=True)


def test_an_adverse_decision_lowered_only_by_an_excluded_feature_is_referred_to_review(
    age_only: tuple[LogisticRegression, pd.DataFrame],
) -> None:
    model, applicants = age_only
    requests = requests_for(model, applicants, ["age", "income", "debt"], {"age"})
    first = requests[0]
    assert first["output"]["adverse"]
    explanation = Explanation.model_validate(first["explanation"])
    assert explanation.review_required and explanation.review_reason == NO_LAWFUL_REASON
    assert explanation.reason_codes == []
    assert "age" not in NO_LAWFUL_REASON  # the referral text reaches the notice: it names no basis
    # Without the exclusion the same decision would have been denied for age: the test is not vacuous.
    unrestricted = requests_for(model, applicants, ["age", "income", "debt"], set())[0]["explanation"]
    assert unrestricted["reason_codes"][0]["code"] == "age" and "review_required" not in unrestricted
    # No other adverse decision names age either.
    cited = {c["code"] for r in requests if r["output"]["adverse"] for c in r["explanation"]["reason_codes"]}
    assert cited and "age" not in cited


def test_referral_needs_a_reason_and_old_explanations_still_read() -> None:
    old = {"explainer": "shap.tree", "explainer_version": "0.51.0", "reason_codes": []}
    assert Explanation.model_validate(old).review_required is False
    with pytest.raises(ValidationError, match="review_reason"):
        Explanation.model_validate({**old, "review_required": True})


def test_prohibited_bases_are_declared_once_and_never_scored_by_the_mitigated_model() -> None:
    assert {"sex", "race", "age", "marital_status", "native_country", "relationship"} == EXCLUDED_FROM_REASONS
    assert not set(MITIGATED_FEATURES) & EXCLUDED_FROM_REASONS
    assert set(REASON_TEXT) == set(MITIGATED_FEATURES)


def test_decision_log_names_no_demo_column() -> None:
    source = (Path(__file__).parents[2] / "policies" / "decision_log.py").read_text(encoding="utf-8")
    for column in (*EXCLUDED_FROM_REASONS, *MITIGATED_FEATURES):
        assert f'"{column}"' not in source
