"""The policy gate on a large evaluation file, beside the bare library calls it is made of.

Run from the repository root::

    .venv/bin/python -m bench.gate_bench [--rows 100000] [--trials 3]

The data are --rows rows sampled with replacement (seed 0) from the real Adult eval split. Three
model families, each trained on the Adult train split and saved with skops, so each SHAP path is
measured: a tree model (`train_baseline`, a HistGradientBoosting pipeline: TreeExplainer), a linear
one (`train_mitigated`, a logistic regression: LinearExplainer) and a model-agnostic one (a small
MLP on the same features: the permutation explainer, on the pack's bounded, seeded sample). The
gate is `policies.evaluate.evaluate` with an empty `LineageFacts` (nothing is recorded): the tree
model under `nyc-ll144` and under `ecoa-credit` (which adds a SHAP explanation), the linear and
model-agnostic ones under `ecoa-credit`.

Baselines, measured in the same process and interleaved with the gate trials:

- model loading: `skops.io.load` with the same trusted types, without govledger's type audit;
- the gate: the bare library calls it cannot avoid: `pandas.read_csv` of the file,
  `model.predict` + `model.predict_proba` on all rows, one fairlearn
  `MetricFrame(metrics=selection_rate, ...)` (and its `.ratio()`) per fairness rule, and for
  ecoa-credit one shap explainer of the family's kind (TreeExplainer or LinearExplainer on the
  unwrapped final estimator, PermutationExplainer on the whole pipeline's probability) over the
  pack's sample size.
  The rule with `confidence` (a 200-resample bootstrap) is baselined by ONE MetricFrame: fairlearn's
  own bootstrap (MetricFrame(n_boot=200)) takes minutes at 100,000 rows, so the bootstrap is counted
  as gate overhead against that single frame.

Figures are medians of --trials interleaved trials after one untimed warm-up of everything. The
fairlearn and SHAP shares come from one cProfile run of each gate (time entering the library from
outside it; cProfile inflates Python overhead, so use them as shares, not times).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shap
import skops.io as sio
from fairlearn.metrics import MetricFrame, selection_rate
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline

from bench.harness import Result, Target, console, environment, fmt, load_average, print_report, timed
from govledger.demo.adult import prepare_adult_csvs
from govledger.demo.training import BASELINE_FEATURES, train_baseline, train_mitigated
from policies.artifacts import load_model, load_model_audited, save_model
from policies.evaluate import GateInputs, evaluate
from policies.explain.explainers import PERMUTATIONS
from policies.facts import LineageFacts
from policies.loader import LoadedPolicy, load_policy
from policies.protected import ClassMapping

TARGET = "income"
SENSITIVE = ClassMapping({"sex": "sex", "race": "race"})
# (family, pack) pairs measured; the families' trainers are in `TRAINERS`.
CASES = (("tree", "nyc-ll144"), ("tree", "ecoa-credit"), ("linear", "ecoa-credit"), ("agnostic", "ecoa-credit"))
GATE_BEYOND_LOAD_S = 5.0  # the target for tree and linear models: within 5 s beyond model loading
MAX_OVERHEAD = 1.20  # ... and no more than 20% over the bare library calls
AGNOSTIC_LIMIT_S = 30.0  # model-agnostic (permutation SHAP): within 30 s


def train_agnostic(train: pd.DataFrame, *, seed: int = 0) -> Pipeline:
    """A small MLP on the baseline's features: neither a tree nor linear, so SHAP must permute."""
    pipeline = train_baseline(train.head(200), seed=seed)  # only for its fitted-column layout
    features = list(BASELINE_FEATURES)
    model = Pipeline(
        [
            ("features", clone(pipeline.steps[0][1])),
            ("model", MLPClassifier(hidden_layer_sizes=(16,), max_iter=60, random_state=seed)),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 60 epochs is enough for a benchmark subject
        model.fit(train[features], train[TARGET].to_numpy())
    return model


TRAINERS: dict[str, Callable[..., Any]] = {
    "tree": train_baseline,
    "linear": train_mitigated,
    "agnostic": train_agnostic,
}


# -- setup --------------------------------------------------------------------------------------
def build_inputs(work: Path, rows: int) -> tuple[dict[str, Path], Path]:
    """A skops model per family trained on Adult train, and `rows` rows resampled from Adult eval."""
    prepared = prepare_adult_csvs(work / "adult")
    train = pd.read_csv(prepared.train.path)
    paths = {}
    for family, trainer in TRAINERS.items():
        paths[family] = work / f"{family}.skops"
        save_model(trainer(train, seed=0), paths[family])
    data_path = work / f"eval-{rows}.csv"
    pd.read_csv(prepared.eval.path).sample(n=rows, replace=True, random_state=0).to_csv(data_path, index=False)
    return paths, data_path


def gate(model_path: Path, data_path: Path, policy: LoadedPolicy) -> Any:
    return evaluate(GateInputs(model_path, data_path, TARGET, SENSITIVE, policy), lambda a, d: LineageFacts())


# -- bare library calls --------------------------------------------------------------------------
class Bare:
    """The library calls a gate run is made of, each timed on its own."""

    def __init__(self, model_path: Path, data_path: Path) -> None:
        self.model_path, self.data_path = model_path, data_path
        self.model = load_model(model_path)
        self.trusted = load_model_audited(model_path).audit.names
        self.frame = pd.read_csv(data_path)
        self.features = [str(n) for n in self.model.feature_names_in_]
        self.y_true = self.frame[TARGET].to_numpy()
        self.y_pred = self.model.predict(self.frame[self.features])

    def load(self) -> Any:
        return sio.load(self.model_path, trusted=self.trusted)

    def read_csv(self) -> Any:
        return pd.read_csv(self.data_path)

    def predict(self) -> Any:
        x = self.frame[self.features]
        return self.model.predict(x), self.model.predict_proba(x)[:, 1]

    def metric_frame(self, by: Sequence[str]) -> Any:
        mf = MetricFrame(
            metrics=selection_rate,
            y_true=self.y_true,
            y_pred=self.y_pred,
            sensitive_features=self.frame[[SENSITIVE.columns[name] for name in by]],
        )
        return mf.ratio()

    def _transformed(self, rows: pd.DataFrame) -> Any:
        matrix = self.model[:-1].transform(rows)
        return matrix.toarray() if hasattr(matrix, "toarray") else matrix

    def tree_shap(self, sample_size: int, background_size: int) -> Any:
        sample = self.frame[self.features].sample(n=sample_size, random_state=0)
        final = self.model.steps[-1][1]
        return shap.TreeExplainer(final, feature_perturbation="tree_path_dependent").shap_values(
            self._transformed(sample)
        )

    def linear_shap(self, sample_size: int, background_size: int) -> Any:
        sample = self.frame[self.features].sample(n=sample_size, random_state=0)
        background = self._transformed(self.frame[self.features].sample(n=background_size, random_state=1))
        masker = shap.maskers.Independent(background, max_samples=len(background))
        return shap.LinearExplainer(self.model.steps[-1][1], masker).shap_values(self._transformed(sample))

    def permutation_shap(self, sample_size: int, background_size: int) -> Any:
        """shap's permutation explainer on the pipeline's P(positive), masking the original columns
        (categoricals as integer codes), with the gate's evaluation budget per row."""
        frame = self.frame[self.features]
        codes = {c: pd.Categorical(frame[c]) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])}
        encoded = frame.assign(**{c: cat.codes for c, cat in codes.items()}).to_numpy(dtype=float)
        rng = np.random.default_rng(0)
        sample, background = encoded[rng.choice(len(encoded), sample_size, replace=False)], encoded[:background_size]
        columns = list(frame.columns)

        def score(matrix: Any) -> Any:
            decoded = pd.DataFrame(matrix, columns=columns)
            for c, cat in codes.items():
                decoded[c] = np.asarray(cat.categories)[decoded[c].astype(int)]
            return self.model.predict_proba(decoded)[:, 1]

        masker = shap.maskers.Independent(background, max_samples=len(background))
        explainer = shap.PermutationExplainer(score, masker, seed=0)
        return explainer(sample, max_evals=PERMUTATIONS * (2 * len(columns) + 1), silent=True)

    def calls(self, policy: LoadedPolicy, family: str) -> dict[str, Callable[[], Any]]:
        """Name -> call, for every bare call the gate with `policy` makes (model loading excluded)."""
        out: dict[str, Callable[[], Any]] = {"pandas.read_csv": self.read_csv, "predict + predict_proba": self.predict}
        for rule in policy.policy.rules:
            if rule.category == "fairness" and all(name in SENSITIVE.columns for name in rule.by):
                note = " (1 frame, gate bootstraps)" if rule.confidence else ""
                out[f"MetricFrame {rule.id}{note}"] = lambda by=rule.by: self.metric_frame(by)
        if any(rule.category == "explainability" for rule in policy.policy.rules):
            settings = {"sample_size": 500, "background_size": 100, **policy.policy.explainability}
            size, background = int(settings["sample_size"]), int(settings["background_size"])
            explain, label = {
                "tree": (self.tree_shap, "TreeExplainer"),
                "linear": (self.linear_shap, "LinearExplainer"),
                "agnostic": (self.permutation_shap, "PermutationExplainer"),
            }[family]
            out[f"shap.{label} ({size} rows, {background} background)"] = lambda: explain(size, background)
        return out


