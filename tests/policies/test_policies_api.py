"""The policy endpoints and the remote gate, on a real ledger and a real uvicorn server: the same
policy gives the same verdict through the CLI, the HTTP API and the Python API."""

from __future__ import annotations

import copy
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from govledger.cli import main
from govledger.service import service_routers
from ledger.access.api_keys import create_api_key
from ledger.api import Ledger, local_actor
from ledger.service import create_app
from policies.evaluate import GateInputs, evaluate
from policies.loader import load_policy
from policies.protected import ClassMapping
from policies.record import facts_from
from tests.conftest import AdultModels

ROLES = ("admin", "producer", "ci", "approver", "auditor")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Live:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.tokens = {
            role: create_api_key(ledger, name=f"{role}-key", role=role, actor=local_actor())[0] for role in ROLES
        }
        self.port = free_port()
        app = create_app(ledger=ledger, routers=service_routers())
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def live(adult_ledger: Ledger) -> Iterator[Live]:
    server = Live(adult_ledger)
    server.thread.start()
    deadline = time.monotonic() + 10
    while not server.server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield server
    finally:
        server.server.should_exit = True
        server.thread.join(10)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def gate_args(models: AdultModels, model: Path, live: Live, role: str = "ci") -> list[str]:
    return [
        "gate",
        "--policy",
        "four-fifths",
        "--model",
        str(model),
        "--data",
        str(models.prepared.eval.path),
        "--target",
        "income",
        "--sensitive",
        "sex,race",
        "--server",
        live.url,
        "--api-key",
        live.tokens[role],
    ]


def publish(live: Live) -> dict[str, Any]:
    text = load_policy("four-fifths").text
    response = httpx.post(f"{live.url}/v1/policies", json={"text": text}, headers=live.headers("approver"))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_publish_read_and_bad_policies(live: Live) -> None:
    size = live.ledger.size
    bad = httpx.post(f"{live.url}/v1/policies", json={"text": "rules: ["}, headers=live.headers("approver"))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    assert "not valid YAML" in bad.json()["error"]["message"] and live.ledger.size == size
    published = publish(live)
    assert published["sha256"] == load_policy("four-fifths").sha256
    listed = httpx.get(f"{live.url}/v1/policies", headers=live.headers("auditor")).json()
    assert listed["active"] == published["sha256"]
    one = httpx.get(f"{live.url}/v1/policies/{published['sha256']}", headers=live.headers("auditor")).json()
    assert one["data"]["text"] == load_policy("four-fifths").text
    again = httpx.post(
        f"{live.url}/v1/policies", json={"text": load_policy("four-fifths").text}, headers=live.headers("approver")
    )
    assert again.status_code == 409


def test_remote_gate_exit_codes_and_promotion_over_http(
    live: Live, adult_models: AdultModels, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(live)
    code, out, err = run_cli(capsys, *gate_args(adult_models, adult_models.baseline, live))
    assert code == 1, out + err
    code, out, err = run_cli(capsys, *gate_args(adult_models, adult_models.mitigated, live))
    assert code == 0, out + err
    size = live.ledger.size
    code, _, err = run_cli(capsys, *gate_args(adult_models, adult_models.mitigated, live, role="auditor"))
    assert code == 4 and "403" in err and live.ledger.size == size  # the service refused: exit 4
    args = gate_args(adult_models, adult_models.mitigated, live)
    args[args.index("--server") + 1] = f"http://127.0.0.1:{free_port()}"
    code, _, err = run_cli(capsys, *args)
    assert code == 4 and "unreachable" in err

    evaluations = httpx.get(f"{live.url}/v1/evaluations", headers=live.headers("auditor")).json()["items"]
    assert [e["verdict"] for e in evaluations] == ["passed", "blocked"]  # newest first
    blocked = httpx.post(
        f"{live.url}/v1/models/income-baseline/1/promotions",
        json={"stage": "production"},
        headers=live.headers("approver"),
    )
    assert blocked.status_code == 409, blocked.text
    error = blocked.json()["error"]
    assert error["code"] == "promotion_blocked"
    assert error["errors"][0]["loc"] == ["rules", "impact-ratio-sex"] and error["errors"][0]["group"] == "Female"
    assert error["errors"][0]["threshold"] == 0.8 and error["errors"][0]["value"] < 0.8

    passed = evaluations[0]["evaluation_id"]
    approval = {
        "approval_id": "ap-1",
        "model": {"name": "income-mitigated", "version": "1"},
        "decision": "approve",
        "role": "approver",
        "evaluation_id": passed,
    }
    assert httpx.post(f"{live.url}/v1/approvals", json=approval, headers=live.headers("approver")).status_code == 201
    promoted = httpx.post(
        f"{live.url}/v1/models/income-mitigated/1/promotions",
        json={"stage": "production"},
        headers=live.headers("approver"),
    )
    assert promoted.status_code == 201, promoted.text


def test_the_service_rejudges_a_submitted_evaluation(live: Live, adult_models: AdultModels) -> None:
    publish(live)
    inputs = GateInputs(
        adult_models.baseline,
        adult_models.prepared.eval.path,
        "income",
        ClassMapping({"sex": "sex", "race": "race"}),
        load_policy("four-fifths"),
    )
    payload = evaluate(inputs, facts_from(live.ledger)).payload()
    assert payload["verdict"] == "blocked"
    forged = copy.deepcopy(payload)
    for rule in forged["rules"]:
        if rule["verdict"] != "not_evaluated":  # the unmapped classes' rules stay as they are
            rule["verdict"] = "pass"
    forged["verdict"] = "passed"
    size = live.ledger.size
    refused = httpx.post(f"{live.url}/v1/evaluations", json=forged, headers=live.headers("ci"))
    assert refused.status_code == 422 and refused.json()["error"]["errors"][0]["type"] == "verdict_mismatch"
    weaker = copy.deepcopy(payload)
    weaker["rules"][0]["threshold"] = 0.1
    refused = httpx.post(f"{live.url}/v1/evaluations", json=weaker, headers=live.headers("ci"))
    assert refused.status_code == 422 and live.ledger.size == size
    accepted = httpx.post(f"{live.url}/v1/evaluations", json=payload, headers=live.headers("ci"))
    assert accepted.status_code == 201 and accepted.json()["already_recorded"] is False
    again = httpx.post(f"{live.url}/v1/evaluations", json=payload, headers=live.headers("ci"))
    assert again.json() == {**accepted.json(), "already_recorded": True}
    got = httpx.get(f"{live.url}/v1/evaluations/{payload['evaluation_id']}", headers=live.headers("auditor")).json()
    assert got["data"] == payload
