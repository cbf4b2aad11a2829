"""The policy part of `govledger demo`: on the real UCI Adult data, a baseline and a mitigated
model are trained and registered with their lineage, the `four-fifths` and `ecoa-credit` packs
are published, the gate blocks the baseline under both (exit code 1, failing rules shown) and
passes the mitigated model under both, which a second person approves and promotes; the
baseline's promotion is refused by the ledger. Every adverse decision the service then logs
carries its principal reasons, none of them a prohibited basis or a declared proxy
(`govledger.demo.fair_lending`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from govledger.demo.adult import prepare_adult_csvs
from govledger.demo.adult_lineage import register_adult_datasets, register_trained_model
from govledger.demo.fair_lending import (
    EXCLUDED_FROM_REASONS,
    GATE_CLASSES,
    INPUT_SCHEMA_VERSION,
    MONITORED,
    REASON_MAP_VERSION,
    REASON_TEXT,
)
from govledger.demo.training import train_baseline, train_mitigated
from ledger.access.api_keys import create_key_actor
from ledger.api import Ledger, local_actor
from ledger.errors import PromotionBlockedError
from ledger.lineage.decisions import record_decisions
from ledger.log.entry import Actor
from ledger.privacy.sealing import erase_subject
from policies.artifacts import load_model, save_model
from policies.cli import EXIT_BLOCKED, EXIT_PASSED
from policies.decision_log import decision_requests
from policies.evaluate import GateInputs, evaluate
from policies.loader import LoadedPolicy, load_policy
from policies.outputs import rule_table
from policies.record import facts_from, publish_policy, record_evaluation

__all__ = ["GATE_PACKS", "run_policy_demo"]

# The policies CI gates every model on: the outcome test and the credit-law test.
GATE_PACKS = ("four-fifths", "ecoa-credit")

Step = Callable[[int, str], None]
out = Console(highlight=False, width=150)


ORGANISATION = "Example Credit Union (demo)"  # printed on report covers, from the keys
PEOPLE = {"dana (data scientist)": "Dana Whitfield", "rui (risk officer)": "Rui Carvalho"}  # display names


def _key_actor(ledger: Ledger, role: str, name: str) -> Actor:
    return create_key_actor(
        ledger, name=name, role=role, actor=local_actor(), display_name=PEOPLE.get(name), organisation=ORGANISATION
    )


def _gate_each(
    ledger: Ledger, paths: dict[str, Path], eval_path: Path, policies: list[LoadedPolicy]
) -> dict[tuple[str, str], str]:
    """Gate each model under each policy, record every evaluation, show the verdicts; the demo
    stops if the baseline is not blocked, or the mitigated model not passed, by every policy."""
    evaluations = {}
    for name in ("baseline", "mitigated"):
        for policy in policies:
            inputs = GateInputs(paths[name], eval_path, "income", GATE_CLASSES, policy)
            evaluation = evaluate(inputs, facts_from(ledger))
            recorded = record_evaluation(ledger, evaluation, actor=local_actor())
            evaluations[(name, policy.policy.name)] = recorded.evaluation_id
            out.print(rule_table(evaluation))
            code = {"passed": EXIT_PASSED, "blocked": EXIT_BLOCKED}.get(evaluation.verdict, 3)
            for outcome in evaluation.outcomes:
                if outcome.verdict != "pass":
                    out.print(f"  [red]{outcome.rule.id}[/red]: {outcome.judgement.message}")
            out.print(
                f"income-{name} under {policy.policy.name}: {evaluation.verdict}, exit code {code}; "
                f"evaluation at entry {recorded.seq}"
            )
            expected = "blocked" if name == "baseline" else "passed"
            if evaluation.verdict != expected:  # pragma: no cover - the demo fails loudly if its premise breaks
                verdict = f"{evaluation.verdict} by {policy.policy.name}"
                raise RuntimeError(f"income-{name} was {verdict}, expected {expected}")
    return evaluations


def run_policy_demo(
    ledger: Ledger, workdir: Path, step: Step, number: int, *, decisions: int = 10_000
) -> dict[str, Any]:
    """Run the policy steps starting at `number`; returns the next step number and what a report
    step needs (the model in production, a decision with reasons and a review)."""
    step(number, "Real data: the UCI Adult files (checksums verified) and their derived train/eval CSVs")
    prepared = prepare_adult_csvs(workdir / "adult")
    scientist = _key_actor(ledger, "producer", "dana (data scientist)")
    ids = register_adult_datasets(ledger, prepared, actor=scientist)
    out.print(
        f"train.csv {prepared.train.rows:,} rows ({prepared.train.sha256[:12]}), "
        f"eval.csv {prepared.eval.rows:,} rows ({prepared.eval.sha256[:12]}); registered: {', '.join(ids.values())}"
    )

    step(
        number + 1,
        "Train a baseline (gradient boosting on every column) and a mitigated model "
        "(parity-penalised logistic regression, no prohibited basis or proxy)",
    )
    train = pd.read_csv(prepared.train.path)
    paths = {}
    for name, trainer in (("baseline", train_baseline), ("mitigated", train_mitigated)):
        tick = time.perf_counter()
        model = trainer(train, seed=0)
        paths[name] = workdir / f"income-{name}.skops"
        save_model(model, paths[name])
        artifact = register_trained_model(
            ledger,
            name=f"income-{name}",
            version="1",
            model_path=paths[name],
            run_id=f"run-{name}",
            train_dataset=ids["train"],
            parameters={"seed": 0, "kind": name},
            actor=scientist,
        )
        out.print(f"income-{name}@1 trained in {time.perf_counter() - tick:.1f} s; artifact {artifact[:12]} (skops)")

    step(
        number + 2,
        "A risk officer publishes the four-fifths (EEOC 29 CFR 1607.4(D)) and ecoa-credit (Reg B) policies; "
        "they gate promotion",
    )
    policies = [load_policy(name) for name in GATE_PACKS]
    for policy in policies:
        seq = publish_policy(ledger, policy, actor=local_actor())
        name, version = policy.policy.name, policy.policy.version
        out.print(f"policy {name} version {version} ({policy.sha256[:12]}) published at entry {seq}")

    step(number + 3, "CI runs the gate on each model under each policy (govledger gate --policy ...)")
    evaluations = _gate_each(ledger, paths, prepared.eval.path, policies)

    step(number + 4, "Approval by another person, then promotion; the blocked model cannot be promoted")
    officer = _key_actor(ledger, "approver", "rui (risk officer)")
    mitigated = {"name": "income-mitigated", "version": "1"}
    ledger.append(
        "approval.recorded",
        {
            "approval_id": "approval-income-mitigated-1",
            "model": mitigated,
            "decision": "approve",
            "role": "approver",
            "comment": "four-fifths and ecoa-credit gates passed on the 2026 evaluation set",
            "evaluation_id": evaluations[("mitigated", "four-fifths")],
        },
        actor=officer,
    )
    promoted = ledger.append("model.promoted", {"model": mitigated, "stage": "production"}, actor=officer)
    out.print(f"income-mitigated@1 approved by {officer.name} and promoted to production (entry {promoted.seq})")
    try:
        ledger.append(
            "model.promoted",
            {"model": {"name": "income-baseline", "version": "1"}, "stage": "production"},
            actor=officer,
        )
    except PromotionBlockedError as refused:
        out.print(f"income-baseline@1 promotion refused (HTTP 409): {refused.errors[0]['msg'][:140]}")
        out.print(f"the refusal is on the record: entry {refused.recorded_seq} (promotion.refused, by {officer.name})")
    else:  # pragma: no cover - the demo fails loudly if the gate does not hold
        raise RuntimeError("the blocked model was promoted")

    step(
        number + 5,
        f"The scoring service logs {decisions:,} decisions of income-mitigated@1 "
        "(inputs sealed; every adverse one with SHAP reasons, never a prohibited basis)",
    )
    tick = time.perf_counter()
    fitted = load_model(paths["mitigated"])
    frame = pd.read_csv(prepared.eval.path)
    applicants = frame.sample(n=decisions, replace=decisions > len(frame), random_state=0).reset_index(drop=True)
    requests = decision_requests(
        fitted,
        applicants,
        model_ref=mitigated,
        features=[str(f) for f in fitted.feature_names_in_],
        # decisions made now, after the promotion (one second apart, as a backfill of today's traffic)
        start=datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=decisions),
        excluded=EXCLUDED_FROM_REASONS,
        reason_text=REASON_TEXT,
        reason_map_version=REASON_MAP_VERSION,
        input_schema_version=INPUT_SCHEMA_VERSION,
        monitoring_fields=MONITORED,
        prefix="loan",
    )
    service = _key_actor(ledger, "producer", "scoring service")
    for start in range(0, len(requests), 1000):
        record_decisions(ledger, requests[start : start + 1000], actor=service)
    adverse = sum(r["output"]["adverse"] for r in requests)
    explained = [r for r in requests if r.get("explanation", {}).get("reason_codes")]
    referred = sum(bool(r.get("explanation", {}).get("review_required")) for r in requests)
    out.print(
        f"{len(requests):,} decisions ({adverse:,} adverse: {len(explained):,} with principal reasons, "
        f"{referred:,} referred to review for want of a lawful reason) in {time.perf_counter() - tick:.1f} s"
    )
    chosen = explained[0]
    ledger.append(
        "decision.reviewed",
        {
            "decision_id": chosen["decision_id"],
            "outcome": "overridden",
            "override_reason": "income documents verified by a loan officer",
            "new_decision": "approve",
            "reviewed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        actor=officer,
    )
    erased = explained[-1]["subject_ref"]
    erase_subject(ledger, erased, reason="GDPR Art. 17 request from the applicant", actor=local_actor())
    reasons = "; ".join(r["text"] for r in chosen["explanation"]["reason_codes"])
    out.print(f"{chosen['decision_id']} denied for: {reasons}; overridden by {officer.name} on review")
    out.print(f"{erased} erased: their subject key is destroyed, their inputs unreadable, every proof still holds")
    return {
        "next": number + 6,
        "model": ("income-mitigated", "1"),
        "decision_id": chosen["decision_id"],
        "officer": officer,  # the risk officer issues the reports (named on their covers as preparer)
        "since": requests[0]["ts_start"],
        "until": (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
