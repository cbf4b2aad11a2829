"""Checking a decision trace against its proof pack offline: no database, no server.

A trace (`GET /v1/decisions/{id}/trace`, `ledger.lineage.trace`) names every entry behind a
decision by seq and leaf hash; its proof pack (`/trace/pack`) proves those entries against one
signed checkpoint. `verify_trace` verifies the pack (`verify_pack`, with the same pinned keys),
then that the trace speaks of exactly the pack's entries:

- every node (the lineage's, the evaluations, policies, approvals, stage changes, reviews, appeals,
  the erasure, and the members further kinds declare) names an entry of the pack, and its
  `leaf_hash` is that entry's leaf hash;
- its `kind` fits the entry's kind (the entry kinds a node kind stands for are the trace roles
  the kind registry declares, `ledger.kinds.spec.TraceRole`), its `id` is the object the entry is
  about, its `ts` the entry's time;
- the decision's own node is there; `seqs` lists exactly the nodes' entries, and exactly the
  entries the pack proves; every edge joins two nodes of the trace.

Node attributes are a convenience reading of the projections; the evidence is the entry bodies
the pack proves (`PackReport.entries`). Like `ledger.verification.proofpack`, this module uses no database
code. The trace format is described in docs/ledger-format.md, "Decision traces".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.kinds.registry import KindRegistry
from ledger.kinds.spec import BUILTIN_TRACE_MEMBERS
from ledger.log.canonical import CanonicalError, canonical_json
from ledger.log.note import Verifier
from ledger.verification.proofpack import PackError, PackReport, verify_pack

__all__ = ["TraceNode", "trace_nodes", "verify_trace"]

_PARTS = ("evaluations", "policies", "approvals", "stage_changes", "reviews", "appeals")  # built-in node lists
_FIXED_MEMBERS = frozenset({"decision_id", "edges", "seqs"} | BUILTIN_TRACE_MEMBERS)
_NODE_MEMBERS = frozenset({"id", "kind", "seq", "ts", "leaf_hash", "attributes"})
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class TraceNode:
    id: str
    kind: str
    seq: int
    ts: str
    leaf_hash: str  # hex
    attributes: dict[str, Any]


def _members(value: object, expected: frozenset[str], what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PackError(f"{what} is not a JSON object")
    unknown, missing = sorted(set(value) - expected), sorted(expected - set(value))
    if missing:
        raise PackError(f"{what} lacks members: {', '.join(missing)}")
    if unknown:
        raise PackError(f"{what} has unknown members: {', '.join(unknown)}")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise PackError(f"{what} is not a list")
    return value


def _node(value: object, where: str, kinds: frozenset[str]) -> TraceNode:
    fields = _members(value, _NODE_MEMBERS, f"the node at {where}")
    node_id, kind, seq, ts, leaf = (fields[m] for m in ("id", "kind", "seq", "ts", "leaf_hash"))
    name = f"node {node_id!r} at {where}"
    if not isinstance(node_id, str) or not node_id:
        raise PackError(f"{name}: id is not a non-empty string")
    if kind not in kinds:
        raise PackError(f"{name}: kind {kind!r} is not one of {', '.join(sorted(kinds)) or 'the declared kinds'}")
    if type(seq) is not int or seq < 0:
        raise PackError(f"{name}: seq is not a non-negative integer")
    if not isinstance(ts, str):
        raise PackError(f"{name}: ts (its time) is not a string")
    if not isinstance(leaf, str) or len(leaf) != 64 or not set(leaf) <= _HEX:
        raise PackError(f"{name}: leaf_hash is not a 32-byte hash in lower-case hex")
    if not isinstance(fields["attributes"], Mapping):
        raise PackError(f"{name}: attributes is not a JSON object")
    return TraceNode(node_id, kind, seq, ts, leaf, dict(fields["attributes"]))


def _extra_members(kinds: KindRegistry) -> dict[str, frozenset[str]]:
    """The trace members further kinds declare (beyond the built-in ones), with their node kinds."""
    return {m: nodes for m, nodes in kinds.trace_members().items() if m not in BUILTIN_TRACE_MEMBERS}


def _trace(trace: Mapping[str, Any], kinds: KindRegistry) -> Mapping[str, Any]:
    return _members(trace, _FIXED_MEMBERS | frozenset(_extra_members(kinds)), "the trace")


def trace_nodes(trace: Mapping[str, Any], kinds: KindRegistry) -> list[TraceNode]:
    """Every node of a trace's JSON form, checked for shape: the lineage's, then each part's.
    `kinds` says which members a trace has and which node kinds each holds (their trace roles)."""
    fields = _trace(trace, kinds)
    members = kinds.trace_members()
    lineage = fields["lineage"]
    if not isinstance(lineage, Mapping):
        raise PackError("the trace's lineage is not a JSON object")
    found = [
        _node(value, f"lineage.nodes[{i}]", members.get("lineage", frozenset()))
        for i, value in enumerate(_list(lineage.get("nodes"), "lineage.nodes"))
    ]
    for member in (*_PARTS, *sorted(_extra_members(kinds))):
        values = _list(fields[member], member)
        allowed = members.get(member, frozenset())
        found.extend(_node(value, f"{member}[{i}]", allowed) for i, value in enumerate(values))
    if fields["erasure"] is not None:
        found.append(_node(fields["erasure"], "erasure", members.get("erasure", frozenset())))
    return found


# what an entry is about, as a node id: its subject, or for kinds whose subject is the model or
# the decision, the object the entry itself records
_IDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "evaluation": lambda envelope: f"evaluation:{envelope['data'].get('evaluation_id')}",
    "approval": lambda envelope: f"approval:{envelope['data'].get('approval_id')}",
    "stage_change": lambda envelope: f"stage_change:{envelope['seq']}",
    "review": lambda envelope: f"review:{envelope['seq']}",
    "appeal": lambda envelope: f"appeal:{envelope['data'].get('appeal_id')}",
}


def _expected_id(node: TraceNode, envelope: dict[str, Any], extra_nodes: frozenset[str]) -> str:
    """The node id the entry implies: `<node>:<seq>` for nodes of members further kinds declare."""
    if node.kind in extra_nodes:
        return f"{node.kind}:{envelope['seq']}"
    data = envelope["data"] if isinstance(envelope["data"], dict) else {}
    return _IDS[node.kind]({**envelope, "data": data}) if node.kind in _IDS else str(envelope["subject"])


def _check_node(
    node: TraceNode,
    leaves: dict[int, str],
    envelopes: dict[int, dict[str, Any]],
    node_entry_kinds: dict[str, tuple[str, ...]],
    extra_nodes: frozenset[str],
) -> None:
    name = f"node {node.id} (entry {node.seq})"
    if node.seq not in leaves:
        raise PackError(f"{name} is not in the pack")
    if node.leaf_hash != leaves[node.seq]:
        raise PackError(f"{name}: leaf_hash {node.leaf_hash} is not the entry's leaf hash {leaves[node.seq]}")
    envelope = envelopes[node.seq]
    if envelope["kind"] not in node_entry_kinds.get(node.kind, ()):
        raise PackError(f"{name}: a node of kind {node.kind!r}, but its entry is a {envelope['kind']!r} entry")
    expected = _expected_id(node, envelope, extra_nodes)
    if node.id != expected:
        raise PackError(f"{name}: its entry is about {expected!r}")
    if node.ts != envelope["ts"]:
        raise PackError(f"{name}: time {node.ts!r} is not the entry's time {envelope['ts']!r}")


def _check_edges(lineage: Mapping[str, Any], edges: object, ids: set[str]) -> None:
    every = [*_list(lineage.get("edges"), "lineage.edges"), *_list(edges, "edges")]
    for edge in every:
        fields = _members(edge, frozenset({"source", "target", "relation"}), "an edge")
        if fields["source"] not in ids or fields["target"] not in ids:
            what = f"{fields['source']} {fields['relation']} {fields['target']}"
            raise PackError(f"edge {what}: an end is not a node of the trace")


def _unwrap(pack: bytes, trace: Mapping[str, Any]) -> Mapping[str, Any]:
    """The trace itself, also when given the whole HTTP response ({"pack": ..., "trace": ...})."""
    if not (isinstance(trace, Mapping) and set(trace) == {"pack", "trace"}):
        return trace
    try:
        same = canonical_json(trace["pack"]) == bytes(pack)
    except CanonicalError:
        same = False
    if not same:
        raise PackError("the response's pack is not the pack being verified")
    inner: Mapping[str, Any] = trace["trace"]
    return inner


def verify_trace(
    pack: bytes, trace: Mapping[str, Any], *, kinds: KindRegistry, trusted_keys: list[Verifier] | None = None
) -> PackReport:
    """Verify `pack` (`verify_pack`) and that the trace (its JSON form, or the whole trace
    response) agrees with it, node by node (see the module doc), reading which entry kinds each
    node kind stands for from the trace roles of `kinds`; raise PackError naming the first
    disagreement, or return the pack's report."""
    report = verify_pack(pack, trusted_keys=trusted_keys)
    fields = _trace(_unwrap(pack, trace), kinds)
    nodes = trace_nodes(fields, kinds)
    leaves = {item["seq"]: item["leaf_hash"] for item in json.loads(pack)["entries"]}
    envelopes = {envelope["seq"]: envelope for envelope in report.entries}
    node_entry_kinds = kinds.node_entry_kinds()
    extra_nodes = frozenset(node for nodes_ in _extra_members(kinds).values() for node in nodes_)
    for node in nodes:
        _check_node(node, leaves, envelopes, node_entry_kinds, extra_nodes)
    ids = {node.id for node in nodes}
    decision = f"decision:{fields['decision_id']}"
    if decision not in ids:
        raise PackError(f"the trace has no node for its decision ({decision})")
    seqs = fields["seqs"]
    named = sorted({node.seq for node in nodes})
    if seqs != named:
        raise PackError(f"seqs {seqs!r} do not list exactly the entries of the trace's nodes {named}")
    if named != sorted(leaves):
        raise PackError(f"the trace's seqs {named} are not exactly the entries the pack proves {sorted(leaves)}")
    _check_edges(fields["lineage"], fields["edges"], ids)
    return report
