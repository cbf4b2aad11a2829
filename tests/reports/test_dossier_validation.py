"""The dossier's validation content on the governed ledger: recorded figures agree with scikit-learn
on the same data, findings are derived from the record, and old evaluations still render."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from pydantic import ValidationError
from sklearn.calibration import calibration_curve
from sqlalchemy import func, select

from ledger.api import Ledger, local_actor
from ledger.lineage import tables as t
from ledger.lineage.schemas import HumanOversight
from policies.artifacts import load_model
from policies.evaluate import GateInputs, evaluate
from policies.loader import parse_policy
from policies.protected import ClassMapping
from policies.record import facts_from, publish_policy, record_evaluation
from reports.document import prepare, render
from reports.dossier import build_dossier
from tests.conftest import AdultModels
from tests.reports.conftest import DECISIONS, Governed

WARN_POLICY = """
name: accuracy-watch
version: "1"
description: Warns when accuracy is under 0.99 (a bar no model of this data meets).
rules:
  - id: accuracy-high
    metric: accuracy
    comparison: ">="
    threshold: 0.99
    severity: warn
"""


def latest_evaluation(ledger: Ledger, name: str) -> dict[str, Any]:
    return next(e.data for e in reversed(ledger.entries(kind="evaluation.recorded")) if e.data["model"]["name"] == name)


def rates(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    tn, fp, fn, tp = skm.confusion_matrix(y, p, labels=[0, 1]).ravel()
    return {
        "accuracy": skm.accuracy_score(y, p),
        "true_positive_rate": tp / (tp + fn),
        "false_positive_rate": fp / (fp + tn),
        "precision": skm.precision_score(y, p),
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }


def test_recorded_validation_figures_agree_with_sklearn_and_the_dossier_prints_them(
    governed: Governed, adult_models: AdultModels
) -> None:
    ledger = governed.ledger
    recorded = latest_evaluation(ledger, "income-mitigated")["validation"]
    model = load_model(adult_models.mitigated)
    frame = pd.read_csv(adult_models.prepared.eval.path)
    X = frame[[str(f) for f in model.feature_names_in_]]  # noqa: N806
    y = frame["income"].to_numpy()
    selected, score = model.predict(X), model.predict_proba(X)[:, 1]

    expected = rates(y, selected)
    overall = recorded["overall"]
    for metric in ("accuracy", "true_positive_rate", "false_positive_rate", "precision"):
        cell = overall["metrics"][metric]
        assert cell["value"] == pytest.approx(expected[metric], abs=1e-12)
        low, high = cell["interval"]
        assert low <= cell["value"] <= high and high - low < 0.1
    assert overall["metrics"]["roc_auc"]["value"] == pytest.approx(skm.roc_auc_score(y, score), abs=1e-12)
    assert overall["confusion"] == {k: int(v) for k, v in expected["confusion"].items()}

    female = (frame["sex"] == "Female").to_numpy()
    row = next(g for g in recorded["by_class"]["sex"] if g["group"] == "Female")
    in_group = rates(y[female], selected[female])
    assert row["count"] == int(female.sum())
    assert row["metrics"]["accuracy"]["value"] == pytest.approx(in_group["accuracy"], abs=1e-12)
    assert row["metrics"]["roc_auc"]["value"] == pytest.approx(skm.roc_auc_score(y[female], score[female]))
    assert row["confusion"] == {k: int(v) for k, v in in_group["confusion"].items()}

    observed, predicted = calibration_curve(y, score, n_bins=10, strategy="uniform")
    assert recorded["calibration"]["observed_rate"] == pytest.approx(observed.tolist(), abs=1e-6)
    assert recorded["calibration"]["mean_predicted"] == pytest.approx(predicted.tolist(), abs=1e-6)
    assert sum(recorded["calibration"]["rows"]) == len(frame)
    assert 2 < len(recorded["roc"]["fpr"]) <= recorded["settings"]["roc_points"]
    assert recorded["roc"]["fpr"][0] == 0.0 and recorded["roc"]["tpr"][-1] == 1.0

    crossed = recorded["intersectional"]
    assert crossed["by"] == ["sex", "race"] and sum(g["count"] for g in crossed["groups"]) == len(frame)
    cell = next(g for g in crossed["groups"] if g["group"] == "Female × White")
    chosen = female & (frame["race"] == "White").to_numpy()
    assert cell["selection_rate"] == pytest.approx(selected[chosen].mean())
    assert cell["interval"][0] <= cell["selection_rate"] <= cell["interval"][1]

    name, version = governed.model
    html = render(prepare(ledger, build_dossier, name=name, version=version), issue_seq=None).html
    assert f"{expected['accuracy']:.3f}" in html and f"{skm.roc_auc_score(y, score):.3f}" in html
    assert f"{int(expected['confusion']['fp']):,}" in html
    assert '<h3>Calibration and ROC</h3>\n<div class="chart"><svg' in html
    # the blocked baseline, evaluated under the same policy on the same data, is the challenger
    assert "income-baseline@1" in html and "BLOCKED" in html
    assert "Female × White" in html  # intersectional table
    registered = ledger.entries(kind="model.registered")[-1].data
    assert registered["input_features"] == [str(f) for f in model.feature_names_in_]
    assert registered["estimator"] in html


def test_findings_are_derived_from_the_ledger(governed: Governed, adult_models: AdultModels) -> None:
    ledger = governed.ledger
    name, version = governed.model
    content = prepare(ledger, build_dossier, name=name, version=version).content
    with ledger.engine.connect() as conn:  # counted from the decision entries' projection
        adverse = conn.execute(select(func.count()).where(t.decisions.c.adverse.is_(True))).scalar_one()
    assert 0 < adverse <= DECISIONS
    titles = {f.title: f for f in content.findings.items}
    shortfall = titles[f"Human review: 1 of {adverse:,} adverse decisions reviewed"]
    assert shortfall.severity == "fail"  # the registration promises every adverse decision is reviewed
    not_evaluated = [f for f in content.findings.items if "not evaluated" in f.title]
    assert not_evaluated and all(f.severity == "insufficient" for f in not_evaluated)
    assert any("excluded for size" in f.title for f in content.findings.items)
    assert not content.findings.clean
    assert content.outcome.startswith(f"{name}@{version} passed four-fifths 2") and "in production since" in (
        content.outcome
    )

    # A warn rule that fails shows as a warning, and the outcome names both policies.
    policy = parse_policy(WARN_POLICY)
    publish_policy(ledger, policy, actor=local_actor(), activate=False)
    inputs = GateInputs(
        adult_models.mitigated, adult_models.prepared.eval.path, "income", ClassMapping({"sex": "sex"}), policy
    )
    record_evaluation(ledger, evaluate(inputs, facts_from(ledger)), actor=local_actor())
    content = prepare(ledger, build_dossier, name=name, version=version).content
    warned = [f for f in content.findings.items if f.title.startswith("accuracy-high (accuracy-watch 1)")]
    assert [f.severity for f in warned] == ["warn"]
    assert "passed accuracy-watch 1" in content.outcome and "four-fifths 2" in content.outcome


def test_an_evaluation_recorded_before_validation_figures_still_renders(governed: Governed, tmp_path: Any) -> None:
    ledger = governed.ledger
    old = dict(latest_evaluation(ledger, "income-mitigated"))
    del old["validation"]
    old["evaluation_id"] = "ev-before-validation-1"
    ledger.append("evaluation.recorded", old, actor=local_actor())
    name, version = governed.model
    document = render(prepare(ledger, build_dossier, name=name, version=version), issue_seq=None)
    html = " ".join(document.html.split())
    assert "predates validation figures" in html and "ev-before-validation-1" in html
    assert document.pdf.startswith(b"%PDF")


def test_a_review_promise_names_its_sample_share_exactly_when_sampled() -> None:
    assert HumanOversight(review="sampled", sample_share=0.1).sample_share == 0.1
    assert HumanOversight(review="every_adverse").sample_share is None
    with pytest.raises(ValidationError, match="sample_share"):
        HumanOversight(review="sampled")
    with pytest.raises(ValidationError, match="sample_share"):
        HumanOversight(review="none", sample_share=0.5)
