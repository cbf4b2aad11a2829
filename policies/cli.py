"""`govledger gate` and `govledger policy ...`: the CI gate and policy publishing.

Exit codes of the gate (for CI): 0 passed, 1 blocked by a rule, 2 bad usage or bad input
(missing column, unreadable model, unknown metric, a model not registered in the ledger without
`--dry-run`; nothing recorded), 3 insufficient evidence (not a pass; e.g. a protected class the
policy requires is not mapped to a column), 4 the service was unreachable or refused the evaluation.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from ledger.api import local_actor
from ledger.cli.context import state

if TYPE_CHECKING:
    from ledger.api import Ledger
    from policies.evaluate import FactsProvider
    from policies.facts import LineageFacts
    from policies.registration import Registration
    from policies.remote import RemoteLedger

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
    sensitive: Annotated[
        str,
        typer.Option(
            help="Protected classes and the columns holding them: sex=gender,race=applicant_race,age=age "
            "(a bare `sex` means the column is called sex)"
        ),
    ] = "",
    classes: Annotated[
        Path | None,
        typer.Option("--classes", help="YAML/JSON mapping file: `classes: {sex: gender}` and `proxies: [column]`"),
    ] = None,
    proxy: Annotated[
        list[str] | None,
        typer.Option("--proxy", help="A column that stands in for a protected class (repeatable)"),
    ] = None,
    server: Annotated[str | None, typer.Option(help="Record in a remote govledger service (URL)")] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="GOVLEDGER_API_KEY", help="API key (role ci) for --server")
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML (one test case per rule)")] = None,
    summary: Annotated[Path | None, typer.Option(help="Write a Markdown summary (for a CI job summary)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Evaluate and report, record nothing")] = False,
    register: Annotated[
        str | None,
        typer.Option(help="Register the model file as NAME@VERSION in the same step (needs --training-run)"),
    ] = None,
    training_run: Annotated[
        str | None, typer.Option(help="With --register: the run that produced the model (recorded or to record)")
    ] = None,
    training_data: Annotated[
        list[str] | None,
        typer.Option(help="With --register, for a run not yet recorded: a registered dataset it read (repeatable)"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole evaluation record as JSON (with --dry-run too)")
    ] = False,
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
    from policies.evaluate import GateInputs, evaluate
    from policies.loader import load_policy
    from policies.outputs import markdown_summary, rule_table, write_junit
    from policies.predictions import check_threshold
    from policies.protected import ClassMapping, parse_mapping_file, parse_sensitive
    from policies.record import facts_from, record_evaluation
    from policies.registration import parse_registration, register_locally, register_remotely
    from policies.remote import GateServiceError, RemoteLedger

    if server is not None and not api_key:
        raise _fail("--server needs --api-key (or GOVLEDGER_API_KEY)", EXIT_USAGE)
    if register is not None and dry_run:
        raise _fail("--register records the model in the ledger; it cannot be combined with --dry-run", EXIT_USAGE)
    registration = parse_registration(register, training_run, training_data) if register is not None else None
    check_threshold(threshold, "--threshold")
    trusted = [*trusted_types(trust or [], "cli"), *trusted_types(state(ctx).settings().gate_trusted_types, "settings")]
    loaded = load_policy(policy)
    mapping = parse_sensitive(sensitive, used_by_policy=loaded.policy.sensitive_attributes)
    if classes is not None:
        mapping = mapping.merged(parse_mapping_file(classes))
    if proxy:
        mapping = mapping.merged(ClassMapping({}, tuple(p.strip() for p in proxy if p.strip())))
    described: dict[str, Any] = {}  # filled by evaluate() once the model has scored the data
    inputs = GateInputs(
        model, data, target, mapping, loaded, trust=tuple(trusted), threshold=threshold, described=described.update
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
        if registration is not None:
            facts = _registering(facts, registration, ledger, remote, register_locally, register_remotely, described)
        try:
            evaluation = evaluate(inputs, facts)
        except GateServiceError as exc:
            raise _fail(str(exc), EXIT_SERVICE) from None
        note = "not recorded (--dry-run)"
        if not dry_run and not evaluation.registered:
            raise _fail(_register_first(model, evaluation.model_sha256), EXIT_USAGE)
        payload: dict[str, Any] = evaluation.record()
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
        sys.stdout.write(json.dumps({**payload, "recorded": note}, indent=2) + "\n")
    else:
        out.print(rule_table(evaluation))
        for outcome in evaluation.outcomes:
            if outcome.verdict != "pass":
                out.print(f"  {outcome.rule.id} ({outcome.rule.severity}): {outcome.judgement.message}")
        if evaluation.coverage.shortfall:
            out.print(f"  insufficient evidence: {evaluation.coverage.shortfall}")
        out.print(f"verdict: {evaluation.verdict}; {note}")
    if junit is not None:
        write_junit(evaluation, junit)
    if summary is not None:
        summary.write_text(markdown_summary(evaluation, recorded=note), encoding="utf-8")
    raise typer.Exit(_EXIT_FOR[evaluation.verdict])


def _registering(
    facts: FactsProvider,
    registration: Registration,
    ledger: Ledger | None,
    remote: RemoteLedger | None,
    locally: Callable[..., list[int]],
    remotely: Callable[..., None],
    described: dict[str, Any],
) -> FactsProvider:
    """The facts provider, registering the model first: `evaluate` asks for facts only after the
    model, the data and the mapping were read and the model scored the data, so bad input still
    records nothing."""

    def provide(artifact_sha256: str, data_sha256: str) -> LineageFacts:
        described_registration = replace(registration, described=dict(described))
        if remote is not None:
            remotely(remote, described_registration, artifact_sha256)
        else:
            locally(ledger, described_registration, artifact_sha256, actor=local_actor())
        return facts(artifact_sha256, data_sha256)

    return provide


def _register_first(model: Path, artifact_sha256: str) -> str:
    """The one-line error for a model the ledger does not know, with the command that fixes it."""
    return (
        f"model artifact {model} ({artifact_sha256[:12]}) is not registered in the ledger; add "
        "`--register NAME@VERSION --training-run RUN_ID` (and `--training-data DATASET_ID` if the run is not "
        "recorded yet) to register it in this step, or evaluate without recording with --dry-run"
    )


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
    from policies.protected import band_labels

    loaded = load_policy(policy)
    out.print(f"{loaded.policy.name} version {loaded.policy.version} sha256 {loaded.sha256}")
    classes = loaded.policy.protected_classes
    out.print(f"  protected classes: {', '.join(loaded.policy.sensitive_attributes) or 'none'}", markup=False)
    if classes.required or classes.at_least:
        needed = ", ".join(classes.required) if classes.required else f"at least {classes.at_least}"
        out.print(f"  must be mapped to columns (--sensitive CLASS=COLUMN): {needed}", markup=False)
    for name, cuts in classes.bands.items():
        out.print(f"  {name} bands: {', '.join(band_labels(cuts))}", markup=False)
    if classes.prohibited_bases:
        out.print(f"  prohibited bases: {', '.join(classes.prohibited_bases)}", markup=False)
    for rule in loaded.policy.rules:
        by = f" by {' × '.join(rule.by)}" if rule.by else ""
        line = f"  {rule.id}: {rule.metric}{by} {rule.comparison} {rule.threshold:g} [{rule.severity}]"
        out.print(line, markup=False)
