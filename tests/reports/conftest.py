"""A governed ledger for the report tests: real Adult lineage, two models, the four-fifths policy,
their evaluations, an approval by another person, a promotion, decisions with sealed inputs and
SHAP reasons, a human override and an erased subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import pytest

from govledger.demo.fair_lending import EXCLUDED_FROM_REASONS, MONITORED, REASON_MAP_VERSION, REASON_TEXT
from ledger.access.api_keys import create_key_actor
from ledger.api import Ledger, local_actor
from ledger.lineage.decisions import record_decisions
from ledger.log.entry import Actor
from ledger.privacy.sealing import erase_subject
from policies.artifacts import load_model
from policies.decision_log import decision_requests
from policies.evaluate import GateInputs, evaluate
from policies.loader import load_policy
from policies.protected import ClassMapping
from policies.record import facts_from, publish_policy, record_evaluation
from tests.conftest import AdultModels, register_adult_models

DECISIONS = 300


@dataclass(frozen=True)
class Governed:
    ledger: Ledger
    decision_id: str
    erased_subject: str
    model: tuple[str, str] = ("income-mitigated", "1")
    blocked_model: tuple[str, str] = ("income-baseline", "1")


ORGANISATION = "Example Credit Union"


def key_actor(ledger: Ledger, role: str, name: str, display_name: str | None = None) -> Actor:
    """A key-holding actor; the ones given a display name print as that person on report covers."""
    return create_key_actor(
        ledger,
        name=name,
        role=role,
        actor=local_actor(),
        display_name=display_name,
        organisation=ORGANISATION if display_name else None,
    )


@pytest.fixture
def governed(gov: Ledger, adult_models: AdultModels) -> Governed:
    ledger = gov
    scientist = key_actor(ledger, "producer", "dana (data scientist)")
    officer = key_actor(ledger, "approver", "rui (risk officer)", "Rui Carvalho")
    service = key_actor(ledger, "producer", "scoring service")
    register_adult_models(ledger, adult_models, actor=scientist)
    paths = {"baseline": adult_models.baseline, "mitigated": adult_models.mitigated}
    policy = load_policy("four-fifths")
    publish_policy(ledger, policy, actor=officer)
    evaluation_ids = {}
    for name, path in paths.items():
        inputs = GateInputs(
            path,
            adult_models.prepared.eval.path,
            "income",
            ClassMapping({"sex": "sex", "race": "race"}),
            policy,
        )
        evaluation_ids[name] = record_evaluation(
            ledger,
            evaluate(inputs, facts_from(ledger)),
            actor=local_actor(),
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
        excluded=EXCLUDED_FROM_REASONS,
        reason_text=REASON_TEXT,
        reason_map_version=REASON_MAP_VERSION,
        monitoring_fields=MONITORED,
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
    return Governed(ledger, chosen, erased)
