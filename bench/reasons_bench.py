"""Principal reasons for every adverse decision: what they cost per decision, and why the demo's
credit model is a linear one.

Run from the repository root::

    .venv/bin/python -m bench.reasons_bench [--decisions 2000] [--trials 3] [--mixture-iter 50]

Data: --decisions applicants sampled with replacement (seed 0) from the real Adult eval split. Models,
trained here on the Adult train split: the demo's mitigated model (`train_mitigated`, a parity-penalised
logistic regression: shap LinearExplainer, exact) and the previous one (`train_fairlearn_mixture`,
fairlearn ExponentiatedGradient kept as a derandomised mixture: no native explainer, so the permutation
explainer on the mixture's score).

Baselines, measured in the same process and interleaved with the measured runs:

- decision records: `policies.decision_log.decision_requests` for the same applicants with no reasons
  (`explain_at_most=0`) against the same call giving every adverse decision its reasons;
- reasons per adverse decision: the mixture's (permutation explainer, on --mixture-rows adverse rows,
  as it is too slow for all) against the linear model's (all adverse rows);
- training: `train_fairlearn_mixture(max_iter=--mixture-iter)` against `train_mitigated`, one fit each.

Figures are medians of --trials trials after one untimed warm-up (the first permutation explanation in
a process also compiles numba code). No thresholds: the table states ratios; the tests do not time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.harness import Result, console, environment, load_average, print_report, timed
from govledger.demo.adult import prepare_adult_csvs
from govledger.demo.fair_lending import EXCLUDED_FROM_REASONS, MONITORED, REASON_MAP_VERSION, REASON_TEXT
from govledger.demo.training import train_fairlearn_mixture, train_mitigated
from policies.decision_log import decision_requests
from policies.explain import explain_rows, principal_reasons

START = pd.Timestamp("2026-11-01T09:00:00Z").to_pydatetime()


def records(model: Any, applicants: pd.DataFrame, *, explain_at_most: int | None) -> list[dict[str, Any]]:
    return decision_requests(
        model,
        applicants,
        model_ref={"name": "income-mitigated", "version": "1"},
        features=[str(f) for f in model.feature_names_in_],
        start=START,
        excluded=EXCLUDED_FROM_REASONS,
        reason_text=REASON_TEXT,
        reason_map_version=REASON_MAP_VERSION,
        monitoring_fields=MONITORED,
        explain_at_most=explain_at_most,
    )


def reasons_for(model: Any, applicants: pd.DataFrame, rows: int | None) -> Callable[[], int]:
    """The reasons part alone: explain the adverse rows and pick their lawful reasons."""
    X = applicants[[str(f) for f in model.feature_names_in_]]  # noqa: N806
    adverse = np.flatnonzero(np.asarray(model.predict(X)) == 0)[:rows]
    background = X.iloc[:100]

    def run() -> int:
        explained = explain_rows(model, X.iloc[adverse], background, seed=0)
        for position in range(len(adverse)):
            principal_reasons(explained, position, excluded=EXCLUDED_FROM_REASONS)
        return len(adverse)

    return run


def median_seconds(call: Callable[[], Any], trials: int) -> float:
    return statistics.median(timed(call) for _ in range(trials))


def run(decisions: int, trials: int, mixture_iter: int, mixture_rows: int, notes: list[str]) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="govledger-reasons-bench-") as tmp:
        prepared = prepare_adult_csvs(Path(tmp) / "adult")
        train = pd.read_csv(prepared.train.path)
        applicants = (
            pd.read_csv(prepared.eval.path).sample(n=decisions, replace=True, random_state=0).reset_index(drop=True)
        )
    console.log("training both models (timed once each)")
    start = time.perf_counter()
    linear = train_mitigated(train, seed=0)
    linear_fit = time.perf_counter() - start
    start = time.perf_counter()
    mixture = train_fairlearn_mixture(train, seed=0, max_iter=mixture_iter)
    mixture_fit = time.perf_counter() - start
    adverse = int(np.sum(np.asarray(linear.predict(applicants)) == 0))
    mixture_reasons = reasons_for(mixture, applicants, mixture_rows)
    linear_reasons = reasons_for(linear, applicants, None)
    plain = lambda: records(linear, applicants, explain_at_most=0)  # noqa: E731
    explained = lambda: records(linear, applicants, explain_at_most=None)  # noqa: E731

    console.log("warm-up (untimed)")
    for call in (plain, explained, mixture_reasons, linear_reasons):
        call()
    console.log(f"{trials} interleaved trials")
    times: dict[str, list[float]] = {"plain": [], "explained": [], "mixture": [], "linear": []}
    for _ in range(trials):
        times["plain"].append(timed(plain))
        times["explained"].append(timed(explained))
        times["mixture"].append(timed(mixture_reasons))
        times["linear"].append(timed(linear_reasons))
    plain_s, explained_s = statistics.median(times["plain"]), statistics.median(times["explained"])
    mixture_s, linear_s = statistics.median(times["mixture"]), statistics.median(times["linear"])
    mixture_n = min(mixture_rows, int(np.sum(np.asarray(mixture.predict(applicants)) == 0)))
    per = 1000.0 / decisions
    notes += [
        f"applicants: {decisions:,} (Adult eval, seed 0); adverse under the linear model: {adverse:,}; "
        f"mixture reasons timed on {mixture_n} adverse rows ({len(mixture.named_steps['model'].estimators_)} members)",
        f"training once each: train_mitigated {linear_fit:.2f} s, train_fairlearn_mixture(max_iter={mixture_iter}) "
        f"{mixture_fit:.1f} s",
    ]
    return [
        Result(
            "decision record, every adverse one with reasons (per decision)",
            explained_s * per,
            "ms",
            "same records, no reasons",
            plain_s * per,
            section="records",
        ),
        Result(
            "reasons per adverse decision: linear model (LinearExplainer)",
            linear_s * 1000.0 / max(adverse, 1),
            "ms",
            "decision record without reasons",
            plain_s * per,
            section="reasons",
        ),
        Result(
            "reasons per adverse decision: fairlearn mixture (permutation)",
            mixture_s * 1000.0 / max(mixture_n, 1),
            "ms",
            "linear model (LinearExplainer)",
            linear_s * 1000.0 / max(adverse, 1),
            section="reasons",
        ),
        Result(
            f"training: fairlearn mixture (max_iter {mixture_iter})",
            mixture_fit,
            "s",
            "parity-penalised logistic regression",
            linear_fit,
            section="training",
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reasons_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=2000, help="applicants scored (default 2,000)")
    parser.add_argument("--trials", type=int, default=3, help="interleaved timed trials (default 3)")
    parser.add_argument("--mixture-iter", type=int, default=50, help="ExponentiatedGradient iterations (default 50)")
    parser.add_argument("--mixture-rows", type=int, default=50, help="adverse rows the mixture explains (default 50)")
    args = parser.parse_args(argv)
    header = environment(["scikit-learn", "fairlearn", "shap", "scipy"])
    started = time.perf_counter()
    notes: list[str] = []
    results = run(max(10, args.decisions), max(1, args.trials), args.mixture_iter, max(1, args.mixture_rows), notes)
    command = " ".join(["python -m bench.reasons_bench", *(sys.argv[1:] if argv is None else argv)])
    lines = [*header, f"run time: {time.perf_counter() - started:.0f} s", f"load average at end: {load_average()}"]
    print_report(command, [*lines, *notes], results, title="principal reasons (ratio = measure ÷ baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
