"""A governed ledger for the report tests: real Adult lineage, two models, the four-fifths policy,
their evaluations, an approval by another person, a promotion, decisions with sealed inputs and
SHAP reasons, a human override and an erased subject."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from ledger.access import create_api_key
from ledger.api import Ledger, local_actor
from ledger.config import Settings
from ledger.entry import Actor
from ledger.lineage import open_governance_ledger
from ledger.lineage.decisions import record_decisions
from ledger.privacy import erase_subject
from ledger.sequencer import CheckpointPolicy
from policies.adult_lineage import register_adult_datasets, register_trained_model
from policies.artifacts import load_model
from policies.decision_log import decision_requests
from policies.evaluate import GateInputs, evaluate
from policies.loader import load_policy
from policies.record import facts_from, publish_policy, record_evaluation
from tests.conftest import AdultModels

DECISIONS = 300


@dataclass(frozen=True)
class Governed:
    ledger: Ledger
    decision_id: str
    erased_subject: str
    model: tuple[str, str] = ("income-mitigated", "1")
    blocked_model: tuple[str, str] = ("income-baseline", "1")


def key_actor(ledger: Ledger, role: str, name: str) -> Actor:
    token, _ = create_api_key(ledger, name=name, role=role, actor=local_actor())
    return Actor(f"key:{token.split('_')[1]}", name)


@pytest.fixture
def governed(db_url: str, home: Path, adult_models: AdultModels) -> Iterator[Governed]:
    ledger = open_governance_ledger(
        Settings(database_url=db_url, home=home), policy=CheckpointPolicy(after_batch=True, max_delay_s=None)
    )
    ledger.init(origin="reports.example/log")
    try:
        scientist = key_actor(ledger, "producer", "dana (data scientist)")
        officer = key_actor(ledger, "approver", "rui (risk officer)")
        service = key_actor(ledger, "producer", "scoring service")
        ids = register_adult_datasets(ledger, adult_models.prepared, actor=scientist)
        paths = {"baseline": adult_models.baseline, "mitigated": adult_models.mitigated}
        for name, path in paths.items():
            register_trained_model(
                ledger,
                name=f"income-{name}",
                version="1",
                model_path=path,
                run_id=f"run-{name}",
                train_dataset=ids["train"],
                parameters={"seed": 0, "kind": name},
                actor=scientist,
            )
        policy = load_policy("four-fifths")
        publish_policy(ledger, policy, actor=officer)
        evaluation_ids = {}
        for name, path in paths.items():
            inputs = GateInputs(path, adult_models.prepared.eval.path, "income", ["sex", "race"], policy)
            evaluation_ids[name] = record_evaluation(
                ledger,
                evaluate(inputs, facts_from(ledger)),
                actor=local_actor(),  # type: ignore[arg-type]
            ).evaluation_id
        model = {"name": "income-mitigated", "version": "1"}
        ledger.append(
            "approval.recorded",
            {
                "approval_id": "approval-1",
                "model": model,
                "decision": "approve",
                "role": "approver",
                "comment": "four-fifths gate passed",
                "evaluation_id": evaluation_ids["mitigated"],
            },
            actor=officer,
        )
        ledger.append("model.promoted", {"model": model, "stage": "production"}, actor=officer)
        applicants = pd.read_csv(adult_models.prepared.eval.path).head(DECISIONS)
        fitted = load_model(adult_models.mitigated)
        requests = decision_requests(
            fitted,
            applicants,
            model_ref=model,
            features=[str(f) for f in fitted.feature_names_in_],
            start=datetime(2026, 11, 1, 9, 0, tzinfo=UTC),
            explain_at_most=40,
        )
        record_decisions(ledger, requests, actor=service)
        explained = [r for r in requests if "explanation" in r and r["explanation"]["reason_codes"]]
        chosen = explained[0]["decision_id"]
        ledger.append(
            "decision.reviewed",
            {
                "decision_id": chosen,
                "outcome": "overridden",
                "override_reason": "verified income documents outweigh the model's reasons",
                "new_decision": "approve",
                "reviewed_at": "2026-11-02T10:00:00Z",
            },
            actor=officer,
        )
        erased = explained[-1]["subject_ref"]
        erase_subject(ledger, erased, reason="GDPR Art. 17 request", actor=local_actor())
        yield Governed(ledger, chosen, erased)
    finally:
        ledger.close()