# -- profile shares ------------------------------------------------------------------------------
def library_share(stats: pstats.Stats, marker: str) -> float:
    """Seconds spent inside files whose path contains `marker`, counted where they are entered from
    outside (so nested calls within the library are not counted twice)."""
    total = 0.0
    for (filename, _, _), (_, _, _, _, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if marker not in filename:
            continue
        for (caller_file, _, _), edge in callers.items():
            if marker not in caller_file:
                total += edge[3]
    return total


def profile_shares(model_path: Path, data_path: Path, policy: LoadedPolicy) -> tuple[float, float, float, float]:
    """(profiled gate seconds, fairlearn share, shap share, model-loading share)."""
    profiler = cProfile.Profile()
    profiler.enable()
    gate(model_path, data_path, policy)
    profiler.disable()
    stats = pstats.Stats(profiler)
    whole = stats.total_tt  # type: ignore[attr-defined]
    loading = sum(
        ct for (f, _, name), (_, _, _, ct, _) in stats.stats.items() if name == "load_model" and "policies" in f
    )  # type: ignore[attr-defined]
    return (
        whole,
        library_share(stats, "/fairlearn/") / whole,
        library_share(stats, "/shap/") / whole,
        loading / whole,
    )


# -- driver ----------------------------------------------------------------------------------------
def run(rows: int, trials: int, notes: list[str]) -> list[Result]:
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="govledger-gate-bench-") as tmp:
        work = Path(tmp)
        console.log(f"preparing Adult, training a tree, a linear and a model-agnostic model, writing {rows:,} rows")
        model_paths, data_path = build_inputs(work, rows)
        notes.append(
            f"data: {rows:,} rows resampled (seed 0) from Adult eval, {data_path.stat().st_size / 1e6:.1f} MB CSV; "
            "models: "
            + ", ".join(f"{family} {path.stat().st_size / 1e3:.0f} kB skops" for family, path in model_paths.items())
        )
        bares = {family: Bare(path, data_path) for family, path in model_paths.items()}
        policies = {pack: load_policy(pack) for _, pack in CASES}
        calls = {(family, pack): bares[family].calls(policies[pack], family) for family, pack in CASES}

        console.log("warm-up (untimed)")
        explainers: dict[tuple[str, str], str] = {}
        for family, pack in CASES:
            evaluation = gate(model_paths[family], data_path, policies[pack])
            if evaluation.explanation is not None:
                explanation = evaluation.explanation
                explainers[(family, pack)] = (
                    f"{explanation.explainer_kind}, {explanation.sample_size} rows explained, "
                    f"{explanation.background_size} background rows"
                )
            for call in calls[(family, pack)].values():
                call()
        for family, path in model_paths.items():
            load_model(path)
            bares[family].load()

        loads: dict[str, list[float]] = {family: [] for family in model_paths}
        bare_loads: dict[str, list[float]] = {family: [] for family in model_paths}
        gates: dict[tuple[str, str], list[float]] = {case: [] for case in CASES}
        parts = {case: {k: [] for k in calls[case]} for case in CASES}
        for trial in range(trials):
            console.log(f"trial {trial + 1}/{trials}")
            for family, path in model_paths.items():
                loads[family].append(timed(lambda path=path: load_model(path)))
                bare_loads[family].append(timed(bares[family].load))
            for case in CASES:
                family, pack = case
                path, policy = model_paths[family], policies[pack]
                gates[case].append(timed(lambda path=path, policy=policy: gate(path, data_path, policy)))
                for part, call in calls[case].items():
                    parts[case][part].append(timed(call))

        for family in model_paths:
            load_s, bare_load_s = statistics.median(loads[family]), statistics.median(bare_loads[family])
            results.append(
                Result(
                    f"{family}: model loading (load_model)", load_s, "s", "skops.io.load, no type audit", bare_load_s
                )
            )
        for case in CASES:
            family, pack = case
            load_s = statistics.median(loads[family])
            gate_s = statistics.median(gates[case])
            part_s = {part: statistics.median(times) for part, times in parts[case].items()}
            bare_s = sum(part_s.values())
            beyond = gate_s - load_s
            label = f"{family} / {pack}"
            notes.append(f"{label} bare calls: " + "; ".join(f"{k} {fmt(v, 's')}" for k, v in part_s.items()))
            if case in explainers:
                notes.append(f"{label} explainer: {explainers[case]}")
            limit = AGNOSTIC_LIMIT_S if family == "agnostic" else GATE_BEYOND_LOAD_S
            results.append(
                Result(
                    f"{label}: gate beyond model loading", beyond, "s", "sum of bare calls", bare_s, Target("<=", limit)
                )
            )
            if family != "agnostic":
                results.append(
                    Result(
                        f"{label}: overhead over bare calls",
                        beyond,
                        "s",
                        "sum of bare calls",
                        bare_s,
                        Target("<=", MAX_OVERHEAD, of="ratio"),
                    )
                )

        for family, pack in CASES[:2]:
            console.log(f"profiling one {family} / {pack} gate run")
            whole, fair, shp, loading = profile_shares(model_paths[family], data_path, policies[pack])
            notes.append(
                f"{family} / {pack} profile (one cProfile run, {whole:.2f} s under the profiler): "
                f"fairlearn {fair:.1%}, shap {shp:.1%}, model loading {loading:.1%} of gate time"
            )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gate_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the evaluation file (default 100,000)")
    parser.add_argument("--trials", type=int, default=3, help="interleaved timed trials (default 3)")
    args = parser.parse_args(argv)
    header = environment(["scikit-learn", "fairlearn", "shap", "pandas"])
    started = time.perf_counter()
    notes: list[str] = []
    results = run(max(2, args.rows), max(1, args.trials), notes)
    command = " ".join(["python -m bench.gate_bench", *(sys.argv[1:] if argv is None else argv)])
    lines = [*header, f"run time: {time.perf_counter() - started:.0f} s", f"load average at end: {load_average()}"]
    print_report(
        command,
        [*lines, *notes],
        results,
        title="policy gate vs bare library calls (ratio = gate ÷ baseline)",
        value_header="Gate",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
