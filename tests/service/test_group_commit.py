"""Group commit of single-decision POSTs: concurrent requests share a transaction, yet each gets
its own answer; a bad request fails alone; a retry racing its original is recorded once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from ledger.api import Ledger
from ledger.lineage.decisions import record_decisions
from ledger.log.entry import Actor
from ledger.service.group_commit import DecisionBatcher
from tests.lineage.factories import build_chain
from tests.service.conftest import Service
from tests.service.test_decisions_api import request

pytestmark = pytest.mark.anyio


async def post(client: httpx.AsyncClient, service: Service, body: Any) -> httpx.Response:
    return await client.post("/v1/decisions", json=body, headers=service.headers("producer"))


async def test_concurrent_single_posts_are_each_answered_and_recorded_once(
    client: httpx.AsyncClient, service: Service
) -> None:
    build_chain(service.ledger)
    size = service.ledger.size
    bad = request("d-bad")
    bad["output"] = {"decision": "deny"}  # no `adverse`: invalid
    bodies = [request(f"d-{i}", subject=f"s-{i}") for i in range(40)]
    bodies.insert(17, bad)
    bodies.append(request("d-3", subject="s-3"))  # a retry racing its original
    responses = await asyncio.gather(*(post(client, service, body) for body in bodies))
    by_id: dict[str, list[httpx.Response]] = {body["decision_id"]: [] for body in bodies}
    for body, response in zip(bodies, responses, strict=True):
        by_id[body["decision_id"]].append(response)
    assert by_id["d-bad"][0].status_code == 422
    assert by_id["d-bad"][0].json()["error"]["code"] == "invalid_input"
    for i in range(40):
        answers = by_id[f"d-{i}"]
        assert all(r.status_code in (200, 201) for r in answers), [r.text for r in answers]
        assert sorted(r.status_code for r in answers) == ([200, 201] if i == 3 else [201])
    originals = [r.json()["seq"] for i in range(40) for r in by_id[f"d-{i}"] if r.status_code == 201]
    assert len(set(originals)) == 40
    assert by_id["d-3"][0].json()["seq"] == by_id["d-3"][1].json()["seq"]  # the retry names the original
    assert service.ledger.size == size + 40  # 40 decisions, each once; nothing from the bad one
    recorded = [e.data["decision_id"] for e in service.ledger.entries(start=size, limit=100)]
    assert sorted(recorded) == sorted(f"d-{i}" for i in range(40))


async def test_batches_share_transactions_and_never_mix_actors(service: Service) -> None:
    build_chain(service.ledger)
    calls: list[tuple[int, str]] = []

    def counting(ledger: Ledger, decisions: Any, actor: Actor) -> dict[str, Any]:
        calls.append((len(decisions), actor.id))
        return record_decisions(ledger, decisions, actor=actor)

    batcher = DecisionBatcher(service.ledger, record=counting)
    alice, bob = Actor("key:alice", "alice"), Actor("key:bob", "bob")
    results = await asyncio.gather(
        *(batcher.submit(request(f"d-{i}", subject=f"s-{i}"), alice if i % 2 else bob) for i in range(30))
    )
    assert [r["recorded"][0]["decision_id"] for r in results] == [f"d-{i}" for i in range(30)]
    assert sum(n for n, _ in calls) == 30 and len(calls) < 30  # some requests shared a transaction
    for result, i in zip(results, range(30), strict=True):
        entry = service.ledger.get(result["recorded"][0]["seq"])
        assert entry.actor.id == ("key:alice" if i % 2 else "key:bob")
