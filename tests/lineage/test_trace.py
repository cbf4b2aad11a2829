"""Decision traces of an evaluated model: the evaluations and the policies they were judged under
are nodes with edges, reviews name their reviewer and reason, every node carries its leaf hash,
and the trace is checked offline against its proof pack (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from sqlalchemy import event

from govledger.registry import full_registry
from ledger.api import Ledger
from ledger.lineage.trace import Trace, decision_trace, trace_with_pack
from ledger.log import merkle
from ledger.log.canonical import canonical_json
from ledger.verification.proofpack import PackError, build_pack
from ledger.verification.trace_check import trace_nodes, verify_trace
from tests.lineage.factories import (
    RISK_OFFICER,
    SCORING_SERVICE,
    EvaluatedChain,
    build_evaluated_chain,
    decision,
    evaluation,
    policy,
    policy_text,
    sha,
)

KINDS = full_registry()  # the trace roles of every kind

REASON = "income verified by phone; the applicant qualifies"


@pytest.fixture
def chain(gov: Ledger) -> EvaluatedChain:
    """The evaluated chain, then d-1 (four-fifths v2 active) reviewed and overridden; v4 published
    (active, nothing evaluated under it) and d-2; then ev-late and v5, after both decisions."""
    chain = build_evaluated_chain(gov)
    s = chain.seq
    s["d-1"] = gov.append("decision.recorded", decision("d-1", chain.facts), actor=SCORING_SERVICE).seq
    review = {
        "decision_id": "d-1",
        "outcome": "overridden",
        "override_reason": REASON,
        "new_decision": "deny",
        "reviewed_at": "2026-11-24T09:00:00Z",
    }
    s["review-1"] = gov.append("decision.reviewed", review, actor=RISK_OFFICER).seq
    s["policy-4"] = gov.append("policy.published", policy("4"), actor=chain.officer).seq
    s["d-2"] = gov.append("decision.recorded", decision("d-2", chain.facts), actor=SCORING_SERVICE).seq
    late = evaluation("ev-late", policy_version="4")
    s["ev-late"] = gov.append("evaluation.recorded", late, actor=RISK_OFFICER).seq
    s["policy-5"] = gov.append("policy.published", policy("5"), actor=chain.officer).seq
    return chain


def trace_of(gov: Ledger, decision_id: str) -> Trace:
    with gov.read_snapshot() as conn:
        return decision_trace(conn, decision_id, kinds=KINDS)  # with the members its kinds declare


def edges(trace: Trace) -> set[tuple[str, str, str]]:
    return {(e.source, e.relation, e.target) for e in trace.edges}


def test_evaluations_and_their_policies_are_nodes_with_edges(gov: Ledger, chain: EvaluatedChain) -> None:
    s = chain.seq
    trace = trace_of(gov, "d-1")
    # every evaluation of the model's artifact before the decision: not credit@2's, not the later one
    assert [(n.id, n.seq) for n in trace.evaluations] == [
        ("evaluation:ev-1", s["ev-1"]),
        ("evaluation:ev-2", s["ev-2"]),
        ("evaluation:ev-3", s["ev-3"]),
    ]
    by_id = {n.id: n for n in trace.evaluations}
    assert by_id["evaluation:ev-2"].attributes == {
        "evaluation_id": "ev-2",
        "model": "credit@1",
        "artifact_sha256": sha("model-bytes"),
        "policy_sha256": sha(policy_text("1")),
        "verdict": "passed",
        "latest_under_policy": True,
    }
    assert by_id["evaluation:ev-1"].attributes["verdict"] == "blocked"
    assert not by_id["evaluation:ev-1"].attributes["latest_under_policy"]  # ev-2 superseded it
    assert by_id["evaluation:ev-3"].attributes["latest_under_policy"]
    # the policies they were judged under; v2 was the active one when d-1 was recorded; v3 (never
    # activated, no evaluation under it) is not part of the trace
    assert [(n.id, n.seq) for n in trace.policies] == [
        ("policy:four-fifths@1", s["policy-1"]),
        ("policy:four-fifths@2", s["policy-2"]),
    ]
    assert trace.policies[0].attributes == {
        "sha256": sha(policy_text("1")),
        "activate": True,
        "approvals_required": 1,
        "active_at_decision": False,
    }
    assert trace.policies[1].attributes["active_at_decision"] is True
    assert edges(trace) >= {
        ("evaluation:ev-1", "evaluated", "model:credit@1"),
        ("evaluation:ev-1", "judged_under", "policy:four-fifths@1"),
        ("evaluation:ev-2", "judged_under", "policy:four-fifths@1"),
        ("evaluation:ev-3", "judged_under", "policy:four-fifths@2"),
        ("approval:appr-1", "relies_on", "evaluation:ev-2"),
        ("approval:appr-1", "assessed", "model:credit@1"),
        (f"stage_change:{s['prod-1']}", "staged", "model:credit@1"),
        (f"review:{s['review-1']}", "reviewed", "decision:d-1"),
    }
    node_ids = {n.id for n in trace_nodes(trace.as_json(), KINDS)}
    assert all(e.source in node_ids and e.target in node_ids for e in trace.edges)
    wanted = ("ev-1", "ev-2", "ev-3", "policy-1", "policy-2", "appr-1", "prod-1", "review-1", "d-1")
    assert {s[k] for k in wanted} <= set(trace.seqs)
    assert not {s[k] for k in ("ev-other", "policy-3", "policy-4", "ev-late", "policy-5", "d-2")} & set(trace.seqs)
    assert trace.seqs == sorted({n.seq for n in trace_nodes(trace.as_json(), KINDS)})


def test_the_active_policy_is_a_node_even_with_nothing_evaluated_under_it(gov: Ledger, chain: EvaluatedChain) -> None:
    s = chain.seq
    trace = trace_of(gov, "d-2")
    assert [n.id for n in trace.evaluations] == ["evaluation:ev-1", "evaluation:ev-2", "evaluation:ev-3"]
    active = {n.id: n.attributes["active_at_decision"] for n in trace.policies}
    assert active == {"policy:four-fifths@1": False, "policy:four-fifths@2": False, "policy:four-fifths@4": True}
    assert s["policy-4"] in trace.seqs and s["ev-late"] not in trace.seqs
    assert not any("policy:four-fifths@4" in (e.source, e.target) for e in trace.edges)


def test_reviews_name_the_reviewer_and_the_reason(gov: Ledger, chain: EvaluatedChain) -> None:
    (review,) = trace_of(gov, "d-1").reviews
    assert review.seq == chain.seq["review-1"]
    assert review.attributes == {
        "outcome": "overridden",
        "reviewer": {"id": RISK_OFFICER.id, "name": RISK_OFFICER.name},
        "override_reason": REASON,
        "new_decision": "deny",
        "reviewed_at": "2026-11-24T09:00:00Z",
        "appeal_id": None,  # it answers no appeal
    }


def test_every_node_carries_its_leaf_hash(gov: Ledger, chain: EvaluatedChain) -> None:
    trace = trace_of(gov, "d-1")
    as_json = trace.as_json()
    nodes = trace_nodes(as_json, KINDS)
    kinds = {n.kind for n in nodes}
    assert kinds == {
        "dataset",
        "run",
        "model",
        "decision",
        "evaluation",
        "policy",
        "approval",
        "stage_change",
        "review",
    }
    for node in nodes:
        entry = gov.get(node.seq)
        assert node.leaf_hash == merkle.leaf_hash(entry.body).hex() == trace.leaf_hashes[node.seq], node
        assert node.ts == entry.ts
    assert as_json["evaluations"][0]["leaf_hash"] == trace.leaf_hashes[chain.seq["ev-1"]]
    assert set(as_json["lineage"]["nodes"][0]) == {"id", "kind", "seq", "ts", "leaf_hash", "attributes"}
    assert {"source": "evaluation:ev-2", "target": "policy:four-fifths@1", "relation": "judged_under"} in as_json[
        "edges"
    ]


def test_the_trace_is_checked_offline_against_its_pack(gov: Ledger, chain: EvaluatedChain) -> None:
    result = trace_with_pack(gov, "d-1")
    pack, trace = canonical_json(result["pack"]), result["trace"]
    report = verify_trace(pack, trace, kinds=KINDS)
    assert [e["seq"] for e in report.entries] == trace["seqs"]
    kinds = {e["seq"]: e["kind"] for e in report.entries}
    assert kinds[chain.seq["ev-2"]] == "evaluation.recorded" and kinds[chain.seq["policy-1"]] == "policy.published"
    # the whole HTTP response (pack and trace side by side) is accepted as well
    assert verify_trace(pack, {"pack": result["pack"], "trace": trace}, kinds=KINDS).size == report.size


def altered(trace: dict[str, Any], change: Any) -> dict[str, Any]:
    copied = copy.deepcopy(trace)
    change(copied)
    return copied


def first_evaluation(trace: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = trace["evaluations"][0]
    return node


def _set(node: dict[str, Any], member: str, value: Any) -> None:
    node[member] = value


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: _set(first_evaluation(t), "leaf_hash", "00" * 32), "leaf_hash"),
        (lambda t: _set(first_evaluation(t), "leaf_hash", t["policies"][0]["leaf_hash"]), "leaf_hash"),
        (lambda t: _set(t["reviews"][0], "leaf_hash", "ab"), "leaf_hash"),
        (lambda t: _set(first_evaluation(t), "seq", t["policies"][0]["seq"]), "leaf_hash"),
        (lambda t: _set(first_evaluation(t), "id", "evaluation:ev-9"), "evaluation:ev-9"),
        (lambda t: _set(first_evaluation(t), "kind", "approval"), "kind 'approval' is not one of evaluation"),
        (lambda t: t["approvals"].append({**t["evaluations"].pop(0), "kind": "approval"}), "'evaluation.recorded'"),
        (lambda t: _set(first_evaluation(t), "ts", "2020-01-01T00:00:00.000000Z"), "time"),
        (lambda t: _set(t["policies"][0], "id", "policy:four-fifths@9"), "policy:four-fifths@9"),
        (lambda t: t["evaluations"].pop(), "seqs"),
        (lambda t: t["seqs"].pop(), "seqs"),
        (lambda t: t["edges"].append({"source": "evaluation:ev-9", "target": "x", "relation": "y"}), "edge"),
        (lambda t: _set(t, "decision_id", "d-2"), "decision"),
        (lambda t: t.pop("policies"), "policies"),
    ],
)
def test_a_trace_that_disagrees_with_its_pack_is_rejected(
    gov: Ledger, chain: EvaluatedChain, change: Any, message: str
) -> None:
    result = trace_with_pack(gov, "d-1")
    pack = canonical_json(result["pack"])
    with pytest.raises(PackError, match=message):
        verify_trace(pack, altered(result["trace"], change), kinds=KINDS)


def test_a_pack_that_does_not_cover_the_trace_or_was_altered_is_rejected(gov: Ledger, chain: EvaluatedChain) -> None:
    result = trace_with_pack(gov, "d-1")
    trace = result["trace"]
    short = build_pack(gov, [seq for seq in trace["seqs"] if seq != chain.seq["ev-2"]])
    with pytest.raises(PackError, match=f"node evaluation:ev-2 \\(entry {chain.seq['ev-2']}\\) is not in the pack"):
        verify_trace(short, trace, kinds=KINDS)
    pack = json.loads(canonical_json(result["pack"]))
    item = next(i for i in pack["entries"] if i["seq"] == chain.seq["ev-2"])
    item["leaf_hash"] = first_evaluation(trace)["leaf_hash"]  # another node's hash
    with pytest.raises(PackError, match="does not hash to its leaf_hash"):
        verify_trace(canonical_json(pack), trace, kinds=KINDS)


def test_trace_queries_stay_few(gov: Ledger, chain: EvaluatedChain) -> None:
    statements: list[str] = []
    event.listen(gov.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with gov.engine.connect() as conn:
        statements.clear()
        decision_trace(conn, "d-1")
    assert len(statements) <= 13, statements  # one indexed query per part
