"""A governed ledger served by a real uvicorn process thread, for the console's HTTP and browser tests.

The ledger: the Adult datasets and models registered by an admin (so the admin has recorded the
training runs: separation of duties applies to them), the four-fifths policy published by a risk
officer, evaluations of the baseline (blocked) and the mitigated model (passed) under two
versions: `income-mitigated@1` approved, promoted and deciding; `income-mitigated@2` passed and
waiting for approval. Keys for every role, and a second approver.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import uvicorn

from govledger.demo.adult_lineage import register_adult_datasets, register_trained_model
from govledger.demo.fair_lending import EXCLUDED_FROM_REASONS, MONITORED, REASON_MAP_VERSION, REASON_TEXT
from govledger.demo.training import train_mitigated
from govledger.registry import open_ledger
from govledger.service import service_routers
from ledger.access.api_keys import Principal, create_api_key, split_token
from ledger.access.roles import Role
from ledger.api import Ledger, local_actor
from ledger.config import Settings
from ledger.lineage.decisions import record_decisions
from ledger.service import create_app
from ledger.storage.sequencer import CheckpointPolicy
from policies.artifacts import load_model, save_model
from policies.decision_log import decision_requests
from policies.evaluate import GateInputs, evaluate
from policies.loader import load_policy
from policies.protected import ClassMapping
from policies.record import facts_from, publish_policy, record_evaluation
from tests.conftest import AdultModels

ROLES = ("admin", "producer", "ci", "approver", "auditor")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass(frozen=True)
class Console:
    base_url: str
    ledger: Ledger
    tokens: dict[str, str]  # role -> API key; "approver2" is a second risk officer
    decision_id: str
    subject_ref: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _key(ledger: Ledger, name: str, role: str) -> tuple[str, Principal]:
    token, _ = create_api_key(ledger, name=name, role=role, actor=local_actor())
    key_id, _secret = split_token(token) or ("", "")
    return token, Principal(key_id, name, Role(role))


def build_governed(ledger: Ledger, models: AdultModels, second: Path) -> tuple[dict[str, str], str, str]:
    """`second` is another mitigated model file (a different artifact) for version 2."""
    tokens: dict[str, str] = {}
    principals: dict[str, Principal] = {}
    for role, name in (
        ("admin", "ada (administrator)"),
        ("producer", "scoring service"),
        ("ci", "ci pipeline"),
        ("approver", "rui (risk officer)"),
        ("approver2", "mei (risk officer)"),
        ("auditor", 'aud <script>alert(1)</script> "q" (auditor)'),
    ):
        tokens[role], principals[role] = _key(ledger, name, "approver" if role == "approver2" else role)
    admin = principals["admin"].actor
    ids = register_adult_datasets(ledger, models.prepared, actor=admin)
    artifacts = {}
    for name, version, path in (
        ("income-baseline", "1", models.baseline),
        ("income-mitigated", "1", models.mitigated),
        ("income-mitigated", "2", second),
    ):
        artifacts[(name, version)] = register_trained_model(
            ledger,
            name=name,
            version=version,
            model_path=path,
            run_id=f"run-{name}-{version}",
            train_dataset=ids["train"],
            parameters={"seed": 0},
            actor=admin,
        )
    officer = principals["approver"].actor
    policy = load_policy("four-fifths")
    publish_policy(ledger, policy, actor=officer)
    evaluations = {}
    for name, version, path in (
        ("income-baseline", "1", models.baseline),
        ("income-mitigated", "1", models.mitigated),
        ("income-mitigated", "2", second),
    ):
        inputs = GateInputs(
            path, models.prepared.eval.path, "income", ClassMapping({"sex": "sex", "race": "race"}), policy
        )
        evaluations[f"{name}@{version}"] = record_evaluation(
            ledger, evaluate(inputs, facts_from(ledger)), actor=local_actor()
        ).evaluation_id
    model = {"name": "income-mitigated", "version": "1"}
    ledger.append(
        "approval.recorded",
        {
            "approval_id": "approval-1",
            "model": model,
            "decision": "approve",
            "role": "model risk officer",
            "comment": "passed the four-fifths policy",
            "evaluation_id": evaluations["income-mitigated@1"],
        },
        actor=officer,
    )
    ledger.append("model.promoted", {"model": model, "stage": "production"}, actor=officer)
    applicants = pd.read_csv(models.prepared.eval.path).head(40)
    fitted = load_model(models.mitigated)
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
        explain_at_most=5,
    )
    record_decisions(ledger, requests, actor=principals["producer"].actor)
    return tokens, requests[0]["decision_id"], requests[0]["subject_ref"]


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, adult_models: AdultModels) -> Iterator[Console]:
    home = tmp_path_factory.mktemp("console-home")
    ledger = open_ledger(
        Settings(database_url=f"sqlite:///{home / 'ledger.db'}", home=home),
        policy=CheckpointPolicy(after_batch=True, max_delay_s=None),
    )
    ledger.init(origin="console.example/log")
    second = home / "mitigated-2.skops"
    train = pd.read_csv(adult_models.prepared.train.path)
    save_model(train_mitigated(train, seed=1), second)
    tokens, decision_id, subject_ref = build_governed(ledger, adult_models, second)
    app = create_app(ledger=ledger, routers=service_routers())
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield Console(f"http://127.0.0.1:{port}", ledger, tokens, decision_id, subject_ref)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        ledger.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (it cannot download its own browser here)."""
    if CHROMIUM is None:
        pytest.skip("SKIPPED LOUDLY: no chromium executable (install Debian's chromium: make system-packages)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
