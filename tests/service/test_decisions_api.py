"""Decisions over HTTP: single, JSON array and NDJSON batches, retries, sealed input, erasure."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from ledger.access.tables import subject_keys
from ledger.lineage import rebuild_projections
from tests.lineage.factories import build_chain
from tests.service.conftest import Service

pytestmark = pytest.mark.anyio

PERSONAL = {"name": "Ada Lovelace", "income": 54321, "postcode": "EC1A 1BB"}


def request(decision_id: str, *, subject: str = "applicant-7", with_input: bool = True) -> dict[str, Any]:
    value: dict[str, Any] = {
        "decision_id": decision_id,
        "ts_start": "2026-11-23T10:00:00Z",
        "ts_end": "2026-11-23T10:00:00.2Z",
        "model": {"name": "credit", "version": "1"},
        "subject_ref": subject,
        "output": {"decision": "deny", "score": 0.31, "adverse": True},
        "explanation": {
            "explainer": "shap.TreeExplainer",
            "explainer_version": "0.46",
            "reason_codes": [{"code": "R1", "text": "Income too low for the amount requested"}],
        },
        "not_applicable": {
            "request_id": "batch scoring has no request",
            "trace_id": "not traced",
            "deployment": "single deployment",
            "reference_database_id": "no reference database",
            "notice": "sent later by the letters service",
            "retention": "default class",
        },
    }
    if not with_input:
        value["not_applicable"]["input"] = "no personal input"
    if with_input:
        value["input"] = PERSONAL
        value["input_schema_version"] = "applicant-v3"
    return value


@pytest.fixture
def chain(service: Service) -> dict[str, Any]:
    return build_chain(service.ledger)


async def post(client: httpx.AsyncClient, service: Service, body: Any, **kwargs: Any) -> httpx.Response:
    return await client.post("/v1/decisions", json=body, headers=service.headers("producer"), **kwargs)


async def test_single_decision_is_enriched_sealed_and_readable(
    client: httpx.AsyncClient, service: Service, chain: dict[str, Any]
) -> None:
    response = await post(client, service, request("d-1"))
    assert response.status_code == 201, response.text
    seq = response.json()["seq"]
    body = service.ledger.get(seq).body
    # personal data never in a leaf (the income as a JSON number; "54321" may occur by chance in a hash)
    assert b"Ada Lovelace" not in body and b"EC1A 1BB" not in body and b":54321" not in body
    data = service.ledger.get(seq).data
    assert data["promotion_seq"] == chain["promotion_seq"] and data["training_run_id"] == "run-1"
    assert set(data["input"]) == {"commitment", "ciphertext", "nonce", "schema_version"}
    got = await client.get("/v1/decisions/d-1", headers=service.headers("auditor"))
    assert got.status_code == 200 and got.json()["seq"] == seq and got.json()["adverse"] is True


async def test_batches_as_json_array_and_ndjson_in_one_transaction(
    client: httpx.AsyncClient, service: Service, chain: dict[str, Any]
) -> None:
    batch = [request(f"a-{i}", subject=f"s-{i % 7}") for i in range(300)]
    response = await post(client, service, batch)
    assert response.status_code == 201 and len(response.json()["recorded"]) == 300
    lines = "\n".join(json.dumps(request(f"n-{i}", with_input=False)) for i in range(50)).encode()
    ndjson = await client.post(
        "/v1/decisions", content=lines, headers={**service.headers("producer"), "content-type": "application/x-ndjson"}
    )
    assert ndjson.status_code == 201 and len(ndjson.json()["recorded"]) == 50
    page = await client.get("/v1/decisions?subject_ref=s-3&limit=1000", headers=service.headers("auditor"))
    assert len(page.json()["items"]) == len([i for i in range(300) if i % 7 == 3])
    assert rebuild_projections(service.ledger, check=True).matches


async def test_retry_is_recognised_and_different_content_is_409(
    client: httpx.AsyncClient, service: Service, chain: dict[str, Any]
) -> None:
    first = await post(client, service, request("d-1"))
    size = service.ledger.size
    retry = await post(client, service, request("d-1"))
    assert retry.status_code == 200 and retry.json() == {
        "decision_id": "d-1",
        "seq": first.json()["seq"],
        "duplicate": True,
    }
    changed = request("d-1")
    changed["output"]["decision"] = "approve"
    conflict = await post(client, service, changed)
    assert conflict.status_code == 409
    mixed = await post(client, service, [request("d-1"), request("d-2")])
    assert mixed.status_code == 201
    assert mixed.json()["duplicates"] == [{"decision_id": "d-1", "seq": first.json()["seq"]}]
    assert service.ledger.size == size + 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"[", 422, "invalid_input"),
        (b"\xff\xfe", 415, "unsupported_media_type"),
        (b"[]", 422, "invalid_input"),
        (json.dumps([{"decision_id": "x"}]).encode(), 422, "invalid_input"),
        (json.dumps([{**request("x"), "model": {"name": "credit", "version": "9"}}]).encode(), 404, "not_found"),
        (json.dumps([{**request("x"), "training_run_id": "run-x"}]).encode(), 422, "invalid_input"),
        (json.dumps([request("x"), request("x")]).encode(), 422, "invalid_input"),
        (json.dumps([{**request("x"), "input_schema_version": None}]).encode(), 422, "invalid_input"),
        (json.dumps([{"decision_id": "y"}] * 10_001).encode(), 422, "invalid_input"),
    ],
)
async def test_bad_batches_write_nothing(
    client: httpx.AsyncClient, service: Service, chain: dict[str, Any], body: bytes, status: int, code: str
) -> None:
    size = service.ledger.size
    response = await client.post(
        "/v1/decisions", content=body, headers={**service.headers("producer"), "content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert service.ledger.size == size
    assert subject_key_count(service) == 0  # no subject key is left behind by a refused request


def subject_key_count(service: Service) -> int:
    with service.ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(subject_keys)).scalar_one())


async def test_erasure_keeps_the_log_verifiable(
    client: httpx.AsyncClient, service: Service, chain: dict[str, Any]
) -> None:
    await post(client, service, request("d-1"))
    size = service.ledger.size
    refused = await client.delete("/v1/subjects/applicant-7?reason=x", headers=service.headers("producer"))
    assert refused.status_code == 403 and service.ledger.size == size
    erased = await client.delete(
        "/v1/subjects/applicant-7?reason=GDPR%20Art.%2017%20request", headers=service.headers("admin")
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["purged"] is True, "acknowledged only once the key's old copies left the files"
    again = await client.delete("/v1/subjects/applicant-7?reason=again", headers=service.headers("admin"))
    assert again.status_code == 409
    assert service.ledger.verify().ok
    new_decision = await post(client, service, request("d-2"))
    assert new_decision.status_code == 409  # an erased subject is not resurrected


async def test_trace_comes_with_a_pack_that_verifies_offline(
    client: httpx.AsyncClient, service: Service, chain: dict[str, Any], tmp_path: Any
) -> None:
    from govledger.cli import main
    from ledger.verification.proofpack import verify_pack

    await post(client, service, request("d-1"))
    traced = await client.get("/v1/decisions/d-1/trace", headers=service.headers("auditor"))
    assert traced.status_code == 200, traced.text
    seqs = traced.json()["trace"]["seqs"]
    assert chain["promotion_seq"] in seqs
    pack = await client.get("/v1/decisions/d-1/trace/pack", headers=service.headers("auditor"))
    report = verify_pack(pack.content)
    assert [e["seq"] for e in report.entries] == seqs
    saved = tmp_path / "trace.govpack.json"
    saved.write_bytes(pack.content)
    with pytest.raises(SystemExit) as exited:
        main(["verify-pack", str(saved)])
    assert exited.value.code == 0
    saved.write_bytes(pack.content.replace(b"applicant", b"applicanT", 1))
    with pytest.raises(SystemExit) as exited:
        main(["verify-pack", str(saved)])
    assert exited.value.code == 1
    lineage = await client.get("/v1/lineage/decision/d-1?direction=upstream", headers=service.headers("auditor"))
    assert {n["id"] for n in lineage.json()["nodes"]} >= {
        "decision:d-1",
        "model:credit@1",
        "run:run-1",
        "dataset:adult-clean",
        "dataset:adult-raw",
    }
    unknown = await client.get("/v1/decisions/nope/trace", headers=service.headers("auditor"))
    assert unknown.status_code == 404


async def test_an_input_integer_past_64_bits_is_refused_not_turned_into_a_float(
    client: httpx.AsyncClient, service: Service, chain: dict[str, Any]
) -> None:
    size = service.ledger.size
    value = request("d-huge")
    value["input"] = {**PERSONAL, "account": 2**70}  # past the I-JSON range: canonical JSON refuses it
    for body in (value, [value]):
        response = await post(client, service, body)
        assert response.status_code == 422, response.text
        assert "safe integer" in response.text
    assert service.ledger.size == size
