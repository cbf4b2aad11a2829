"""`govledger gate` and `govledger policy ...`: the CI gate and policy publishing.

Exit codes of the gate (for CI): 0 passed, 1 blocked by a rule, 2 bad usage or bad input
(missing column, unreadable model, unknown metric; nothing recorded), 3 insufficient evidence
(not a pass), 4 the service was unreachable or refused the evaluation.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ledger.api import local_actor
from ledger.cli.context import state

__all__ = ["EXIT_BLOCKED", "EXIT_INSUFFICIENT", "EXIT_PASSED", "EXIT_SERVICE", "app"]

EXIT_PASSED = 0
EXIT_BLOCKED = 1
EXIT_USAGE = 2
EXIT_INSUFFICIENT = 3
EXIT_SERVICE = 4
_EXIT_FOR = {"passed": EXIT_PASSED, "blocked": EXIT_BLOCKED, "insufficient_evidence": EXIT_INSUFFICIENT}

out = Console(highlight=False, soft_wrap=False, width=160)


def _fail(message: str, code: int) -> typer.Exit:
    sys.stderr.write(f"govledger: error: {' '.join(message.split())}\n")
    return typer.Exit(code)


app = typer.Typer()

policy_app = typer.Typer(help="Publish and inspect policies (risk officers publish; CI evaluates).")
app.add_typer(policy_app, name="policy")


@app.command()
def gate(
    ctx: typer.Context,
    policy: Annotated[str, typer.Option(help="Policy YAML file, or a shipped pack name (see `policy packs`)")],
    model: Annotated[Path, typer.Option(help="The model file (skops format; pickles are refused)")],
    data: Annotated[
        Path, typer.Option(help="Evaluation data: CSV with a header row, or Parquet (flat columns; told by content)")
    ],
    target: Annotated[str, typer.Option(help="Column holding the true 0/1 outcome")],
    sensitive: Annotated[str, typer.Option(help="Comma-separated sensitive columns, e.g. sex,race")] = "",
    server: Annotated[str | None, typer.Option(help="Record in a remote govledger service (URL)")] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="GOVLEDGER_API_KEY", help="API key (role ci) for --server")
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML (one test case per rule)")] = None,
    summary: Annotated[Path | None, typer.Option(help="Write a Markdown summary (for a CI job summary)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Evaluate and report, record nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the evaluation record as JSON")] = False,
    trust: Annotated[
        list[str] | None,
        typer.Option(
            "--trust",
            metavar="TYPE",
            help="Load this type from the model file although it is not in scikit-learn, NumPy, SciPy, XGBoost "
            "or LightGBM (full dotted name; repeatable; recorded in the evaluation)",
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(help="Select where P(positive) >= THRESHOLD (0..1) instead of the model's predict"),
    ] = None,
) -> None:
    """Evaluate a model under a policy and record it; exit 0 passed, 1 blocked, 2 bad input, 3 insufficient.

    Exit 3: too little evidence to judge (not a pass). Exit 4: the service (--server) was unreachable or refused."""
    from policies.artifacts import trusted_types
    from policies.evaluate import FactsProvider, GateInputs, evaluate
    from policies.loader import load_policy
    from policies.outputs import markdown_summary, rule_table, write_junit
    from policies.predictions import check_threshold
    from policies.record import facts_from, record_evaluation
    from policies.remote import GateServiceError, RemoteLedger

    if server is not None and not api_key:
        raise _fail("--server needs --api-key (or GOVLEDGER_API_KEY)", EXIT_USAGE)
    check_threshold(threshold, "--threshold")
    trusted = [*trusted_types(trust or [], "cli"), *trusted_types(state(ctx).settings().gate_trusted_types, "settings")]
    loaded = load_policy(policy)
    inputs = GateInputs(
        model,
        data,
        target,
        [c.strip() for c in sensitive.split(",") if c.strip()],
        loaded,
        trust=tuple(trusted),
        threshold=threshold,
    )
    remote = RemoteLedger(server, api_key or "") if server is not None else None
    ledger = state(ctx).open() if remote is None else None
    try:
        facts: FactsProvider
        if remote is not None:
            facts = remote.facts
        else:
            assert ledger is not None
            facts = facts_from(ledger)
        try:
            evaluation = evaluate(inputs, facts)
        except GateServiceError as exc:
            raise _fail(str(exc), EXIT_SERVICE) from None
        note = "not recorded (--dry-run)"
        payload: dict[str, Any] | None = None
        if not dry_run:
            payload = evaluation.payload()
            if remote is not None:
                try:
                    answer = remote.record(payload)
                except GateServiceError as exc:
                    out.print(rule_table(evaluation))
                    raise _fail(str(exc), EXIT_SERVICE) from None
                seq, again = answer["seq"], answer["already_recorded"]
            else:
                assert ledger is not None
                recorded = record_evaluation(ledger, evaluation, actor=local_actor())
                seq, again = recorded.seq, recorded.already_recorded
            how = "was already recorded" if again else "recorded"
            note = f"evaluation {payload['evaluation_id']} {how} at entry {seq}"
    finally:
        if remote is not None:
            remote.close()
        if ledger is not None:
            ledger.close()
    if as_json:
        sys.stdout.write(json.dumps(payload or {"verdict": evaluation.verdict}, indent=2) + "\n")
    else:
        out.print(rule_table(evaluation))
        for outcome in evaluation.outcomes:
            if outcome.verdict != "pass":
                out.print(f"  {outcome.rule.id} ({outcome.rule.severity}): {outcome.judgement.message}")
        out.print(f"verdict: {evaluation.verdict}; {note}")
    if junit is not None:
        write_junit(evaluation, junit)
    if summary is not None:
        summary.write_text(markdown_summary(evaluation, recorded=note), encoding="utf-8")
    raise typer.Exit(_EXIT_FOR[evaluation.verdict])


@policy_app.command("publish")
def publish(
    ctx: typer.Context,
    policy: Annotated[str, typer.Argument(help="Policy YAML file or shipped pack name")],
    activate: Annotated[bool, typer.Option(help="Make it the policy that gates promotions")] = True,
) -> None:
    """Publish a policy's exact text in the ledger (and make it the active one)."""
    from policies.loader import load_policy
    from policies.record import publish_policy

    loaded = load_policy(policy)
    ledger = state(ctx).open()
    try:
        seq = publish_policy(ledger, loaded, actor=local_actor(), activate=activate)
    finally:
        ledger.close()
    activity = "active" if activate else "not active"
    out.print(
        f"published {loaded.policy.name} version {loaded.policy.version} ({loaded.sha256}) at entry {seq}; {activity}"
    )


@policy_app.command("packs")
def packs() -> None:
    """List the shipped policy packs."""
    from policies.loader import available_packs, load_policy

    for name in available_packs():
        loaded = load_policy(name)
        out.print(
            f"{name:22} {loaded.policy.version:4} {loaded.sha256[:12]}  {loaded.policy.description or ''}".strip()
        )


@policy_app.command("show")
def show(policy: Annotated[str, typer.Argument(help="Policy YAML file or shipped pack name")]) -> None:
    """Validate a policy and print its rules."""
    from policies.loader import load_policy

    loaded = load_policy(policy)
    out.print(f"{loaded.policy.name} version {loaded.policy.version} sha256 {loaded.sha256}")
    for rule in loaded.policy.rules:
        by = f" by {' × '.join(rule.by)}" if rule.by else ""
        out.print(f"  {rule.id}: {rule.metric}{by} {rule.comparison} {rule.threshold:g} [{rule.severity}]")
