"""The policy part of `govledger demo`: on the real UCI Adult data, a baseline and a mitigated
model are trained and registered with their lineage, the `four-fifths` pack is published, the
gate blocks the baseline (exit code 1, failing rule shown) and passes the mitigated model, which
a second person approves and promotes; the baseline's promotion is refused by the ledger."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from rich.console import Console

from ledger.access import create_api_key
from ledger.api import Ledger, local_actor
from ledger.entry import Actor
from ledger.errors import PromotionBlockedError
from policies.adult import prepare_adult_csvs
from policies.adult_lineage import register_adult_datasets, register_trained_model
from policies.artifacts import save_model
from policies.cli import EXIT_BLOCKED, EXIT_PASSED
from policies.evaluate import GateInputs, evaluate
from policies.loader import load_policy
from policies.outputs import rule_table
from policies.record import facts_from, publish_policy, record_evaluation
from policies.training import train_baseline, train_mitigated

__all__ = ["run_policy_demo"]

Step = Callable[[int, str], None]
out = Console(highlight=False, width=150)


def _key_actor(ledger: Ledger, role: str, name: str) -> Actor:
    token, _ = create_api_key(ledger, name=name, role=role, actor=local_actor())
    return Actor(f"key:{token.split('_')[1]}", name)


def run_policy_demo(ledger: Ledger, workdir: Path, step: Step, number: int) -> int:
    """Run the policy steps starting at `number`; returns the next step number."""
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

    step(number + 2, "A risk officer publishes the four-fifths policy (EEOC 29 CFR 1607.4(D)); it gates promotion")
    policy = load_policy("four-fifths")
    seq = publish_policy(ledger, policy, actor=local_actor())
    out.print(f"policy four-fifths version 1 ({policy.sha256[:12]}) published at entry {seq}")

    step(number + 3, "CI runs the gate on each model (govledger gate --policy four-fifths ...)")
    evaluations = {}
    for name in ("baseline", "mitigated"):
        inputs = GateInputs(paths[name], prepared.eval.path, "income", ["sex", "race"], policy)
        evaluation = evaluate(inputs, facts_from(ledger))  # type: ignore[arg-type]
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
    else:  # pragma: no cover - the demo fails loudly if the gate does not hold
        raise RuntimeError("the blocked model was promoted")
    return number + 5
