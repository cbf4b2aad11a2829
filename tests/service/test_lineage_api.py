"""The lineage endpoints end to end, bad input, and the uniform error body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from govledger.cli import main
from ledger.wire import DecisionTrace, ProofPack
from tests.lineage.factories import SCORING_SERVICE, build_evaluated_chain, dataset, decision, model, run
from tests.service.conftest import Service

pytestmark = pytest.mark.anyio


async def post(client: httpx.AsyncClient, service: Service, role: str, url: str, body: Any) -> httpx.Response:
    return await client.post(url, json=body, headers=service.headers(role))


async def test_register_chain_promote_and_read_back(client: httpx.AsyncClient, service: Service) -> None:
    for item in (dataset("raw"), dataset("clean", derived_from=["raw"])):
        response = await post(client, service, "producer", "/v1/datasets", item)
        assert response.status_code == 201, response.text
    assert (await post(client, service, "producer", "/v1/runs", run("r1", ["clean"]))).status_code == 201
    assert (await post(client, service, "producer", "/v1/models", model("credit", "1", "r1"))).status_code == 201
    approval = {
        "approval_id": "a1",
        "model": {"name": "credit", "version": "1"},
        "decision": "approve",
        "role": "approver",
    }
    assert (await post(client, service, "approver", "/v1/approvals", approval)).status_code == 201
    promoted = await post(
        client, service, "approver", "/v1/models/credit/1/promotions", {"stage": "production", "approval_ids": ["a1"]}
    )
    assert promoted.status_code == 201
    seq = promoted.json()["seq"]

    got = await client.get("/v1/models/credit/1", headers=service.headers("auditor"))
    assert got.status_code == 200
    assert got.json()["stage"] == "production" and got.json()["stage_seq"] == seq
    assert got.json()["recorded_by"]["name"] == "producer-key"  # every write names the acting key

    entry = await client.get(f"/v1/entries/{seq}", headers=service.headers("auditor"))
    body = entry.json()
    assert body["actor"] == {"id": body["actor"]["id"], "name": "approver-key"}
    assert body["inclusion_proof"]["size"] > seq and body["checkpoint"].startswith("service.example/log\n")

    page1 = await client.get("/v1/datasets?limit=1", headers=service.headers("auditor"))
    assert [d["dataset_id"] for d in page1.json()["items"]] == ["raw"]
    after = page1.json()["next_after"]
    page2 = await client.get(f"/v1/datasets?limit=1&after={after}", headers=service.headers("auditor"))
    assert [d["dataset_id"] for d in page2.json()["items"]] == ["clean"]
    assert page2.json()["next_after"] is None

    listed = await client.get("/v1/models?stage=production", headers=service.headers("ci"))
    assert [(m["name"], m["version"]) for m in listed.json()["items"]] == [("credit", "1")]


@pytest.mark.parametrize(
    ("url", "body", "status", "field"),
    [
        ("/v1/datasets", {**dataset("x"), "rows": "many"}, 422, "rows"),
        ("/v1/datasets", {**dataset("x"), "unexpected": 1}, 422, "unexpected"),
        ("/v1/datasets", dataset("x", derived_from=["missing"]), 404, None),
        ("/v1/runs", run("r", ["missing"]), 404, None),
        ("/v1/models", model("m", "1", "missing"), 404, None),
    ],
)
async def test_bad_input_gets_a_clear_error_and_writes_nothing(
    client: httpx.AsyncClient, service: Service, url: str, body: Any, status: int, field: str | None
) -> None:
    size = service.ledger.size
    response = await post(client, service, "producer", url, body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] and error["message"]
    if field is not None:
        assert any(field in map(str, e["loc"]) for e in error["errors"]), error
    assert service.ledger.size == size


async def test_duplicate_is_409_and_malformed_json_is_422(client: httpx.AsyncClient, service: Service) -> None:
    assert (await post(client, service, "producer", "/v1/datasets", dataset("d"))).status_code == 201
    size = service.ledger.size
    again = await post(client, service, "producer", "/v1/datasets", dataset("d"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    broken = await client.post(
        "/v1/datasets",
        content=b'{"dataset_id": ',
        headers={**service.headers("producer"), "content-type": "application/json"},
    )
    assert broken.status_code == 422
    assert service.ledger.size == size


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient, service: Service) -> None:
    size = service.ledger.size
    big = dataset("big", description="x" * 100_000)
    response = await post(client, service, "producer", "/v1/datasets", big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert service.ledger.size == size


async def test_separation_of_duties_is_403(client: httpx.AsyncClient, service: Service) -> None:
    await post(client, service, "admin", "/v1/datasets", dataset("d"))
    await post(client, service, "admin", "/v1/runs", run("r", ["d"]))
    await post(client, service, "admin", "/v1/models", model("m", "1", "r"))
    size = service.ledger.size
    approval = {"approval_id": "a", "model": {"name": "m", "version": "1"}, "decision": "approve", "role": "admin"}
    response = await post(client, service, "admin", "/v1/approvals", approval)
    assert response.status_code == 403 and "separation of duties" in response.json()["error"]["message"]
    assert service.ledger.size == size


def verify_pack_exit_code(*args: str) -> int | str | None:
    with pytest.raises(SystemExit) as exited:
        main(["verify-pack", *args])
    return exited.value.code


async def test_trace_of_an_evaluated_model_names_every_entry_and_checks_offline(
    client: httpx.AsyncClient, service: Service, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chain = build_evaluated_chain(service.ledger)
    service.ledger.append("decision.recorded", decision("d-1", chain.facts), actor=SCORING_SERVICE)
    review = {"outcome": "overridden", "override_reason": "income verified", "reviewed_at": "2026-11-24T09:00:00Z"}
    assert (await post(client, service, "approver", "/v1/decisions/d-1/reviews", review)).status_code == 201
    traced = await client.get("/v1/decisions/d-1/trace", headers=service.headers("auditor"))
    assert traced.status_code == 200, traced.text
    trace, pack = traced.json()["trace"], traced.json()["pack"]
    assert [n["id"] for n in trace["evaluations"]] == ["evaluation:ev-1", "evaluation:ev-2", "evaluation:ev-3"]
    assert [n["id"] for n in trace["policies"]] == ["policy:four-fifths@1", "policy:four-fifths@2"]
    assert {"source": "approval:appr-1", "target": "evaluation:ev-2", "relation": "relies_on"} in trace["edges"]
    (reviewed,) = trace["reviews"]
    assert reviewed["attributes"]["reviewer"]["name"] == "approver-key"
    assert reviewed["attributes"]["override_reason"] == "income verified"
    leaves = {item["seq"]: item["leaf_hash"] for item in pack["entries"]}
    nodes = [*trace["lineage"]["nodes"], *trace["evaluations"], *trace["policies"], *trace["approvals"]]
    nodes += [*trace["stage_changes"], *trace["reviews"]]
    assert sorted(leaves) == trace["seqs"] == sorted({n["seq"] for n in nodes})
    assert all(n["leaf_hash"] == leaves[n["seq"]] for n in nodes)
    # the declared response model describes every field (nothing lost or coerced in a round trip)
    assert DecisionTrace.model_validate(traced.json()).model_dump(mode="json") == traced.json()

    pack_file, trace_file = tmp_path / "trace.govpack.json", tmp_path / "trace.json"
    pack_file.write_bytes(
        (await client.get("/v1/decisions/d-1/trace/pack", headers=service.headers("auditor"))).content
    )
    assert ProofPack.model_validate_json(pack_file.read_bytes()).model_dump(mode="json") == json.loads(
        pack_file.read_bytes()
    )
    trace_file.write_bytes(traced.content)  # the whole response
    assert verify_pack_exit_code(str(pack_file), "--trace", str(trace_file)) == 0
    trace_file.write_text(json.dumps(trace))  # or only its trace
    capsys.readouterr()
    assert verify_pack_exit_code(str(pack_file), "--trace", str(trace_file), "--json") == 0
    assert json.loads(capsys.readouterr().out)["trace"] == {"decision_id": "d-1", "nodes": len(nodes)}
    trace["evaluations"][0]["leaf_hash"] = trace["policies"][0]["leaf_hash"]
    trace_file.write_text(json.dumps(trace))
    assert verify_pack_exit_code(str(pack_file), "--trace", str(trace_file)) == 1
