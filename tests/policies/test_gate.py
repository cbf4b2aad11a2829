"""`govledger gate` on the real Adult data: the four-fifths pack blocks the baseline on sex and
passes the mitigated model; exit codes; JUnit and Markdown; bad input records nothing; the same
inputs give the same entry; promotion follows the recorded verdict."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from govledger.cli import main
from ledger.access.api_keys import create_key_actor
from ledger.api import Ledger, local_actor
from ledger.errors import PromotionBlockedError
from policies.evaluate import GateInputs, evaluate
from policies.loader import load_policy
from policies.protected import ClassMapping
from policies.record import facts_from, publish_policy
from tests.conftest import AdultModels

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def gate(
    adult_ledger: Ledger, db_url: str, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", db_url)
    monkeypatch.setenv("GOVLEDGER_HOME", str(home))

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exited:
            main(list(args))
        captured = capsys.readouterr()
        return int(exited.value.code or 0), captured.out, captured.err

    return run


def gate_args(
    models: AdultModels, model: Path, *extra: str, policy: str = "four-fifths", data: Path | None = None
) -> list[str]:
    return [
        "gate",
        "--policy",
        policy,
        "--model",
        str(model),
        "--data",
        str(data or models.prepared.eval.path),
        "--target",
        "income",
        "--sensitive",
        "sex,race",
        # the mitigated model holds the demo's own class, trusted only when asked
        *extra,
    ]


def selection_rates(model_path: Path, data: Path) -> dict[str, float]:
    """Selection rate per sex straight from the predictions (no fairlearn)."""
    from policies.artifacts import load_model

    model = load_model(model_path)
    frame = pd.read_csv(data)
    predicted = np.asarray(model.predict(frame[list(model.feature_names_in_)]))
    return {sex: float(predicted[(frame["sex"] == sex).to_numpy()].mean()) for sex in ("Female", "Male")}


def test_baseline_is_blocked_on_sex_and_mitigated_passes(
    gate: Run, adult_ledger: Ledger, adult_models: AdultModels, tmp_path: Path
) -> None:
    publish_policy(adult_ledger, load_policy("four-fifths"), actor=local_actor())
    eval_csv = adult_models.prepared.eval.path

    code, out, err = gate(
        *gate_args(
            adult_models, adult_models.baseline, "--junit", str(tmp_path / "j.xml"), "--summary", str(tmp_path / "s.md")
        )
    )
    assert code == 1, out + err
    rates = selection_rates(adult_models.baseline, eval_csv)
    ratio = rates["Female"] / rates["Male"]
    assert ratio < 0.8
    assert "impact-ratio-sex" in out and "Female" in out and f"{ratio:.4g}" in out and ">= 0.8" in out
    junit = ET.parse(tmp_path / "j.xml").getroot()
    failures = [case.get("name") for case in junit.iter("testcase") if case.find("failure") is not None]
    assert "impact-ratio-sex" in failures
    summary = (tmp_path / "s.md").read_text()
    assert "blocked" in summary and "impact-ratio-sex" in summary and "Female" in summary

    mitigated_rates = selection_rates(adult_models.mitigated, eval_csv)
    assert mitigated_rates["Female"] / mitigated_rates["Male"] >= 0.8
    code, out, err = gate(*gate_args(adult_models, adult_models.mitigated))
    assert code == 0, out + err
    assert "verdict: passed" in out


def test_the_recorded_evaluation_gates_promotion(gate: Run, adult_ledger: Ledger, adult_models: AdultModels) -> None:
    publish_policy(adult_ledger, load_policy("four-fifths"), actor=local_actor())
    assert gate(*gate_args(adult_models, adult_models.baseline))[0] == 1
    assert gate(*gate_args(adult_models, adult_models.mitigated))[0] == 0
    officer = create_key_actor(adult_ledger, name="rui", role="approver", actor=local_actor())
    with pytest.raises(PromotionBlockedError, match=r"impact-ratio-sex"):
        adult_ledger.append(
            "model.promoted",
            {"model": {"name": "income-baseline", "version": "1"}, "stage": "production"},
            actor=officer,
        )
    evaluations = adult_ledger.entries(kind="evaluation.recorded")
    passed = [e for e in evaluations if e.data["verdict"] == "passed"]
    assert len(passed) == 1 and passed[0].data["model"]["name"] == "income-mitigated"
    adult_ledger.append(
        "approval.recorded",
        {
            "approval_id": "ap-1",
            "model": {"name": "income-mitigated", "version": "1"},
            "decision": "approve",
            "role": "approver",
            "evaluation_id": passed[0].data["evaluation_id"],
        },
        actor=officer,
    )
    adult_ledger.append(
        "model.promoted", {"model": {"name": "income-mitigated", "version": "1"}, "stage": "production"}, actor=officer
    )


def test_same_inputs_same_entry_and_python_api_agrees(
    gate: Run, adult_ledger: Ledger, adult_models: AdultModels
) -> None:
    publish_policy(adult_ledger, load_policy("four-fifths"), actor=local_actor())
    code, _, _ = gate(*gate_args(adult_models, adult_models.baseline))
    size = adult_ledger.size
    code_again, out_again, _ = gate(*gate_args(adult_models, adult_models.baseline))
    assert (code, code_again) == (1, 1) and "was already recorded" in out_again and adult_ledger.size == size
    inputs = GateInputs(
        adult_models.baseline,
        adult_models.prepared.eval.path,
        "income",
        ClassMapping({"sex": "sex", "race": "race"}),
        load_policy("four-fifths"),
    )
    first = evaluate(inputs, facts_from(adult_ledger)).payload()
    second = evaluate(inputs, facts_from(adult_ledger)).payload()
    assert first == second and first["verdict"] == "blocked"
    recorded = [e.data for e in adult_ledger.entries(kind="evaluation.recorded")]
    assert recorded == [first]


def test_insufficient_evidence_is_exit_3(
    gate: Run, adult_ledger: Ledger, adult_models: AdultModels, tmp_path: Path
) -> None:
    policy = tmp_path / "strict.yaml"
    policy.write_text(
        "name: strict\nversion: '1'\nrules:\n  - id: ir-sex\n    metric: impact_ratio\n    by: [sex]\n"
        "    comparison: '>='\n    threshold: 0.8\n    min_group_size: 1\n    confidence: 0.95\n"
        "  - id: tpr-race\n    metric: true_positive_rate_difference\n    by: [race]\n    comparison: '<='\n"
        "    threshold: 0.5\n    min_group_size: 100\n    min_positives: 100000\n",
        encoding="utf-8",
    )
    publish_policy(adult_ledger, load_policy(str(policy)), actor=local_actor())
    code, out, err = gate(*gate_args(adult_models, adult_models.mitigated, policy=str(policy)))
    assert code == 3, out + err
    assert "insufficient evidence" in out and "has 19 actual positives" in out


def bad_inputs(models: AdultModels, tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    frame = pd.read_csv(models.prepared.eval.path).head(2000)
    cases: dict[str, tuple[list[str], str]] = {}

    def data(name: str, changed: pd.DataFrame) -> Path:
        path = tmp_path / f"{name}.csv"
        changed.to_csv(path, index=False)
        return path

    cases["missing sensitive column"] = (
        gate_args(models, models.mitigated, data=data("nosex", frame.drop(columns=["sex"]))),
        "'sex'",
    )
    cases["non-binary target"] = (
        gate_args(models, models.mitigated, data=data("multi", frame.assign(income=frame["income"] + frame.index % 3))),
        "distinct values",
    )
    nan = frame.astype({"hours_per_week": "float64"})  # a feature of the mitigated model
    nan.loc[3, "hours_per_week"] = float("nan")
    cases["NaN feature"] = (gate_args(models, models.mitigated, data=data("nan", nan)), "NaN")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    cases["empty file"] = (gate_args(models, models.mitigated, data=empty), "empty")
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps({"not": "a model"}))
    cases["pickle"] = (gate_args(models, pickled), "pickle")
    cases["features mismatch"] = (
        gate_args(models, models.mitigated, data=data("nofeature", frame.drop(columns=["education_num"]))),
        "education_num",
    )
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("name: u\nversion: '1'\nrules:\n  - {id: a, metric: gini, comparison: '>=', threshold: 1}\n")
    cases["unknown metric"] = (gate_args(models, models.mitigated, policy=str(unknown)), "unknown metric 'gini'")
    return cases


def test_bad_input_is_exit_2_with_one_line_and_records_nothing(
    gate: Run, adult_ledger: Ledger, adult_models: AdultModels, tmp_path: Path
) -> None:
    publish_policy(adult_ledger, load_policy("four-fifths"), actor=local_actor())
    size = adult_ledger.size
    for name, (args, needle) in bad_inputs(adult_models, tmp_path).items():
        code, out, err = gate(*args)
        assert code == 2, (name, out, err)
        assert err.startswith("govledger: error:") and err.count("\n") == 1 and needle in err, (name, err)
    assert adult_ledger.size == size


def test_an_unpublished_policy_is_refused_and_dry_run_records_nothing(
    gate: Run, adult_ledger: Ledger, adult_models: AdultModels
) -> None:
    size = adult_ledger.size
    code, _, err = gate(*gate_args(adult_models, adult_models.mitigated))
    assert code == 2 and "policy publish" in err
    code, out, _ = gate(*gate_args(adult_models, adult_models.mitigated, "--dry-run", "--json"))
    assert code == 0 and json.loads(out)["verdict"] == "passed"
    assert adult_ledger.size == size
