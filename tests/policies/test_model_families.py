"""`govledger gate` end to end on every common model family, on synthetic data the gate has never
seen: fairness and SHAP rules, JUnit, and the recorded `evaluation.recorded` entry. Also the trust
rule for model files, probability thresholds, score-only models, and Parquet evaluation data.

Every model is fitted single-threaded (n_jobs=1 and threadpoolctl) so the run is reproducible and
does not fight other processes for cores.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
from xgboost import XGBClassifier

from govledger.cli import main
from govledger.registry import open_ledger
from ledger.api import Ledger, local_actor
from ledger.config import Settings
from ledger.storage.sequencer import CheckpointPolicy
from policies.artifacts import artifact_sha256, save_model
from policies.loader import load_policy
from policies.record import publish_policy

ROWS = 2000
NUMERIC = ["tenure", "debt_ratio", "score_a"]
TARGET = "approved"

# Protected class -> the data's column. Written once here so that switching to the coming
# `--sensitive sex=gender,race=applicant_race` form is a change to `sensitive_args` and `by` only.
PROTECTED = {"sex": "gender", "race": "applicant_race"}


def sensitive_args() -> list[str]:
    """Protected classes mapped to the synthetic data's own column names."""
    return ["--sensitive", ",".join(f"{name}={column}" for name, column in PROTECTED.items())]


def by(protected: str) -> str:
    """Policies are written over the class, not the column."""
    return protected


def policy_yaml(*, extra: str = "", rules: str | None = None) -> str:
    """Loose thresholds: every family passes, so the test is about the measurements being made and
    recorded (and checked against scikit-learn), not about one model's fairness."""
    default_rules = f"""
  - id: impact-ratio-gender
    metric: impact_ratio
    by: [{by("sex")}]
    comparison: ">="
    threshold: 0.01
  - id: selection-difference-race
    metric: selection_rate_difference
    by: [{by("race")}]
    comparison: "<="
    threshold: 1.0
  - id: auc
    metric: roc_auc
    comparison: ">="
    threshold: 0.6
  - id: sensitive-share
    metric: sensitive_attribution_share
    comparison: "<="
    threshold: 1.0
    params: {{proxies: [score_a]}}
  - id: additivity
    metric: additivity_error
    comparison: "<="
    threshold: 0.001
  - id: explainable
    metric: explainable_share
    comparison: ">="
    threshold: 0.0
"""
    return f"""name: families
version: "VERSION"
explainability: {{background_size: 8, sample_size: 24, seed: 3}}
{extra}
rules:{rules if rules is not None else default_rules}"""


