"""The policy part of `govledger demo`: on the real UCI Adult data, a baseline and a mitigated
model are trained and registered with their lineage, the `four-fifths` pack is published, the
gate blocks the baseline (exit code 1, failing rule shown) and passes the mitigated model, which
a second person approves and promotes; the baseline's promotion is refused by the ledger."""

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
from govledger.demo.training import MODEL_TYPES, train_baseline, train_mitigated
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
from policies.loader import load_policy
from policies.outputs import rule_table
from policies.protected import ClassMapping
from policies.record import facts_from, publish_policy, record_evaluation

__all__ = ["run_policy_demo"]

Step = Callable[[int, str], None]
out = Console(highlight=False, width=150)


def _key_actor(ledger: Ledger, role: str, name: str) -> Actor:
    return create_key_actor(ledger, name=name, role=role, actor=local_actor())


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

    step(number + 1, "Train a baseline (gradient boosting) and a mitigated model (fairlearn ExponentiatedGradient)")
    train = pd.read_csv(prepared.train.path)
    paths = {}
    for name, trainer in (("baseline", train_baseline), ("mitigated", train_mitigated)):
        tick = time.perf_counter()
        model = trainer(train, seed=0)
        paths[name] = workdir / f"income-{name}.skops"
        save_model(model, paths[name], trust=MODEL_TYPES)
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

    step(number + 2, "A risk officer publishes the four-fifths policy (EEOC 29 CFR 1607.4(D)); it gates promotion")
    policy = load_policy("four-fifths")
    seq = publish_policy(ledger, policy, actor=local_actor())
    out.print(f"policy four-fifths version 1 ({policy.sha256[:12]}) published at entry {seq}")

    step(number + 3, "CI runs the gate on each model (govledger gate --policy four-fifths ...)")
    evaluations = {}
    for name in ("baseline", "mitigated"):
        inputs = GateInputs(
            paths[name],
            prepared.eval.path,
            "income",
            ClassMapping({"sex": "sex", "race": "race"}),
            policy,
            trust=MODEL_TYPES,
        )
        evaluation = evaluate(inputs, facts_from(ledger))
        recorded = record_evaluation(ledger, evaluation, actor=local_actor())
        evaluations[name] = recorded.evaluation_id
        out.print(rule_table(evaluation))
        code = {"passed": EXIT_PASSED, "blocked": EXIT_BLOCKED}.get(evaluation.verdict, 3)
        for outcome in evaluation.outcomes:
            if outcome.verdict != "pass":
                out.print(f"  [red]{outcome.rule.id}[/red]: {outcome.judgement.message}")
        out.print(f"income-{name}: {evaluation.verdict}, exit code {code}; evaluation at entry {recorded.seq}")

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
            "comment": "four-fifths gate passed on the 2026 evaluation set",
            "evaluation_id": evaluations["mitigated"],
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
        f"The scoring service logs {decisions:,} decisions of income-mitigated@1 (inputs sealed, SHAP reasons)",
    )
    tick = time.perf_counter()
    fitted = load_model(paths["mitigated"], trust=MODEL_TYPES)
    frame = pd.read_csv(prepared.eval.path)
    applicants = frame.sample(n=decisions, replace=decisions > len(frame), random_state=0).reset_index(drop=True)
    requests = decision_requests(
        fitted,
        applicants,
        model_ref=mitigated,
        features=[str(f) for f in fitted.feature_names_in_],
        # decisions made now, after the promotion (one second apart, as a backfill of today's traffic)
        start=datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=decisions),
        explain_at_most=100,
        prefix="loan",
    )
    service = _key_actor(ledger, "producer", "scoring service")
    for start in range(0, len(requests), 1000):
        record_decisions(ledger, requests[start : start + 1000], actor=service)
    adverse = sum(r["output"]["adverse"] for r in requests)
    explained = [r for r in requests if r.get("explanation", {}).get("reason_codes")]
    out.print(
        f"{len(requests):,} decisions ({adverse:,} adverse, {len(explained)} with principal reasons) "
        f"in {time.perf_counter() - tick:.1f} s"
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
        "since": requests[0]["ts_start"],
        "until": (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
