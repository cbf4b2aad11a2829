"""An entry already in a log is always readable (issue 15, item 1).

An old ledger may hold free-form JSON nested 254 levels deep (accepted before the depth limit
existed). Every route and CLI command that shows a stored payload must still answer it: the read
path serves the stored bytes, it does not re-encode them through a depth-limited encoder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from govledger.cli import main
from ledger.api import Ledger, local_actor
from ledger.errors import InvalidInputError
from ledger.log.entry import make_draft
from tests.client.conftest import LiveServer, live  # noqa: F401 - the live server fixture
from tests.lineage.factories import dataset, run
from tests.service.conftest import Service

pytestmark = pytest.mark.anyio

DEPTH = 254


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def depth_of(value: Any) -> int:
    level = 0
    while isinstance(value, dict):
        value, level = value["a"], level + 1
    return level + 1


def append_as_an_old_ledger_would(ledger: Ledger) -> int:
    """The 254-deep run appended through the sequencer (chain, subtrees, projection and
    checkpoint as usual) with the payload validation that now refuses it skipped."""
    ledger.append("dataset.registered", dataset("d"), actor=local_actor())
    data = run("deep", ["d"])
    data["parameters"] = {"deep": nested(DEPTH)}
    draft = make_draft("training_run.recorded", data, actor=local_actor(), subject="run:deep")
    (receipt,) = ledger._append_drafts([draft])
    return receipt.seq


async def test_a_deep_entry_already_in_the_log_is_read_through_every_route(
    client: httpx.AsyncClient, service: Service
) -> None:
    seq = append_as_an_old_ledger_would(service.ledger)
    headers = service.headers("auditor")
    routes = [
        f"/v1/entries/{seq}",
        "/v1/runs/deep",
        "/v1/runs",
        "/v1/runs?input_dataset=d",
        f"/v1/entries?after={seq - 1}",
        "/v1/entries",
    ]
    for url in routes:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.text[:300])
        assert b'"bottom"' in response.content, url
    graph = await client.get("/v1/lineage/run/deep", headers=headers)  # nodes carry no payload, but must answer
    assert graph.status_code == 200, graph.text[:300]
    entry = (await client.get(f"/v1/entries/{seq}", headers=headers)).json()
    assert depth_of(entry["data"]["parameters"]["deep"]) == DEPTH
    assert entry["inclusion_proof"] is not None


@pytest.mark.parametrize("depth", [33, 254, 600])
async def test_free_form_json_past_the_depth_limit_is_422_and_writes_nothing(
    client: httpx.AsyncClient, service: Service, depth: int
) -> None:
    service.ledger.append("dataset.registered", dataset("d"), actor=local_actor())
    size = service.ledger.size
    body = run("r", ["d"])
    body["parameters"] = nested(depth)  # levels counted from `parameters` itself to the leaf
    response = await client.post("/v1/runs", json=body, headers=service.headers("producer"))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert any(e["loc"][-1] == "parameters" or "parameters" in e["loc"] for e in error["errors"]), error
    assert "deeper than 32" in json.dumps(error)
    assert service.ledger.size == size


async def test_free_form_json_at_the_depth_limit_is_accepted(client: httpx.AsyncClient, service: Service) -> None:
    service.ledger.append("dataset.registered", dataset("d"), actor=local_actor())
    body = run("r", ["d"])
    body["parameters"] = nested(31)
    body["parameters"] = {"p": body["parameters"]}  # 32 levels, counting `parameters`
    response = await client.post("/v1/runs", json=body, headers=service.headers("producer"))
    assert response.status_code == 201, response.text


def test_free_form_json_over_the_size_limit_is_refused_and_writes_nothing(service: Service) -> None:
    service.ledger.append("dataset.registered", dataset("d"), actor=local_actor())
    size = service.ledger.size
    body = run("r", ["d"])
    body["parameters"] = {f"p{i}": "x" * 1000 for i in range(70)}  # ~70 KB, over 64 KiB
    with pytest.raises(InvalidInputError, match="parameters") as refused:
        service.ledger.append("training_run.recorded", body, actor=local_actor())
    assert "65536 bytes" in str(refused.value.errors)
    assert service.ledger.size == size


def run_cli(*args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    return int(exited.value.code or 0)


def test_a_deep_entry_already_in_the_log_is_read_by_the_cli(
    service: Service, db_url: str, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seq = append_as_an_old_ledger_would(service.ledger)
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", db_url)
    monkeypatch.setenv("GOVLEDGER_HOME", str(home))
    capsys.readouterr()
    assert run_cli("show", str(seq), "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert depth_of(shown["data"]["parameters"]["deep"]) == DEPTH
    assert run_cli("show", str(seq)) == 0
    assert "bottom" in capsys.readouterr().out
    assert run_cli("log", "--json") == 0
    assert any(e["seq"] == seq for e in json.loads(capsys.readouterr().out)["entries"])
    assert run_cli("verify", "--deep") == 0, capsys.readouterr()


def test_a_deep_entry_already_in_the_log_is_read_by_the_sdk_over_a_real_server(live: LiveServer) -> None:  # noqa: F811
    seq = append_as_an_old_ledger_would(live.ledger)
    client = live.client("auditor")
    assert depth_of(client.get_entry(seq)["data"]["parameters"]["deep"]) == DEPTH
    assert depth_of(client.get_run("deep")["data"]["parameters"]["deep"]) == DEPTH
    runs = client.list_runs()
    assert [r["data"]["run_id"] for r in runs.items] == ["deep"]
    assert any(e["seq"] == seq for e in client.list_entries(kind="training_run.recorded").items)
