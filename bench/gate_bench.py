"""The policy gate on a large evaluation file, beside the bare library calls it is made of.

Run from the repository root::

    .venv/bin/python -m bench.gate_bench [--rows 100000] [--trials 3]

The data are --rows rows sampled with replacement (seed 0) from the real Adult eval split; the
model is `govledger.demo.training.train_baseline` (a HistGradientBoosting pipeline, seed 0) trained on the
Adult train split and saved with skops. The gate is `policies.evaluate.evaluate` with an empty
`LineageFacts` (nothing is recorded), once with the `nyc-ll144` pack and once with `ecoa-credit`
(which adds a SHAP explanation).

Baselines, measured in the same process and interleaved with the gate trials:

- model loading: `skops.io.load` with the same trusted types, without govledger's type audit;
- the gate: the bare library calls it cannot avoid: `pandas.read_csv` of the file,
  `model.predict` + `model.predict_proba` on all rows, one fairlearn
  `MetricFrame(metrics=selection_rate, ...)` (and its `.ratio()`) per fairness rule, and for
  ecoa-credit one `shap.TreeExplainer` on the unwrapped final estimator over the pack's sample size.
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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import shap
import skops.io as sio
from fairlearn.metrics import MetricFrame, selection_rate

from bench.harness import Result, Target, console, environment, fmt, load_average, print_report, timed
from govledger.demo.adult import prepare_adult_csvs
from govledger.demo.training import train_baseline
from policies.artifacts import load_model, load_model_audited, save_model
from policies.evaluate import GateInputs, evaluate
from policies.facts import LineageFacts
from policies.loader import LoadedPolicy, load_policy
from policies.protected import ClassMapping

TARGET = "income"
SENSITIVE = ClassMapping({"sex": "sex", "race": "race"})
PACKS = ("nyc-ll144", "ecoa-credit")
GATE_BEYOND_LOAD_S = 5.0  # the target: the whole gate within 5 s beyond model loading
MAX_OVERHEAD = 1.20  # ... and no more than 20% over the bare library calls


# -- setup --------------------------------------------------------------------------------------
def build_inputs(work: Path, rows: int) -> tuple[Path, Path]:
    """The skops model trained on Adult train, and `rows` rows resampled from Adult eval."""
    prepared = prepare_adult_csvs(work / "adult")
    model = train_baseline(pd.read_csv(prepared.train.path), seed=0)
    model_path = work / "model.skops"
    save_model(model, model_path)
    data_path = work / f"eval-{rows}.csv"
    pd.read_csv(prepared.eval.path).sample(n=rows, replace=True, random_state=0).to_csv(data_path, index=False)
    return model_path, data_path


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
            sensitive_features=self.frame[list(by)],
        )
        return mf.ratio()

    def tree_shap(self, sample_size: int) -> Any:
        sample = self.frame[self.features].sample(n=sample_size, random_state=0)
        pre, final = self.model[:-1], self.model.steps[-1][1]
        matrix = pre.transform(sample)
        matrix = matrix.toarray() if hasattr(matrix, "toarray") else matrix
        return shap.TreeExplainer(final, feature_perturbation="tree_path_dependent").shap_values(matrix)

    def calls(self, policy: LoadedPolicy) -> dict[str, Callable[[], Any]]:
        """Name -> call, for every bare call the gate with `policy` makes (model loading excluded)."""
        out: dict[str, Callable[[], Any]] = {"pandas.read_csv": self.read_csv, "predict + predict_proba": self.predict}
        for rule in policy.policy.rules:
            if rule.category == "fairness":
                note = " (1 frame, gate bootstraps)" if rule.confidence else ""
                out[f"MetricFrame {rule.id}{note}"] = lambda by=rule.by: self.metric_frame(by)
        if any(rule.category == "explainability" for rule in policy.policy.rules):
            size = int({"sample_size": 500, **policy.policy.explainability}["sample_size"])
            out[f"shap.TreeExplainer ({size} rows)"] = lambda: self.tree_shap(size)
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
        console.log(f"preparing Adult, training the baseline model, writing {rows:,} rows")
        model_path, data_path = build_inputs(work, rows)
        notes.append(
            f"data: {rows:,} rows resampled (seed 0) from Adult eval, {data_path.stat().st_size / 1e6:.1f} MB CSV; "
            f"model: train_baseline (HistGradientBoosting pipeline), {model_path.stat().st_size / 1e3:.0f} kB skops"
        )
        bare = Bare(model_path, data_path)
        policies = {name: load_policy(name) for name in PACKS}
        calls = {name: bare.calls(policy) for name, policy in policies.items()}

        console.log("warm-up (untimed)")
        for name, policy in policies.items():
            gate(model_path, data_path, policy)
            for call in calls[name].values():
                call()
        load_model(model_path)
        bare.load()

        loads: list[float] = []
        bare_loads: list[float] = []
        gates: dict[str, list[float]] = {name: [] for name in PACKS}
        parts: dict[str, dict[str, list[float]]] = {name: {k: [] for k in calls[name]} for name in PACKS}
        for trial in range(trials):
            console.log(f"trial {trial + 1}/{trials}")
            loads.append(timed(lambda: load_model(model_path)))
            bare_loads.append(timed(bare.load))
            for name, policy in policies.items():
                gates[name].append(timed(lambda policy=policy: gate(model_path, data_path, policy)))
                for part, call in calls[name].items():
                    parts[name][part].append(timed(call))

        load_s, bare_load_s = statistics.median(loads), statistics.median(bare_loads)
        results.append(Result("model loading (load_model)", load_s, "s", "skops.io.load, no type audit", bare_load_s))
        for name in PACKS:
            gate_s = statistics.median(gates[name])
            part_s = {part: statistics.median(times) for part, times in parts[name].items()}
            bare_s = sum(part_s.values())
            beyond = gate_s - load_s
            notes.append(f"{name} bare calls: " + "; ".join(f"{k} {fmt(v, 's')}" for k, v in part_s.items()))
            results += [
                Result(f"{name}: whole gate", gate_s, "s", "bare calls + skops.io.load", bare_s + bare_load_s),
                Result(
                    f"{name}: gate beyond model loading",
                    beyond,
                    "s",
                    "sum of bare calls",
                    bare_s,
                    Target("<=", GATE_BEYOND_LOAD_S),
                ),
                Result(
                    f"{name}: overhead over bare calls",
                    beyond,
                    "s",
                    "sum of bare calls",
                    bare_s,
                    Target("<=", MAX_OVERHEAD, of="ratio"),
                ),
            ]

        for name, policy in policies.items():
            console.log(f"profiling one {name} gate run")
            whole, fair, shp, loading = profile_shares(model_path, data_path, policy)
            notes.append(
                f"{name} profile (one cProfile run, {whole:.2f} s under the profiler): fairlearn {fair:.1%}, "
                f"shap {shp:.1%}, model loading {loading:.1%} of gate time"
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
