"""Policies over protected classes, mapped to whatever the user's columns are called.

The data here is synthetic and its columns are named as a lender's might be (`gender`,
`applicant_race`, `borrower_age`, `zip3`), never `sex`/`race`: the packs must work on them through
the mapping alone, say by name what they did not evaluate, and refuse a bad mapping.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET  # parsing our own JUnit output only

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from govledger.cli import main
from ledger.api import Ledger, local_actor
from ledger.errors import InvalidInputError
from ledger.log.entry import Actor
from policies.artifacts import artifact_sha256, load_model, save_model
from policies.loader import load_policy
from policies.protected import (
    ClassMapping,
    band_labels,
    class_frame,
    coverage,
    features_on_prohibited_bases,
    parse_mapping_file,
    parse_sensitive,
)
from policies.record import publish_policy
from policies.results import MetricInputError

Run = Callable[..., tuple[int, str, str]]
SCIENTIST = Actor("key:ds9", "sam (data scientist)")
FAIR_FEATURES = ["income_k", "debt_ratio", "years_employed"]


# -- unit: the mapping ------------------------------------------------------------------------------
def test_sensitive_maps_classes_to_columns_and_a_bare_name_to_itself() -> None:
    mapping = parse_sensitive("sex=gender, race=applicant_race,age", used_by_policy=["sex", "race"])
    assert mapping.columns == {"sex": "gender", "race": "applicant_race", "age": "age"}
    assert parse_sensitive("", used_by_policy=["sex"]).columns == {}


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("sex=gender,sex=other", "mapped twice"),
        ("sex=", "give the column"),
        ("gender", "did you mean --sensitive sex=gender"),
        ("colour_of_car", "not a protected class"),
        ("9lives=x", "not a protected class name"),
    ],
)
def test_a_bad_sensitive_spec_is_refused_by_name(spec: str, needle: str) -> None:
    with pytest.raises(MetricInputError, match=needle):
        parse_sensitive(spec, used_by_policy=["sex", "race"])


def test_a_class_mapped_on_the_command_line_and_in_a_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "classes.yaml"
    file.write_text("classes:\n  sex: gender\n  race: applicant_race\nproxies: [zip3]\n", encoding="utf-8")
    from_file = parse_mapping_file(file)
    assert from_file == ClassMapping({"sex": "gender", "race": "applicant_race"}, ("zip3",))
    with pytest.raises(MetricInputError, match="'sex' is mapped twice"):
        parse_sensitive("sex=sex_code", used_by_policy=["sex"]).merged(from_file)
    file.write_text("classes: {sex: gender}\nproxy: [zip3]\n", encoding="utf-8")
    with pytest.raises(MetricInputError, match="unknown keys"):
        parse_mapping_file(file)


def test_band_labels_read_as_ages() -> None:
    assert band_labels([40]) == ["under 40", "40 and over"]
    assert band_labels([25, 40, 62]) == ["under 25", "25 to 39", "40 to 61", "62 and over"]


def test_numeric_age_is_banded_by_the_policy_and_a_column_of_bands_is_kept() -> None:
    frame = pd.DataFrame({"borrower_age": [18, 39, 40, 75], "age_band": ["18-39", "18-39", "40+", "40+"]})
    banded = class_frame(frame, ClassMapping({"age": "borrower_age"}), ["age"], {"age": [40]}, source="x")
    assert banded["age"].tolist() == ["under 40", "under 40", "40 and over", "40 and over"]
    kept = class_frame(frame, ClassMapping({"age": "age_band"}), ["age"], {"age": [40]}, source="x")
    assert kept["age"].tolist() == ["18-39", "18-39", "40+", "40+"]
    with pytest.raises(MetricInputError, match="declares no age bands"):
        class_frame(frame, ClassMapping({"age": "borrower_age"}), ["age"], {}, source="x")
    mixed = pd.DataFrame({"a": ["18", "40", "unknown", "70"]})
    with pytest.raises(MetricInputError, match="mixes numbers and labels"):
        class_frame(mixed, ClassMapping({"age": "a"}), ["age"], {"age": [40]}, source="x")
    with pytest.raises(MetricInputError, match="'nope' \\(protected class age\\) is not in x"):
        class_frame(frame, ClassMapping({"age": "nope"}), ["age"], {"age": [40]}, source="x")


def test_coverage_names_what_the_policy_needs() -> None:
    short = coverage(["sex", "race"], ["sex", "race"], 0, ["sex"], policy="nyc-ll144")
    assert short.not_mapped == ("race",) and short.shortfall is not None and "race" in short.shortfall
    assert coverage(["sex", "race"], [], 1, ["race"], policy="p").shortfall is None
    assert "at least 1" in (coverage(["sex", "race"], [], 1, [], policy="p").shortfall or "")


def test_features_on_prohibited_bases_by_mapping_proxy_and_plain_name() -> None:
    mapping = ClassMapping({"sex": "gender_flag", "race": "applicant_race"}, ("zip3",))
    found = features_on_prohibited_bases(
        ["gender_flag", "zip3", "Marital-Status", "income_k", "applicant_race", "religion"],
        mapping,
        ["sex", "marital_status", "religion"],
    )
    assert set(found) == {"gender_flag", "zip3", "Marital-Status", "religion"}  # race is not a basis here
    assert found["zip3"] == "a declared proxy" and "marital_status" in found["Marital-Status"]


# -- end to end on data the project has never seen ----------------------------------------------------
def synthetic(rows: int = 3000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gender = rng.choice(["F", "M"], rows)
    race = rng.choice(["group-a", "group-b", "group-c"], rows, p=[0.6, 0.3, 0.1])
    income = rng.normal(60, 15, rows)
    debt = rng.uniform(0, 1, rows)
    years = rng.integers(0, 30, rows)
    logit = 0.05 * (income - 60) - 2.0 * (debt - 0.5) + 0.03 * (years - 15)
    return pd.DataFrame(
        {
            "gender": gender,
            "applicant_race": race,
            "borrower_age": rng.integers(18, 80, rows),
            "zip3": rng.integers(100, 999, rows),
            "income_k": income,
            "debt_ratio": debt,
            "years_employed": years,
            "repaid": (rng.uniform(0, 1, rows) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )


def fit(frame: pd.DataFrame, features: list[str], path: Path) -> Path:
    model = LogisticRegression(max_iter=500).fit(frame[features], frame["repaid"])
    save_model(model, path)
    return path


@pytest.fixture
def lender(tmp_path: Path) -> dict[str, Path]:
    frame = synthetic()
    train, holdout = frame.iloc[:2000], frame.iloc[2000:]
    paths = {"train": tmp_path / "train.csv", "eval": tmp_path / "eval.csv"}
    train.to_csv(paths["train"], index=False)
    holdout.to_csv(paths["eval"], index=False)
    paths["fair"] = fit(train, FAIR_FEATURES, tmp_path / "fair.skops")
    paths["proxy"] = fit(train, [*FAIR_FEATURES, "zip3"], tmp_path / "proxy.skops")
    return paths


def register(ledger: Ledger, paths: dict[str, Path], model: str) -> None:
    register_datasets(ledger, paths)
    _register_model(ledger, model, artifact_sha256(paths[model]))


def register_datasets(ledger: Ledger, paths: dict[str, Path]) -> None:
    for role in ("train", "eval"):
        ledger.append(
            "dataset.registered",
            {
                "dataset_id": f"lender-{role}",
                "content_sha256": artifact_sha256(paths[role]),
                "columns": [{"name": c, "type": "number"} for c in synthetic(5).columns],
                "rows": 2000 if role == "train" else 1000,
                "source_uri": f"file:{paths[role].name}",
                "licence": "internal",
                "sensitive_attributes": ["gender", "applicant_race", "borrower_age"],
            },
            actor=SCIENTIST,
        )


def _register_model(ledger: Ledger, model: str, artifact: str) -> None:
    ledger.append(
        "training_run.recorded",
        {
            "run_id": f"run-{model}",
            "code_version": "t",
            "input_datasets": ["lender-train"],
            "artifact_sha256": artifact,
        },
        actor=SCIENTIST,
    )
    ledger.append(
        "model.registered",
        {"model": {"name": f"lender-{model}", "version": "1"}, "artifact_sha256": artifact, "run_id": f"run-{model}"},
        actor=SCIENTIST,
    )


@pytest.fixture
def gate(
    gov: Ledger, db_url: str, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", db_url)
    monkeypatch.setenv("GOVLEDGER_HOME", str(home))

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exited:
            main(["gate", *args])
        captured = capsys.readouterr()
        return int(exited.value.code or 0), captured.out, captured.err

    return run


def args(paths: dict[str, Path], model: str, policy: str, *extra: str) -> list[str]:
    return [
        "--policy",
        policy,
        "--model",
        str(paths[model]),
        "--data",
        str(paths["eval"]),
        "--target",
        "repaid",
        *extra,
    ]


def test_four_fifths_evaluates_the_mapped_classes_and_names_the_rest(
    gov: Ledger, gate: Run, lender: dict[str, Path], tmp_path: Path
) -> None:
    register(gov, lender, "fair")
    publish_policy(gov, load_policy("four-fifths"), actor=local_actor())
    junit, summary = tmp_path / "gate.xml", tmp_path / "gate.md"
    code, out, err = gate(
        *args(lender, "fair", "four-fifths", "--sensitive", "sex=gender", "--junit", str(junit)),
        "--summary",
        str(summary),
    )
    assert code == 0, out + err
    assert "not evaluated" in out and "race" in out and "ethnicity" in out
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert cases["impact-ratio-sex"].find("skipped") is None
    skipped = cases["impact-ratio-race"].find("skipped")
    assert skipped is not None and "race is not mapped" in (skipped.get("message") or "")
    assert "sex = `gender`" in summary.read_text() and "not evaluated: race, ethnicity, age" in summary.read_text()
    entry = next(iter(gov.entries(kind="evaluation.recorded"))).data
    assert entry["protected_classes"]["mapping"] == {"sex": "gender"}
    assert entry["protected_classes"]["not_mapped"] == ["race", "ethnicity", "age"]
    verdicts = {r["rule_id"]: r["verdict"] for r in entry["rules"]}
    assert verdicts == {
        "impact-ratio-sex": "pass",
        "impact-ratio-race": "not_evaluated",
        "impact-ratio-ethnicity": "not_evaluated",
        "impact-ratio-age": "not_evaluated",
    }


def test_nyc_ll144_without_race_is_insufficient_evidence_naming_race(
    gov: Ledger, gate: Run, lender: dict[str, Path]
) -> None:
    register(gov, lender, "fair")
    publish_policy(gov, load_policy("nyc-ll144"), actor=local_actor())
    code, out, err = gate(*args(lender, "fair", "nyc-ll144", "--sensitive", "sex=gender"))
    assert code == 3, out + err
    assert "needs protected class race" in out
    entry = next(iter(gov.entries(kind="evaluation.recorded"))).data
    assert entry["verdict"] == "insufficient_evidence" and "race" in entry["protected_classes"]["shortfall"]
    code, out, err = gate(*args(lender, "fair", "nyc-ll144", "--sensitive", "sex=gender,race=applicant_race"))
    assert code == 0, out + err


def test_a_pack_with_no_class_mapped_cannot_pass(gov: Ledger, gate: Run, lender: dict[str, Path]) -> None:
    register(gov, lender, "fair")
    code, out, err = gate(*args(lender, "fair", "four-fifths", "--dry-run"))
    assert code == 3, out + err
    assert "at least 1" in out


def test_ecoa_blocks_a_declared_proxy_and_names_it(gov: Ledger, gate: Run, lender: dict[str, Path]) -> None:
    code, out, err = gate(
        *args(lender, "proxy", "ecoa-credit", "--sensitive", "sex=gender,race=applicant_race,age=borrower_age"),
        "--proxy",
        "zip3",
        "--dry-run",
        "--json",
    )
    assert code == 1, out + err
    record = json.loads(out)
    rules = {r["rule_id"]: r for r in record["rules"]}
    assert rules["no-prohibited-basis-features"]["verdict"] == "fail"
    assert rules["no-prohibited-basis-features"]["details"]["problems"] == ["model input zip3 is a declared proxy"]
    assert record["protected_classes"]["proxies"] == ["zip3"]
    assert rules["impact-ratio-age"]["groups"] and {g["group"] for g in rules["impact-ratio-age"]["groups"]} == {
        "under 62",
        "62 and over",
    }
    assert rules["impact-ratio-ethnicity"]["verdict"] == "not_evaluated"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--sensitive", "sex=sex"], "'sex' (protected class sex) is not in"),
        (["--sensitive", "sex=gender,sex=applicant_race"], "mapped twice"),
        (["--sensitive", "gender"], "did you mean --sensitive sex=gender"),
        (["--sensitive", "sex=gender", "--proxy", "postcode"], "proxy column 'postcode'"),
    ],
)
def test_a_bad_mapping_is_exit_2_and_records_nothing(
    gov: Ledger, gate: Run, lender: dict[str, Path], extra: list[str], needle: str
) -> None:
    register(gov, lender, "fair")
    publish_policy(gov, load_policy("four-fifths"), actor=local_actor())
    size = gov.size
    code, out, err = gate(*args(lender, "fair", "four-fifths", *extra))
    assert code == 2 and err.startswith("govledger: error:") and err.count("\n") == 1, out + err
    assert needle in err
    assert gov.size == size


def test_dry_run_on_an_unregistered_model_prints_the_whole_record(gate: Run, lender: dict[str, Path]) -> None:
    code, out, err = gate(*args(lender, "fair", "four-fifths", "--sensitive", "sex=gender", "--dry-run", "--json"))
    assert code == 0, out + err
    record = json.loads(out)
    assert record["model"] is None and record["evaluation_id"] is None
    assert record["recorded"] == "not recorded (--dry-run)"
    sex = next(r for r in record["rules"] if r["rule_id"] == "impact-ratio-sex")
    assert {g["group"] for g in sex["groups"]} == {"F", "M"} and sex["value"] is not None


def test_recording_an_unregistered_model_says_how_to_register_it(
    gov: Ledger, gate: Run, lender: dict[str, Path]
) -> None:
    publish_policy(gov, load_policy("four-fifths"), actor=local_actor())
    size = gov.size
    code, _, err = gate(*args(lender, "fair", "four-fifths", "--sensitive", "sex=gender"))
    assert code == 2 and "is not registered" in err and "--register NAME@VERSION" in err and err.count("\n") == 1
    assert gov.size == size


def test_the_ledger_refuses_a_record_that_hides_a_class_it_mapped(
    gov: Ledger, gate: Run, lender: dict[str, Path]
) -> None:
    """A record may call a rule not evaluated only for a class its own mapping leaves out."""
    register(gov, lender, "fair")
    publish_policy(gov, load_policy("nyc-ll144"), actor=local_actor())
    _, out, _ = gate(
        *args(lender, "fair", "nyc-ll144", "--sensitive", "sex=gender,race=applicant_race", "--dry-run", "--json")
    )
    record = json.loads(out)
    record.pop("recorded")
    record["model"] = {"name": "lender-fair", "version": "1"}
    record["evaluation_id"] = "ev-forged-1"
    for rule in record["rules"]:
        if "race" in rule["by"]:
            rule.update(verdict="not_evaluated", value=None, interval=None)
    size = gov.size
    with pytest.raises(InvalidInputError, match="verdicts do not follow"):
        gov.append("evaluation.recorded", record, actor=local_actor())
    dropped = {**record, "protected_classes": {**record["protected_classes"], "mapping": {"sex": "gender"}}}
    dropped["protected_classes"]["not_mapped"] = ["race"]
    with pytest.raises(InvalidInputError, match="does not follow"):  # race unmapped: the pack needs it
        gov.append("evaluation.recorded", dropped, actor=local_actor())
    assert gov.size == size


def test_register_records_the_run_and_the_model_in_the_same_step(
    gov: Ledger, gate: Run, lender: dict[str, Path]
) -> None:
    register_datasets(gov, lender)
    publish_policy(gov, load_policy("four-fifths"), actor=local_actor())
    step = ["--register", "lender-fair@2", "--training-run", "run-ci-7", "--training-data", "lender-train"]
    code, out, err = gate(*args(lender, "fair", "four-fifths", "--sensitive", "sex=gender", *step))
    assert code == 0, out + err
    kinds = [e.kind for e in gov.entries()][-3:]
    assert kinds == ["training_run.recorded", "model.registered", "evaluation.recorded"]
    # what was trained is read off the model the gate scored, not typed
    registered = gov.entries(kind="model.registered")[-1].data
    fitted = load_model(lender["fair"])
    assert registered["estimator"] == f"{type(fitted).__module__}.{type(fitted).__qualname__}" or registered[
        "estimator"
    ].startswith("sklearn.pipeline.Pipeline: ")
    assert registered["input_features"] == [str(f) for f in fitted.feature_names_in_]
    assert registered["hyperparameters"] and all(
        v is None or isinstance(v, str | int | float | bool) for v in registered["hyperparameters"].values()
    )
    size = gov.size
    code, out, err = gate(*args(lender, "fair", "four-fifths", "--sensitive", "sex=gender", *step))
    assert code == 0 and "was already recorded" in out and gov.size == size, out + err
    other = ["--register", "lender-fair@2", "--training-run", "run-ci-7"]
    code, _, err = gate(*args(lender, "proxy", "four-fifths", "--sensitive", "sex=gender", *other))
    assert code == 2 and "already registered with another artifact" in err and gov.size == size


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--register", "lender-fair@3"], "needs --training-run"),
        (["--register", "lender fair", "--training-run", "r"], "expected NAME@VERSION"),
        (["--register", "lender-fair@3", "--training-run", "r", "--dry-run"], "cannot be combined with --dry-run"),
        (["--register", "lender-fair@3", "--training-run", "run-new"], "add --training-data"),
    ],
)
def test_a_bad_registration_is_exit_2_and_records_nothing(
    gov: Ledger, gate: Run, lender: dict[str, Path], extra: list[str], needle: str
) -> None:
    register_datasets(gov, lender)
    publish_policy(gov, load_policy("four-fifths"), actor=local_actor())
    size = gov.size
    code, out, err = gate(*args(lender, "fair", "four-fifths", "--sensitive", "sex=gender", *extra))
    assert code == 2 and needle in err and err.count("\n") == 1, out + err
    assert gov.size == size


def test_a_row_lowered_only_by_a_prohibited_basis_has_no_lawful_reason() -> None:
    """explainable_share counts a row as explainable only if a lawful feature lowered its score."""
    from policies.explain import explain_model
    from policies.explain.rules import explainable_share

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"marital": rng.normal(size=600), "noise": rng.normal(size=600) * 1e-3})
    target = (frame["marital"] + rng.normal(scale=0.3, size=600) > 0).astype(int)
    model = LogisticRegression().fit(frame, target)
    explanation = explain_model(model, frame, background_size=50, sample_size=200, seed=0)
    plain = explainable_share(explanation)
    lawful = explainable_share(explanation, excluded={"marital"})
    assert lawful.details["excluded_from_reasons"] == ["marital"]
    assert plain.value is not None and lawful.value is not None
    # Only `noise` may be cited now: it lowers about half the rows, so about half have a lawful reason.
    assert lawful.value < plain.value and 0.3 < lawful.value < 0.7


def test_nyc_ll144_audits_a_score_only_model_on_scoring_rates(
    gov: Ledger, gate: Run, lender: dict[str, Path], tmp_path: Path
) -> None:
    """6 RCNY 5-301(c): a regressor is judged on the rate of scores above the median; the rules on
    selections cannot be judged without a threshold and say so (they are warnings in this pack)."""
    from sklearn.linear_model import Ridge

    train = pd.read_csv(lender["train"])
    holdout = pd.read_csv(lender["eval"])
    lender["scorer"] = tmp_path / "scorer.skops"
    save_model(Ridge().fit(train[FAIR_FEATURES], train["income_k"] / 100), lender["scorer"])
    register(gov, lender, "scorer")
    publish_policy(gov, load_policy("nyc-ll144"), actor=local_actor())
    code, out, err = gate(*args(lender, "scorer", "nyc-ll144", "--sensitive", "sex=gender,race=applicant_race"))
    assert code == 0, out + err
    entry = next(iter(gov.entries(kind="evaluation.recorded"))).data
    rules = {r["rule_id"]: r for r in entry["rules"]}
    assert rules["impact-ratio-sex"]["verdict"] == "insufficient_evidence"
    assert "gives scores, not selections" in rules["impact-ratio-sex"]["message"]
    scores = pd.Series(Ridge().fit(train[FAIR_FEATURES], train["income_k"] / 100).predict(holdout[FAIR_FEATURES]))
    rates = (scores > scores.median()).groupby(holdout["applicant_race"]).mean()
    assert rules["scoring-rate-race"]["value"] == pytest.approx(rates.min() / rates.max(), abs=1e-12)
    assert rules["scoring-rate-race"]["details"]["median_score"] == pytest.approx(scores.median())