class Scaled(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A classifier from outside the trusted libraries: logistic regression on features divided by a constant."""

    def __init__(self, factor: float = 2.0) -> None:
        self.factor = factor

    def fit(self, x: pd.DataFrame, y: Any) -> Scaled:
        self.inner_ = LogisticRegression().fit(x / self.factor, y)
        self.classes_ = self.inner_.classes_
        self.feature_names_in_ = self.inner_.feature_names_in_
        return self

    def predict(self, x: pd.DataFrame) -> Any:
        return self.inner_.predict(x / self.factor)

    def predict_proba(self, x: pd.DataFrame) -> Any:
        return self.inner_.predict_proba(x / self.factor)


SCALED_TYPE = f"{Scaled.__module__}.Scaled"


def _pipeline() -> Pipeline:
    encode = ColumnTransformer(
        [("region", OneHotEncoder(handle_unknown="ignore"), ["region"])], remainder="passthrough"
    )
    return Pipeline([("encode", encode), ("model", GradientBoostingClassifier(n_estimators=20, random_state=0))])


# family -> (estimator, the explainer the gate must pick for it)
FAMILIES: dict[str, tuple[Callable[[], Any], str]] = {
    "logistic_regression": (lambda: LogisticRegression(), "linear"),
    "decision_tree": (lambda: DecisionTreeClassifier(max_depth=4, random_state=0), "tree"),
    "random_forest": (lambda: RandomForestClassifier(20, max_depth=5, n_jobs=1, random_state=0), "tree"),
    "extra_trees": (lambda: ExtraTreesClassifier(20, max_depth=5, n_jobs=1, random_state=0), "tree"),
    "gradient_boosting": (lambda: GradientBoostingClassifier(n_estimators=20, random_state=0), "tree"),
    "hist_gradient_boosting": (lambda: HistGradientBoostingClassifier(max_iter=20, random_state=0), "tree"),
    "svc": (lambda: SVC(probability=True, random_state=0), "permutation"),
    "k_neighbors": (lambda: KNeighborsClassifier(n_jobs=1), "permutation"),
    "gaussian_nb": (lambda: GaussianNB(), "permutation"),
    "mlp": (lambda: MLPClassifier((8,), max_iter=300, random_state=0), "permutation"),
    "calibrated": (lambda: CalibratedClassifierCV(LogisticRegression(), cv=3), "permutation"),
    "pipeline_one_hot": (_pipeline, "tree"),
    "xgboost": (lambda: XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1, random_state=0), "tree"),
    "lightgbm": (lambda: LGBMClassifier(n_estimators=20, n_jobs=1, random_state=0, verbose=-1), "tree"),
}


def synthetic(rows: int = ROWS, seed: int = 7) -> pd.DataFrame:
    """Applicants with a proxy (score_a leans on gender), a categorical region and a 0/1 outcome."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(["woman", "man"], rows)
    race = rng.choice(["group_a", "group_b", "group_c"], rows, p=[0.5, 0.3, 0.2])
    tenure = rng.gamma(2.0, 3.0, rows)
    debt = rng.beta(2, 5, rows)
    score_a = rng.normal(0, 1, rows) + 0.4 * (gender == "man")
    region = rng.choice(["north", "south", "east"], rows)
    logit = 0.15 * tenure - 3.0 * debt + 0.9 * score_a + 0.5 * (region == "north") - 0.3
    approved = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pd.DataFrame(
        {
            "tenure": tenure,
            "debt_ratio": debt,
            "score_a": score_a,
            "region": region,
            "gender": gender,
            "applicant_race": race,
            TARGET: approved,
        }
    )


@dataclass
class World:
    """One ledger, the synthetic data registered, and every family's model file registered."""

    url: str
    home: Path
    directory: Path
    train: pd.DataFrame
    eval_csv: Path
    models: dict[str, Path]
    fitted: dict[str, Any]
    published: set[str] = field(default_factory=set)

    def ledger(self) -> Ledger:
        return open_ledger(
            Settings(database_url=self.url, home=self.home),
            policy=CheckpointPolicy(after_batch=True, max_delay_s=None),
        )


def _columns(frame: pd.DataFrame) -> list[dict[str, str]]:
    return [{"name": str(c), "type": str(t)} for c, t in frame.dtypes.items()]


def register_data(ledger: Ledger, dataset_id: str, path: Path, frame: pd.DataFrame) -> None:
    ledger.append(
        "dataset.registered",
        {
            "dataset_id": dataset_id,
            "content_sha256": artifact_sha256(path),
            "columns": _columns(frame),
            "rows": len(frame),
            "source_uri": f"file:{path.name}",
            "licence": "synthetic (generated by the test)",
            "sensitive_attributes": list(PROTECTED.values()),
        },
        actor=local_actor(),
    )


def register_model(ledger: Ledger, name: str, path: Path) -> None:
    artifact = artifact_sha256(path)
    ledger.append(
        "training_run.recorded",
        {
            "run_id": f"run-{name}",
            "code_version": "tests",
            "input_datasets": ["synth-train"],
            "artifact_sha256": artifact,
        },
        actor=local_actor(),
    )
    ledger.append(
        "model.registered",
        {
            "model": {"name": name.replace("_", "-"), "version": "1"},
            "artifact_sha256": artifact,
            "run_id": f"run-{name}",
        },
        actor=local_actor(),
    )


def features_of(name: str) -> list[str]:
    return [*NUMERIC, "region"] if name == "pipeline_one_hot" else NUMERIC


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    directory = tmp_path_factory.mktemp("families")
    frame = synthetic()
    train, evaluation = frame.iloc[: ROWS // 2].reset_index(drop=True), frame.iloc[ROWS // 2 :].reset_index(drop=True)
    train_csv, eval_csv = directory / "train.csv", directory / "eval.csv"
    train.to_csv(train_csv, index=False)
    evaluation.to_csv(eval_csv, index=False)
    world = World(f"sqlite:///{directory / 'ledger.db'}", directory / "home", directory, train, eval_csv, {}, {})
    ledger = world.ledger()
    try:
        ledger.init(origin="families.example/log")
        register_data(ledger, "synth-train", train_csv, train)
        register_data(ledger, "synth-eval", eval_csv, evaluation)
        with threadpool_limits(1):
            for name, (make, _) in FAMILIES.items():
                model = make().fit(train[features_of(name)], train[TARGET])
                world.models[name] = directory / f"{name}.skops"
                world.fitted[name] = model
                save_model(model, world.models[name])
                register_model(ledger, name, world.models[name])
    finally:
        ledger.close()
    yield world


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def gate(world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.delenv("GOVLEDGER_GATE_TRUSTED_TYPES", raising=False)
    monkeypatch.delenv("GOVLEDGER_SIGNING_KEY", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        with threadpool_limits(1), pytest.raises(SystemExit) as exited:
            main(["--database-url", world.url, "--home", str(world.home), *args])
        captured = capsys.readouterr()
        return int(exited.value.code or 0), captured.out, captured.err

    return run


def gate_args(world: World, model: Path, policy: Path, *extra: str, data: Path | None = None) -> list[str]:
    return [
        "gate",
        "--policy",
        str(policy),
        "--model",
        str(model),
        "--data",
        str(data or world.eval_csv),
        "--target",
        TARGET,
        *sensitive_args(),
        *extra,
    ]


def write_policy(directory: Path, name: str, text: str, world: World | None = None) -> Path:
    """The policy file, its version named after its text; published in `world`'s ledger when given
    (the gate records evaluations only under published policies)."""
    path = directory / f"{name}.yaml"
    path.write_text(text.replace("VERSION", hashlib.sha256(text.encode()).hexdigest()[:10]), encoding="utf-8")
    if world is not None:
        loaded = load_policy(str(path))
        if loaded.sha256 not in world.published:
            ledger = world.ledger()
            try:
                publish_policy(ledger, loaded, actor=local_actor(), activate=False)
            finally:
                ledger.close()
            world.published.add(loaded.sha256)
    return path


def recorded(world: World) -> list[dict[str, Any]]:
    ledger = world.ledger()
    try:
        return [dict(e.data) for e in ledger.entries(kind="evaluation.recorded")]
    finally:
        ledger.close()


def ledger_size(world: World) -> int:
    ledger = world.ledger()
    try:
        return ledger.size
    finally:
        ledger.close()


def rules_of(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["rule_id"]: rule for rule in entry["rules"]}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_model_family_is_gated_measured_explained_and_recorded(
    family: str, world: World, gate: Run, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path, "families", policy_yaml(), world)
    junit = tmp_path / "gate.xml"
    code, out, err = gate(*gate_args(world, world.models[family], policy, "--junit", str(junit), "--json"))
    assert code == 0, out + err
    payload = json.loads(out)
    assert payload["verdict"] == "passed"
    assert payload["model"] == {"name": family.replace("_", "-"), "version": "1"}
    entry = next(e for e in recorded(world) if e["evaluation_id"] == payload["evaluation_id"])
    rules = rules_of(entry)

    # the score the gate used is P(positive) from the model itself
    evaluation = pd.read_csv(world.eval_csv)
    model = world.fitted[family]
    expected_auc = roc_auc_score(evaluation[TARGET], model.predict_proba(evaluation[features_of(family)])[:, 1])
    assert rules["auc"]["value"] == pytest.approx(expected_auc, abs=1e-12)
    # fairness on the sensitive columns, from the model's own predict
    predicted = model.predict(evaluation[features_of(family)])
    rates = pd.Series(predicted).groupby(evaluation["gender"]).mean()
    assert rules["impact-ratio-gender"]["value"] == pytest.approx(rates.min() / rates.max(), abs=1e-12)
    assert entry["parameters"]["predictions"] == {"selection": "predict", "score": "probability"}
    assert entry["parameters"]["threshold"] is None

    # SHAP: the explainer expected for the family, named in every explainability rule's details
    expected_kind = FAMILIES[family][1]
    for rule_id in ("sensitive-share", "additivity", "explainable"):
        explainer = rules[rule_id]["details"]["explainer"]
        assert explainer["kind"] == expected_kind, explainer
        assert explainer["sample_size"] == 24 and explainer["seed"] == 3
        assert ("background_size" in explainer) == (expected_kind != "tree")
        if expected_kind == "permutation":
            assert explainer["background_size"] == 8
    assert entry["explainability"]["explainer_kind"] == expected_kind
    assert rules["additivity"]["value"] <= 1e-6
    assert rules["explainable"]["details"]["not_additive"] == 0

    # every type in the file trusted by the library rule: nothing explicit
    assert entry["trusted_types"]["explicit"] == []
    assert "xgboost" in entry["trusted_types"]["default_libraries"]
    if family in ("xgboost", "lightgbm"):
        assert entry["libraries"][family] == importlib.metadata.version(family)
    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    assert set(cases) == set(rules) and all(case.find("failure") is None for case in cases.values())


@pytest.fixture(scope="module")
def scaled_model(world: World) -> Path:
    path = world.directory / "scaled.skops"
    model = Scaled().fit(world.train[NUMERIC], world.train[TARGET])
    save_model(model, path, trust=[SCALED_TYPE])
    ledger = world.ledger()
    try:
        register_model(ledger, "scaled", path)
    finally:
        ledger.close()
    return path


def test_a_type_from_outside_the_libraries_is_refused_naming_it_until_trusted(
    world: World, gate: Run, scaled_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = write_policy(tmp_path, "families", policy_yaml(), world)
    size = ledger_size(world)
    code, out, err = gate(*gate_args(world, scaled_model, policy))
    assert code == 2, out + err
    assert err.startswith("govledger: error:") and SCALED_TYPE in err and "--trust TYPE" in err
    assert ledger_size(world) == size

    code, out, err = gate(*gate_args(world, scaled_model, policy, "--trust", SCALED_TYPE, "--json"))
    assert code == 0, out + err
    assert json.loads(out)["trusted_types"]["explicit"] == [{"type": SCALED_TYPE, "source": "cli"}]
    assert recorded(world)[-1]["trusted_types"]["explicit"] == [{"type": SCALED_TYPE, "source": "cli"}]

    trusting = write_policy(tmp_path, "trusting", policy_yaml(extra=f"trust: [{SCALED_TYPE}]"), world)
    code, out, err = gate(*gate_args(world, scaled_model, trusting, "--json"))
    assert code == 0, out + err
    assert json.loads(out)["trusted_types"]["explicit"] == [{"type": SCALED_TYPE, "source": "policy"}]

    monkeypatch.setenv("GOVLEDGER_GATE_TRUSTED_TYPES", f"some.Other, {SCALED_TYPE}")
    code, out, err = gate(*gate_args(world, scaled_model, policy, "--json"))
    assert code == 0, out + err
    assert json.loads(out)["trusted_types"]["explicit"] == [{"type": SCALED_TYPE, "source": "settings"}]


@pytest.mark.parametrize("bad", ["1.5", "-0.1", "nan"])
def test_a_threshold_outside_zero_to_one_is_a_usage_error(world: World, gate: Run, tmp_path: Path, bad: str) -> None:
    policy = write_policy(tmp_path, "families", policy_yaml(), world)
    size = ledger_size(world)
    code, out, err = gate(*gate_args(world, world.models["logistic_regression"], policy, "--threshold", bad))
    assert code == 2, out + err
    assert "threshold" in err and "between 0 and 1" in err
    in_policy = write_policy(tmp_path, "bad-threshold", policy_yaml(extra="threshold: 1.5"))
    code, _, err = gate(*gate_args(world, world.models["logistic_regression"], in_policy))
    assert code == 2 and "threshold" in err
    assert ledger_size(world) == size


def test_a_threshold_selects_on_the_probability_and_the_command_line_wins(
    world: World, gate: Run, tmp_path: Path
) -> None:
    family = "gradient_boosting"
    evaluation = pd.read_csv(world.eval_csv)
    proba = world.fitted[family].predict_proba(evaluation[NUMERIC])[:, 1]

    def impact_ratio(threshold: float) -> float:
        rates = pd.Series(proba >= threshold).groupby(evaluation["gender"]).mean()
        return float(rates.min() / rates.max())

    assert impact_ratio(0.3) != impact_ratio(0.7)  # the thresholds matter on this data
    policy = write_policy(tmp_path, "at-07", policy_yaml(extra="threshold: 0.7"), world)
    code, out, err = gate(*gate_args(world, world.models[family], policy, "--json"))
    assert code == 0, out + err
    payload = json.loads(out)
    assert payload["parameters"]["threshold"] == {"value": 0.7, "source": "policy"}
    assert payload["parameters"]["predictions"]["selection"] == "predict_proba[:, 1] >= 0.7"
    assert rules_of(payload)["impact-ratio-gender"]["value"] == pytest.approx(impact_ratio(0.7), abs=1e-12)

    code, out, err = gate(*gate_args(world, world.models[family], policy, "--threshold", "0.3", "--json"))
    assert code == 0, out + err
    payload = json.loads(out)
    assert payload["parameters"]["threshold"] == {"value": 0.3, "source": "cli"}
    assert rules_of(payload)["impact-ratio-gender"]["value"] == pytest.approx(impact_ratio(0.3), abs=1e-12)


SCORE_RULES = """
  - id: auc
    metric: roc_auc
    by: [sex]
    comparison: ">="
    threshold: 0.5
  - id: additivity
    metric: additivity_error
    comparison: "<="
    threshold: 0.001
"""


def test_a_regressor_is_judged_on_its_scores_and_selects_only_with_a_threshold(
    world: World, gate: Run, tmp_path: Path
) -> None:
    path = world.directory / "regressor.skops"
    with threadpool_limits(1):
        regressor = GradientBoostingRegressor(n_estimators=20, random_state=0).fit(
            world.train[NUMERIC], world.train[TARGET]
        )
    save_model(regressor, path)
    ledger = world.ledger()
    try:
        register_model(ledger, "regressor", path)
    finally:
        ledger.close()
    evaluation = pd.read_csv(world.eval_csv)
    scores = regressor.predict(evaluation[NUMERIC])

    only_scores = write_policy(tmp_path, "scores", policy_yaml(rules=SCORE_RULES), world)
    code, out, err = gate(*gate_args(world, path, only_scores, "--json", "--dry-run"))
    assert code == 0, out + err
    payload = json.loads(out)
    assert payload["verdict"] == "passed" and payload["recorded"] == "not recorded (--dry-run)"
    code, out, err = gate(*gate_args(world, path, only_scores, "--json"))
    assert code == 0, out + err
    payload = json.loads(out)
    assert payload["parameters"]["predictions"]["score"] == "regression"
    auc = rules_of(payload)["auc"]
    women = (evaluation["gender"] == "woman").to_numpy()
    by_gender = {
        "woman": roc_auc_score(evaluation[TARGET][women], scores[women]),
        "man": roc_auc_score(evaluation[TARGET][~women], scores[~women]),
    }
    assert auc["value"] == pytest.approx(min(by_gender.values()), abs=1e-12)
    assert all("selected" not in group for group in auc["groups"])
    assert rules_of(payload)["additivity"]["details"]["explainer"]["kind"] == "tree"

    full = write_policy(tmp_path, "full", policy_yaml(), world)
    code, out, err = gate(*gate_args(world, path, full))
    assert code == 3, out + err  # the blocking rules on selections cannot be judged without a threshold
    assert "impact-ratio-gender" in out and "gives scores, not selections" in out and "--threshold" in out

    code, out, err = gate(*gate_args(world, path, full, "--threshold", "0.5", "--json"))
    assert code == 0, out + err
    payload = json.loads(out)
    assert payload["parameters"]["predictions"]["selection"] == "predict >= 0.5"
    rates = pd.Series(scores >= 0.5).groupby(evaluation["gender"]).mean()
    assert rules_of(payload)["impact-ratio-gender"]["value"] == pytest.approx(rates.min() / rates.max(), abs=1e-12)


def test_a_classifier_with_only_a_decision_function_is_scored_by_it(world: World, gate: Run, tmp_path: Path) -> None:
    path = world.directory / "linear-svc.skops"
    model = LinearSVC(random_state=0).fit(world.train[NUMERIC], world.train[TARGET])
    save_model(model, path)
    ledger = world.ledger()
    try:
        register_model(ledger, "linear_svc", path)
    finally:
        ledger.close()
    policy = write_policy(tmp_path, "families", policy_yaml(), world)
    code, out, err = gate(*gate_args(world, path, policy, "--json"))
    assert code == 0, out + err
    payload = json.loads(out)
    evaluation = pd.read_csv(world.eval_csv)
    expected = roc_auc_score(evaluation[TARGET], model.decision_function(evaluation[NUMERIC]))
    assert rules_of(payload)["auc"]["value"] == pytest.approx(expected, abs=1e-12)
    assert payload["parameters"]["predictions"] == {"selection": "predict", "score": "decision_function"}
    assert rules_of(payload)["additivity"]["details"]["explainer"]["kind"] == "linear"
    code, _, err = gate(*gate_args(world, path, policy, "--threshold", "0.5"))
    assert code == 2 and "has no predict_proba" in err


def test_parquet_and_csv_of_the_same_rows_give_the_same_results_and_their_own_hashes(
    world: World, gate: Run, tmp_path: Path
) -> None:
    evaluation = pd.read_csv(world.eval_csv)
    parquet = world.directory / "eval-as.data"  # no telling extension: the content says Parquet
    evaluation.to_parquet(parquet, index=False)
    ledger = world.ledger()
    try:
        if not any(e.data["dataset_id"] == "synth-eval-parquet" for e in ledger.entries(kind="dataset.registered")):
            register_data(ledger, "synth-eval-parquet", parquet, evaluation)
    finally:
        ledger.close()
    policy = write_policy(tmp_path, "families", policy_yaml(), world)
    model = world.models["hist_gradient_boosting"]
    code, out, err = gate(*gate_args(world, model, policy, "--json"))
    assert code == 0, out + err
    from_csv = json.loads(out)
    code, out, err = gate(*gate_args(world, model, policy, "--json", data=parquet))
    assert code == 0, out + err
    from_parquet = json.loads(out)
    assert from_csv["rules"] == from_parquet["rules"]
    assert from_csv["dataset"]["content_sha256"] == artifact_sha256(world.eval_csv)
    assert from_parquet["dataset"]["content_sha256"] == artifact_sha256(parquet)
    assert from_parquet["dataset"]["dataset_id"] == "synth-eval-parquet"
    assert from_csv["evaluation_id"] != from_parquet["evaluation_id"]


@pytest.mark.parametrize(
    "nested",
    [
        pa.array([{"a": 1, "b": "x"}] * 4),
        pa.array([[1, 2]] * 4),
        pa.array([[("k", 1)]] * 4, type=pa.map_(pa.string(), pa.int64())),
    ],
    ids=["struct", "list", "map"],
)
def test_a_parquet_file_with_a_nested_column_is_refused_naming_it(
    world: World, gate: Run, tmp_path: Path, nested: pa.Array
) -> None:
    evaluation = pd.read_csv(world.eval_csv).head(4)
    table = pa.Table.from_pandas(evaluation, preserve_index=False).append_column("history", nested)
    path = tmp_path / "nested.parquet"
    pq.write_table(table, path)
    policy = write_policy(tmp_path, "families", policy_yaml(), world)
    size = ledger_size(world)
    code, out, err = gate(*gate_args(world, world.models["logistic_regression"], policy, data=path))
    assert code == 2, out + err
    assert "nested Parquet columns: history" in err
    assert ledger_size(world) == size


def test_the_data_help_names_both_formats(gate: Run) -> None:
    code, out, _ = gate("gate", "--help")
    assert code == 0 and "Parquet" in out and "--trust" in out and "--threshold" in out


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("{background_size: 5000, sample_size: 24}", "explainability.background_size must be between 1 and 1000"),
        ("{background_size: 8, sample_size: 0}", "explainability.sample_size must be between 1 and 5000"),
    ],
)
def test_the_explainer_sample_sizes_are_bounded(
    world: World, gate: Run, tmp_path: Path, setting: str, message: str
) -> None:
    text = policy_yaml().replace("{background_size: 8, sample_size: 24, seed: 3}", setting)
    policy = write_policy(tmp_path, "unbounded", text)
    code, out, err = gate(*gate_args(world, world.models["gaussian_nb"], policy))
    assert code == 2, out + err
    assert message in err
