"""Lineage graphs (upstream, downstream, as of a time), models in production, decision traces and
their proof packs, on SQLite and PostgreSQL with real ledgers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event

from govledger.registry import full_registry
from ledger.api import Ledger
from ledger.errors import InvalidInputError, NotFoundError
from ledger.lineage import graph_cutoff, graph_levels
from ledger.lineage.graph import Graph, last_seq_at, lineage_graph, models_in_production
from ledger.lineage.trace import decision_trace, trace_with_pack
from ledger.log.canonical import canonical_json
from ledger.log.entry import Actor, format_ts
from ledger.verification.proofpack import verify_pack
from ledger.verification.trace_check import verify_trace
from tests.lineage.factories import (
    DATA_SCIENTIST,
    RISK_OFFICER,
    SCORING_SERVICE,
    build_chain,
    dataset,
    decision,
    model,
    run,
    sha,
)

KINDS = full_registry()  # the trace roles of every kind


@dataclass
class World:
    """The scenario: raw -> clean -> features (features also from eval); run-1 on clean makes
    credit@1 (production, later retired); run-2 on features makes credit@2 (staging, then
    production); d-1 by credit@1 (reviewed, its subject erased later), d-2 by credit@2."""

    seq: dict[str, int]
    ts: dict[int, str]  # every entry's time, by seq


def add(gov: Ledger, kind: str, data: dict[str, Any], actor: Actor = DATA_SCIENTIST) -> int:
    time.sleep(0.002)  # distinct entry times, so "as of an entry's time" means exactly up to that entry
    return gov.append(kind, data, actor=actor).seq


def model_ref(version: str) -> dict[str, str]:
    return {"name": "credit", "version": version}


def approve(gov: Ledger, approval_id: str, version: str) -> int:
    data = {"approval_id": approval_id, "model": model_ref(version), "decision": "approve", "role": "approver"}
    return add(gov, "approval.recorded", data, RISK_OFFICER)


def promote(gov: Ledger, version: str, stage: str) -> int:
    return add(gov, "model.promoted", {"model": model_ref(version), "stage": stage}, RISK_OFFICER)


@pytest.fixture
def world(gov: Ledger) -> World:
    facts1 = build_chain(gov)  # 1 raw, 2 clean, 3 eval, 4 run-1, 5 credit@1, 6 appr-1, 7 production
    seq = {"raw": 1, "clean": 2, "eval": 3, "run-1": 4, "credit@1": 5, "appr-1": 6, "prod-1": 7}
    seq["features"] = add(
        gov, "dataset.registered", dataset("adult-features", derived_from=["adult-clean", "adult-eval"])
    )
    seq["run-2"] = add(gov, "training_run.recorded", run("run-2", ["adult-features"], artifact="model-bytes-2"))
    seq["credit@2"] = add(gov, "model.registered", model("credit", "2", "run-2", artifact="model-bytes-2"))
    seq["d-1"] = add(gov, "decision.recorded", decision("d-1", facts1, subject="applicant-1"), SCORING_SERVICE)
    seq["appr-2"] = approve(gov, "appr-2", "2")
    seq["staging-2"] = promote(gov, "2", "staging")
    seq["prod-2"] = promote(gov, "2", "production")
    seq["retire-1"] = add(gov, "model.retired", {"model": model_ref("1"), "reason": "replaced by 2"}, RISK_OFFICER)
    facts2 = {
        "model": model_ref("2"),
        "model_artifact_sha256": sha("model-bytes-2"),
        "training_run_id": "run-2",
        "dataset_ids": ["adult-features"],
        "promotion_seq": seq["prod-2"],
    }
    seq["d-2"] = add(gov, "decision.recorded", decision("d-2", facts2, subject="applicant-2"), SCORING_SERVICE)
    review = {"decision_id": "d-1", "outcome": "accepted", "reviewed_at": "2026-11-24T09:00:00Z"}
    seq["review-1"] = add(gov, "decision.reviewed", review, RISK_OFFICER)
    seq["erased-1"] = add(gov, "subject.erased", {"subject_ref": "applicant-1", "reason": "request"}, RISK_OFFICER)
    seq["appr-late"] = approve(gov, "appr-late", "2")
    seq["other"] = add(gov, "dataset.registered", dataset("unrelated"))
    assert seq["other"] == gov.size - 1
    return World(seq, {e.seq: e.ts for e in gov.entries(limit=1000)})


@contextmanager
def reading(gov: Ledger) -> Iterator[Connection]:
    with gov.engine.connect() as conn:
        yield conn


def node_ids(graph: Graph) -> set[str]:
    return {node.id for node in graph.nodes}


def edges(graph: Graph) -> set[tuple[str, str, str]]:
    return {(e.source, e.relation, e.target) for e in graph.edges}


def stages(graph: Graph) -> dict[str, str]:
    return {node.id: node.attributes["stage"] for node in graph.nodes if node.kind == "model"}


LINEAGE_1 = {
    ("dataset:adult-clean", "derived_from", "dataset:adult-raw"),
    ("run:run-1", "trained_on", "dataset:adult-clean"),
    ("run:run-1", "produced", "model:credit@1"),
}
LINEAGE_2 = {
    ("dataset:adult-clean", "derived_from", "dataset:adult-raw"),
    ("dataset:adult-features", "derived_from", "dataset:adult-clean"),
    ("dataset:adult-features", "derived_from", "dataset:adult-eval"),
    ("run:run-2", "trained_on", "dataset:adult-features"),
    ("run:run-2", "produced", "model:credit@2"),
}


def test_upstream_graphs(gov: Ledger, world: World) -> None:
    with reading(gov) as conn:
        d2 = lineage_graph(conn, "decision", "d-2", direction="upstream")
        m1 = lineage_graph(conn, "model", "credit@1", direction="upstream")
        r2 = lineage_graph(conn, "run", "run-2", direction="upstream")
        features = lineage_graph(conn, "dataset", "adult-features", direction="upstream")
        raw = lineage_graph(conn, "dataset", "adult-raw", direction="upstream")
    datasets_2 = {"dataset:adult-raw", "dataset:adult-clean", "dataset:adult-eval", "dataset:adult-features"}
    assert node_ids(d2) == {"decision:d-2", "model:credit@2", "run:run-2", *datasets_2}
    assert edges(d2) == {*LINEAGE_2, ("decision:d-2", "decided_by", "model:credit@2")}
    assert (d2.root, d2.direction, d2.as_of, d2.as_of_seq, d2.truncated) == (
        "decision:d-2",
        "upstream",
        None,
        None,
        False,
    )
    assert node_ids(m1) == {"model:credit@1", "run:run-1", "dataset:adult-clean", "dataset:adult-raw"}
    assert edges(m1) == LINEAGE_1
    assert stages(m1) == {"model:credit@1": "retired"}
    assert node_ids(r2) == {"run:run-2", *datasets_2}
    assert edges(r2) == LINEAGE_2 - {("run:run-2", "produced", "model:credit@2")}
    assert node_ids(features) == datasets_2
    assert edges(features) == {e for e in LINEAGE_2 if e[1] == "derived_from"}
    assert node_ids(raw) == {"dataset:adult-raw"} and raw.edges == []


def test_nodes_carry_their_entries(gov: Ledger, world: World) -> None:
    with reading(gov) as conn:
        graph = lineage_graph(conn, "dataset", "adult-raw", direction="downstream")
    assert [node.seq for node in graph.nodes] == sorted(node.seq for node in graph.nodes)
    for node in graph.nodes:
        entry = gov.get(node.seq)
        assert (entry.subject, entry.ts) == (node.id, node.ts)
    by_id = {node.id: node for node in graph.nodes}
    assert by_id["dataset:adult-raw"].attributes == {
        "content_sha256": sha("adult-raw"),
        "licence": "CC-BY-4.0",
        "rows": 1000,
        "sensitive_attributes": ["sex"],
    }
    assert by_id["run:run-2"].attributes == {"artifact_sha256": sha("model-bytes-2")}
    assert by_id["model:credit@2"].attributes == {
        "artifact_sha256": sha("model-bytes-2"),
        "stage": "production",
        "stage_seq": world.seq["prod-2"],
        "stage_ts": world.ts[world.seq["prod-2"]],
    }
    assert by_id["decision:d-1"].attributes == {"outcome": "approve", "adverse": False}
    as_json = graph.as_json()
    assert set(as_json) == {"root", "direction", "as_of", "as_of_seq", "truncated", "nodes", "edges"}
    assert as_json["nodes"][0] == {
        "id": "dataset:adult-raw",
        "kind": "dataset",
        "seq": 1,
        "ts": world.ts[1],
        "attributes": by_id["dataset:adult-raw"].attributes,
    }
    assert {"source": "run:run-1", "target": "model:credit@1", "relation": "produced"} in as_json["edges"]


def test_downstream_graphs(gov: Ledger, world: World) -> None:
    with reading(gov) as conn:
        raw = lineage_graph(conn, "dataset", "adult-raw", direction="downstream")
        evaluation = lineage_graph(conn, "dataset", "adult-eval", direction="downstream")
        r1 = lineage_graph(conn, "run", "run-1", direction="downstream")
        m1 = lineage_graph(conn, "model", "credit@1", direction="downstream")
        d1 = lineage_graph(conn, "decision", "d-1", direction="downstream")
    assert node_ids(raw) == {
        "dataset:adult-raw",
        "dataset:adult-clean",
        "dataset:adult-features",
        "run:run-1",
        "run:run-2",
        "model:credit@1",
        "model:credit@2",
        "decision:d-1",
        "decision:d-2",
    }
    assert edges(raw) == (LINEAGE_1 | LINEAGE_2) - {
        ("dataset:adult-features", "derived_from", "dataset:adult-eval")
    } | {("decision:d-1", "decided_by", "model:credit@1"), ("decision:d-2", "decided_by", "model:credit@2")}
    assert not raw.truncated
    assert node_ids(evaluation) == {
        "dataset:adult-eval",
        "dataset:adult-features",
        "run:run-2",
        "model:credit@2",
        "decision:d-2",
    }
    assert edges(evaluation) == {
        ("dataset:adult-features", "derived_from", "dataset:adult-eval"),
        ("run:run-2", "trained_on", "dataset:adult-features"),
        ("run:run-2", "produced", "model:credit@2"),
        ("decision:d-2", "decided_by", "model:credit@2"),
    }
    assert node_ids(r1) == {"run:run-1", "model:credit@1", "decision:d-1"}
    assert edges(r1) == {("run:run-1", "produced", "model:credit@1"), ("decision:d-1", "decided_by", "model:credit@1")}
    assert node_ids(m1) == {"model:credit@1", "decision:d-1"}
    assert edges(m1) == {("decision:d-1", "decided_by", "model:credit@1")}
    assert node_ids(d1) == {"decision:d-1"} and d1.edges == []


def test_downstream_decisions_are_capped(gov: Ledger, world: World) -> None:
    facts2 = dict(gov.get(world.seq["d-2"]).data)
    receipts = gov.append_many(
        [{"kind": "decision.recorded", "data": {**facts2, "decision_id": f"d-2-{i}"}} for i in range(5)],
        actor=SCORING_SERVICE,
    )
    with reading(gov) as conn:
        capped = lineage_graph(conn, "dataset", "adult-eval", direction="downstream", decision_limit=3)
        exact = lineage_graph(conn, "model", "credit@2", direction="downstream", decision_limit=6)
        full = lineage_graph(conn, "model", "credit@2", direction="downstream")
    decisions = [node for node in capped.nodes if node.kind == "decision"]
    assert capped.truncated and capped.as_json()["truncated"] is True
    assert [node.seq for node in decisions] == [world.seq["d-2"], receipts[0].seq, receipts[1].seq]  # earliest first
    assert len([e for e in capped.edges if e.relation == "decided_by"]) == 3
    assert not exact.truncated and len(exact.nodes) == 7
    assert not full.truncated and len(full.nodes) == 7


def test_small_in_chunks_give_the_same_graphs(gov: Ledger, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    with reading(gov) as conn:
        expected = lineage_graph(conn, "dataset", "adult-raw", direction="downstream").as_json()
        monkeypatch.setattr(graph_levels, "_CHUNK", 1)
        assert lineage_graph(conn, "dataset", "adult-raw", direction="downstream").as_json() == expected


def expected_cutoff(world: World, as_of: str) -> int:
    return max((seq for seq, ts in world.ts.items() if ts <= as_of), default=-1)


@pytest.mark.parametrize("fanout", [1, 2, 16])
def test_last_seq_at_finds_the_cutoff(gov: Ledger, world: World, monkeypatch: pytest.MonkeyPatch, fanout: int) -> None:
    monkeypatch.setattr(graph_cutoff, "_FANOUT", fanout)
    with reading(gov) as conn:
        for seq, ts in world.ts.items():
            assert last_seq_at(conn, ts) == seq
            just_before = format_ts(datetime.fromisoformat(ts) - timedelta(microseconds=1))
            assert last_seq_at(conn, just_before) == seq - 1
        assert last_seq_at(conn, "2000-01-01T00:00:00.000000Z") == -1
        assert last_seq_at(conn, "9999-01-01T00:00:00.000000Z") == gov.size - 1


def test_graph_as_of_a_time(gov: Ledger, world: World) -> None:
    s, ts = world.seq, world.ts
    with reading(gov) as conn:
        before_promotion = lineage_graph(conn, "model", "credit@2", direction="upstream", as_of=ts[s["appr-2"]])
        staged = lineage_graph(conn, "model", "credit@2", direction="upstream", as_of=ts[s["staging-2"]])
        now = lineage_graph(conn, "model", "credit@1", direction="upstream")
        then = lineage_graph(conn, "model", "credit@1", direction="upstream", as_of=ts[s["prod-2"]])
        early = lineage_graph(conn, "dataset", "adult-raw", direction="downstream", as_of=ts[s["run-2"]])
        with pytest.raises(NotFoundError, match="as of"):
            lineage_graph(conn, "model", "credit@2", direction="downstream", as_of=ts[s["run-2"]])
        with pytest.raises(NotFoundError):
            lineage_graph(conn, "dataset", "adult-raw", direction="upstream", as_of="2000-01-01T00:00:00Z")
    assert stages(before_promotion) == {"model:credit@2": "registered"}
    assert before_promotion.nodes[-1].attributes["stage_seq"] == s["credit@2"]
    assert (before_promotion.as_of, before_promotion.as_of_seq) == (ts[s["appr-2"]], s["appr-2"])
    assert stages(staged) == {"model:credit@2": "staging"}
    assert stages(now) == {"model:credit@1": "retired"}
    assert stages(then) == {"model:credit@1": "production"}
    assert node_ids(early) == {
        "dataset:adult-raw",
        "dataset:adult-clean",
        "dataset:adult-features",
        "run:run-1",
        "run:run-2",
        "model:credit@1",
    }
    assert early.as_of_seq == s["run-2"]


def production(gov: Ledger, as_of: str | None) -> list[tuple[str, int]]:
    with reading(gov) as conn:
        return [(m["id"], m["promotion_seq"]) for m in models_in_production(conn, as_of=as_of)]


def test_models_in_production_over_time(gov: Ledger, world: World) -> None:
    s, ts = world.seq, world.ts
    one, two = ("model:credit@1", s["prod-1"]), ("model:credit@2", s["prod-2"])
    assert production(gov, "2000-01-01T00:00:00Z") == []
    assert production(gov, ts[s["appr-1"]]) == []
    assert production(gov, ts[s["prod-1"]]) == [one]
    assert production(gov, ts[s["staging-2"]]) == [one]
    assert production(gov, ts[s["prod-2"]]) == [one, two]
    assert production(gov, ts[s["retire-1"]]) == [two]
    assert production(gov, None) == [two]
    assert production(gov, "9999-12-31T23:59:59Z") == [two]
    with reading(gov) as conn:
        (current,) = models_in_production(conn)
    assert current == {
        "id": "model:credit@2",
        "name": "credit",
        "version": "2",
        "seq": s["credit@2"],
        "artifact_sha256": sha("model-bytes-2"),
        "run_id": "run-2",
        "promotion_seq": s["prod-2"],
        "promoted_at": ts[s["prod-2"]],
    }


def test_as_of_accepts_any_rfc3339_utc_precision(gov: Ledger, world: World) -> None:
    moment = world.ts[world.seq["staging-2"]]
    for as_of in (moment[:19] + "Z", moment[:23] + "Z", moment):
        normalised = moment[:19] + "." + as_of[20:-1].ljust(6, "0") + "Z"
        cutoff = expected_cutoff(world, normalised)
        with reading(gov) as conn:
            if cutoff < world.seq["raw"]:  # whole seconds may fall before the dataset was registered
                with pytest.raises(NotFoundError):
                    lineage_graph(conn, "dataset", "adult-raw", direction="upstream", as_of=as_of)
                continue
            graph = lineage_graph(conn, "dataset", "adult-raw", direction="upstream", as_of=as_of)
        assert (graph.as_of, graph.as_of_seq) == (normalised, cutoff)


def test_decision_trace(gov: Ledger, world: World) -> None:
    s = world.seq
    with reading(gov) as conn:
        trace1 = decision_trace(conn, "d-1")
        trace2 = decision_trace(conn, "d-2")
    assert trace1.seqs == sorted(
        s[k] for k in ("raw", "clean", "run-1", "credit@1", "appr-1", "prod-1", "d-1", "review-1", "erased-1")
    )
    assert [n.id for n in trace1.approvals] == ["approval:appr-1"]
    assert [(n.seq, n.attributes["stage"]) for n in trace1.stage_changes] == [(s["prod-1"], "production")]
    assert [(n.seq, n.attributes["outcome"]) for n in trace1.reviews] == [(s["review-1"], "accepted")]
    assert trace1.erasure is not None
    assert trace1.erasure.seq == s["erased-1"] and trace1.erasure.attributes["after_decision"] is True
    assert stages(trace1.lineage) == {"model:credit@1": "production"}  # as decided, though retired since
    assert (trace1.lineage.as_of, trace1.lineage.as_of_seq) == (world.ts[s["d-1"]], s["d-1"])
    assert edges(trace1.lineage) == {*LINEAGE_1, ("decision:d-1", "decided_by", "model:credit@1")}

    expected2 = ("raw", "clean", "eval", "features", "run-2", "credit@2", "appr-2", "staging-2", "prod-2", "d-2")
    assert trace2.seqs == sorted(s[k] for k in expected2)  # not the approval recorded after it
    assert [n.attributes["stage"] for n in trace2.stage_changes] == ["staging", "production"]
    assert trace2.reviews == [] and trace2.erasure is None
    as_json = trace2.as_json()
    assert set(as_json) == {
        *("decision_id", "lineage", "evaluations", "policies", "approvals", "stage_changes", "reviews", "appeals"),
        *("erasure", "edges", "seqs"),
    }
    assert trace2.evaluations == [] and trace2.policies == []  # no policy was ever published here
    assert as_json["seqs"] == trace2.seqs and as_json["erasure"] is None
    assert as_json["approvals"][0]["attributes"] == {
        "decision": "approve",
        "actor_id": RISK_OFFICER.id,
        "evaluation_id": None,
    }


def test_trace_with_pack_verifies(gov: Ledger, world: World) -> None:
    result = trace_with_pack(gov, "d-1")
    assert set(result) == {"trace", "pack"}
    report = verify_pack(canonical_json(result["pack"]))
    assert [entry["seq"] for entry in report.entries] == result["trace"]["seqs"]
    assert (
        verify_trace(canonical_json(result["pack"]), result["trace"], kinds=KINDS) == report
    )  # erasure and review nodes too
    assert report.purpose == "trace of decision d-1"
    by_seq = {entry["seq"]: entry for entry in report.entries}
    assert by_seq[world.seq["d-1"]]["kind"] == "decision.recorded"
    assert by_seq[world.seq["erased-1"]]["kind"] == "subject.erased"


def count_queries(gov: Ledger) -> list[str]:
    statements: list[str] = []
    event.listen(gov.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def test_queries_stay_few(gov: Ledger, world: World) -> None:
    statements = count_queries(gov)
    with reading(gov) as conn:
        statements.clear()
        decision_trace(conn, "d-2")
        assert len(statements) <= 13, statements  # one indexed query per part (appeals: the 13th)
        statements.clear()
        lineage_graph(conn, "dataset", "adult-raw", direction="downstream")
        assert len(statements) == 4, statements  # datasets (recursive), runs, models, decisions
        statements.clear()
        lineage_graph(conn, "decision", "d-2", direction="upstream", as_of=world.ts[world.seq["d-2"]])
        assert len(statements) <= 4 + 1 + 2, statements  # 4 levels, the head, a k-ary search of 20 entries


@pytest.mark.parametrize("kind, object_id", [("dataset", "nope"), ("run", "nope"), ("model", "credit@9")])
@pytest.mark.parametrize("direction", ["upstream", "downstream"])
def test_unknown_objects_are_not_found(gov: Ledger, world: World, kind: str, object_id: str, direction: str) -> None:
    with reading(gov) as conn, pytest.raises(NotFoundError, match=f"{kind} '{object_id}'"):
        lineage_graph(conn, kind, object_id, direction=direction)


def test_unknown_decisions_are_not_found(gov: Ledger, world: World) -> None:
    with reading(gov) as conn:
        for direction in ("upstream", "downstream"):
            with pytest.raises(NotFoundError):
                lineage_graph(conn, "decision", "d-9", direction=direction)
        with pytest.raises(NotFoundError):
            decision_trace(conn, "d-9")
    with pytest.raises(NotFoundError):
        trace_with_pack(gov, "d-9")


def invalid_fields(call: Any) -> list[str]:
    with pytest.raises(InvalidInputError) as caught:
        call()
    return [problem["loc"][0] for problem in caught.value.errors]


@pytest.mark.parametrize(
    "arguments, fields",
    [
        ({"kind": "evaluation"}, ["kind"]),
        ({"direction": "sideways"}, ["direction"]),
        ({"as_of": "yesterday"}, ["as_of"]),
        ({"as_of": "2026-13-01T00:00:00Z"}, ["as_of"]),
        ({"as_of": "2026-11-23T10:00:00+01:00"}, ["as_of"]),
        ({"as_of": "2026-11-23"}, ["as_of"]),
        ({"object_id": "adult raw"}, ["object_id"]),
        ({"kind": "model", "object_id": "credit"}, ["object_id"]),
        ({"kind": "model", "object_id": "credit@1@2"}, ["object_id"]),
        ({"decision_limit": 0}, ["decision_limit"]),
        ({"kind": "thing", "direction": "up", "as_of": "now"}, ["kind", "direction", "as_of"]),
    ],
)
def test_malformed_queries_name_their_fields(gov: Ledger, arguments: dict[str, Any], fields: list[str]) -> None:
    call = {"kind": "dataset", "object_id": "adult-raw", "direction": "upstream", **arguments}
    with reading(gov) as conn:
        kind, object_id = call.pop("kind"), call.pop("object_id")
        assert invalid_fields(lambda: lineage_graph(conn, kind, object_id, **call)) == fields


def test_malformed_trace_and_production_queries(gov: Ledger) -> None:
    with reading(gov) as conn:
        assert invalid_fields(lambda: decision_trace(conn, "")) == ["decision_id"]
        assert invalid_fields(lambda: decision_trace(conn, "d 1")) == ["decision_id"]
        assert invalid_fields(lambda: models_in_production(conn, as_of="2026-02-30T00:00:00Z")) == ["as_of"]
        assert invalid_fields(lambda: last_seq_at(conn, "soon")) == ["as_of"]
