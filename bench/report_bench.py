"""Report PDFs (model dossier, decision trace), each beside the bare WeasyPrint render of its HTML.

Run from the repository root::

    .venv/bin/python -m bench.report_bench [--trials 5] [--decisions 300]

The ledger is built here, in a temporary SQLite file, the way `tests/reports/conftest.py` builds
its `governed` fixture, from the real Adult data: the four Adult datasets (raw train/test and the
derived train/eval CSVs) plus two derived ones (`adult-train-balanced` from `adult-train`, and
`adult-validation` from `adult-raw-test`), a training run of `income-mitigated@1`
(`train_mitigated`, seed 0) listing the two derived datasets as inputs, so the dossier's lineage
back through `derived_from` reaches 5 datasets; the `four-fifths` (active) and `ecoa-credit`
(published inactive) policies and one evaluation under each (2 evaluations); an approval by a
second approver key citing the four-fifths evaluation; the promotion to production; and
--decisions logged decisions (the first 40 with SHAP reasons). The decision traced is the first one
with reason codes.

For each report, the whole report is `reports.document.prepare` (build: checkpoint + builder
reading the ledger) followed by `reports.document.render(draft, issue_seq=None)` (Jinja2 HTML +
WeasyPrint PDF); the rendered HTML is kept from the warm-up. The baseline is the bare WeasyPrint
render of that same HTML, `weasyprint.HTML(string=html, base_url=TEMPLATES).write_pdf()`, the part
of the report no govledger code can avoid. Figures are medians of --trials interleaved trials after
one untimed warm-up of everything (a warm process), report and baseline alternating which goes first.
A full `gc.collect()` precedes every timed call: without it, in one run, the bare render of the
decision trace took 1.1-1.3 s against 0.8 s for the same call after a collection, apparently paying
for the garbage of the report timed before it. Ratio = govledger ÷ baseline.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import weasyprint
from rich.console import Console

from bench.harness import Result, Target, environment, fmt, load_average, print_report
from govledger.demo.adult import prepare_adult_csvs
from govledger.demo.adult_lineage import LICENCE, model_documentation, register_adult_datasets
from govledger.demo.fair_lending import EXCLUDED_FROM_REASONS, MONITORED, REASON_MAP_VERSION, REASON_TEXT
from govledger.demo.training import SENSITIVE, TARGET, train_mitigated
from govledger.registry import open_ledger
from ledger.access.api_keys import create_key_actor
from ledger.api import Ledger, local_actor
from ledger.config import Settings
from ledger.lineage.decisions import record_decisions
from ledger.log.entry import Actor
from ledger.storage.sequencer import CheckpointPolicy
from policies.artifacts import artifact_sha256, load_model, save_model
from policies.decision_log import decision_requests
from policies.evaluate import GateInputs, evaluate, library_versions
from policies.loader import load_policy
from policies.protected import ClassMapping
from policies.record import facts_from, publish_policy, record_evaluation
from reports import render as report_render
from reports.decision import build_decision
from reports.document import Builder, prepare, render
from reports.dossier import build_dossier

MODEL = {"name": "income-mitigated", "version": "1"}
TARGETS_S = {"dossier": 3.0, "decision trace": 1.0}  # whole report, warm process

console = Console(stderr=True)


# -- the ledger ------------------------------------------------------------------------------------
def key_actor(ledger: Ledger, role: str, name: str) -> Actor:
    return create_key_actor(ledger, name=name, role=role, actor=local_actor())


def derived_csv(source: Path, target: Path, frac: float, seed: int) -> tuple[str, int]:
    """A resampled copy of `source` (a stand-in derivation); returns (sha256, rows)."""
    frame = pd.read_csv(source).sample(frac=frac, random_state=seed)
    frame.to_csv(target, index=False)
    return hashlib.sha256(target.read_bytes()).hexdigest(), len(frame)


def build_ledger(work: Path, decisions: int) -> tuple[Ledger, str, list[str]]:
    """The governed ledger described in the module doc; returns (ledger, traced decision id, notes)."""
    console.log("preparing Adult and training the mitigated model")
    prepared = prepare_adult_csvs(work / "adult")
    model_path = work / "mitigated.skops"
    save_model(train_mitigated(pd.read_csv(prepared.train.path), seed=0), model_path)

    ledger = open_ledger(
        Settings(database_url=f"sqlite:///{work / 'ledger.db'}", home=work / "home"),
        policy=CheckpointPolicy(after_batch=True, max_delay_s=None),
    )
    ledger.init(origin="bench.example/log")
    scientist = key_actor(ledger, "producer", "dana (data scientist)")
    officer = key_actor(ledger, "approver", "rui (risk officer)")
    service = key_actor(ledger, "producer", "scoring service")

    console.log("registering datasets, the training run and the model")
    ids = register_adult_datasets(ledger, prepared, actor=scientist)
    extra = {
        "adult-train-balanced": (ids["train"], prepared.train.path, 0.9, "resampled 90% of rows (seed 1)"),
        "adult-validation": (ids["raw_test"], prepared.eval.path, 0.2, "20% holdout of the cleaned test file"),
    }
    for dataset_id, (parent, source, frac, how) in extra.items():
        sha, rows = derived_csv(source, work / f"{dataset_id}.csv", frac, seed=1)
        ledger.append(
            "dataset.registered",
            {
                "dataset_id": dataset_id,
                "content_sha256": sha,
                "columns": [{"name": c, "type": "category"} for c in pd.read_csv(source, nrows=0).columns],
                "rows": rows,
                "source_uri": f"file:{dataset_id}.csv",
                "licence": LICENCE,
                "sensitive_attributes": list(SENSITIVE),
                "derived_from": [parent],
                "transformation": how,
            },
            actor=scientist,
        )
    artifact = artifact_sha256(model_path)
    ledger.append(
        "training_run.recorded",
        {
            "run_id": "run-mitigated",
            "code_version": "govledger govledger.demo.training",
            "parameters": {"seed": 0, "kind": "mitigated"},
            "environment": {"python": platform.python_version(), **library_versions()},
            "input_datasets": sorted(extra),
            "artifact_sha256": artifact,
        },
        actor=scientist,
    )
    ledger.append(
        "model.registered",
        {"model": MODEL, "artifact_sha256": artifact, "run_id": "run-mitigated", **model_documentation("mitigated")},
        actor=scientist,
    )

    console.log("publishing policies and evaluating (ecoa-credit, then four-fifths)")
    four_fifths, ecoa = load_policy("four-fifths"), load_policy("ecoa-credit")
    publish_policy(ledger, four_fifths, actor=officer)
    publish_policy(ledger, ecoa, actor=officer, activate=False)
    verdicts = {}
    for policy in (ecoa, four_fifths):  # the active policy's evaluation last
        inputs = GateInputs(
            model_path,
            prepared.eval.path,
            TARGET,
            ClassMapping({name: name for name in SENSITIVE}),
            policy,
        )
        evaluation = evaluate(inputs, facts_from(ledger))
        recorded = record_evaluation(ledger, evaluation, actor=local_actor())
        verdicts[policy.policy.name] = (recorded.evaluation_id, evaluation.verdict)
    ledger.append(
        "approval.recorded",
        {
            "approval_id": "approval-1",
            "model": MODEL,
            "decision": "approve",
            "role": "approver",
            "comment": "four-fifths gate passed",
            "evaluation_id": verdicts["four-fifths"][0],
        },
        actor=officer,
    )
    ledger.append("model.promoted", {"model": MODEL, "stage": "production"}, actor=officer)

    console.log(f"recording {decisions} decisions")
    fitted = load_model(model_path)
    requests = decision_requests(
        fitted,
        pd.read_csv(prepared.eval.path).head(decisions),
        model_ref=MODEL,
        features=[str(f) for f in fitted.feature_names_in_],
        start=datetime(2026, 11, 1, 9, 0, tzinfo=UTC),
        excluded=EXCLUDED_FROM_REASONS,
        reason_text=REASON_TEXT,
        reason_map_version=REASON_MAP_VERSION,
        monitoring_fields=MONITORED,
        explain_at_most=40,
    )
    record_decisions(ledger, requests, actor=service)
    explained = [r for r in requests if r.get("explanation") and r["explanation"]["reason_codes"]]
    notes = [
        f"ledger: SQLite, {ledger.size:,} entries, 6 datasets registered; evaluations of {MODEL['name']}: "
        + ", ".join(f"{k} {verdict}" for k, (_, verdict) in verdicts.items()),
        f"decisions: {len(requests)} logged, {len(explained)} with reason codes; traced {explained[0]['decision_id']}",
    ]
    return ledger, explained[0]["decision_id"], notes


# -- timing ------------------------------------------------------------------------------------------
def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()  # so no call pays for collecting the garbage of the one before it
    start = time.perf_counter()
    out = call()
    return time.perf_counter() - start, out


def bare_pdf(html: str) -> bytes:
    pdf: bytes = weasyprint.HTML(string=html, base_url=str(report_render.TEMPLATES)).write_pdf()
    return pdf


def run(trials: int, decisions: int, notes: list[str]) -> list[Result]:
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="govledger-report-bench-") as tmp:
        ledger, decision_id, ledger_notes = build_ledger(Path(tmp), decisions)
        notes += ledger_notes
        try:
            reports: dict[str, tuple[Builder, dict[str, Any]]] = {
                "dossier": (build_dossier, {"name": MODEL["name"], "version": MODEL["version"]}),
                "decision trace": (build_decision, {"decision_id": decision_id}),
            }
            console.log("warm-up (untimed)")
            htmls = {}
            for name, (builder, params) in reports.items():
                draft = prepare(ledger, builder, **params)
                rendered = render(draft, issue_seq=None)
                htmls[name] = rendered.html
                if name == "dossier":
                    context = draft.content.context
                    notes.append(
                        f"dossier content: {len(context['datasets'])} datasets in the lineage "
                        f"({', '.join(d['dataset_id'] for d in context['datasets'])}), "
                        f"{len(context['evaluations'])} evaluations"
                    )
                pages = len(weasyprint.HTML(string=rendered.html, base_url=str(report_render.TEMPLATES)).render().pages)
                size = f"{len(rendered.html) / 1e3:.0f} kB HTML, {pages} pages, {len(rendered.pdf) / 1e3:.0f} kB PDF"
                notes.append(f"{name}: {size}")
                bare_pdf(rendered.html)

            times: dict[str, dict[str, list[float]]] = {
                name: {"build": [], "render": [], "whole": [], "bare": []} for name in reports
            }
            for trial in range(trials):
                console.log(f"trial {trial + 1}/{trials}")
                for name, (builder, params) in reports.items():
                    if trial % 2:  # alternate which goes first, so neither is always the warmer one
                        times[name]["bare"].append(timed(lambda name=name: bare_pdf(htmls[name]))[0])
                    build_s, draft = timed(lambda builder=builder, params=params: prepare(ledger, builder, **params))
                    render_s, _ = timed(lambda draft=draft: render(draft, issue_seq=None))
                    times[name]["build"].append(build_s)
                    times[name]["render"].append(render_s)
                    times[name]["whole"].append(build_s + render_s)
                    if not trial % 2:
                        times[name]["bare"].append(timed(lambda name=name: bare_pdf(htmls[name]))[0])
        finally:
            ledger.close()

    bare_label = "bare WeasyPrint write_pdf"
    for name in reports:
        med = {k: statistics.median(v) for k, v in times[name].items()}
        target = TARGETS_S[name]
        results += [
            Result(f"{name}: whole report", med["whole"], "s", bare_label, med["bare"], Target("<=", target)),
            Result(f"{name}: build (prepare)", med["build"], "s", bare_label, med["bare"]),
            Result(f"{name}: render (HTML + PDF)", med["render"], "s", bare_label, med["bare"]),
        ]
        trials_s = {k: ", ".join(fmt(x, "s") for x in times[name][k]) for k in ("whole", "bare")}
        notes.append(f"{name} trials: whole report {trials_s['whole']}; bare {trials_s['bare']}")
    return results


# -- driver ----------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5, help="timed trials after one warm-up (default 5)")
    parser.add_argument("--decisions", type=int, default=300, help="decisions logged (default 300)")
    args = parser.parse_args(argv)
    header = environment(["weasyprint", "jinja2"])
    started = time.perf_counter()
    notes: list[str] = []
    results = run(max(1, args.trials), max(1, args.decisions), notes)
    command = " ".join(["python -m bench.report_bench", *(sys.argv[1:] if argv is None else argv)])
    lines = [*header, f"run time: {time.perf_counter() - started:.0f} s", f"load average at end: {load_average()}"]
    print_report(
        command,
        [*lines, *notes],
        results,
        title="report PDFs vs bare WeasyPrint render (ratio = govledger ÷ baseline)",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
