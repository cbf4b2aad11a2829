"""What a lineage query returns: nodes, edges and the graph, each with its JSON form.

Why a module of their own: the walk builds them, the graph and trace queries return them, and
reports read them; none of those should have to import the others to name a node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Edge", "Graph", "Node"]


@dataclass(frozen=True)
class Node:
    """One object of the lineage, with the entry (`seq`, `ts`) that recorded it."""

    id: str
    kind: str
    seq: int
    ts: str
    attributes: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "seq": self.seq, "ts": self.ts, "attributes": self.attributes}


@dataclass(frozen=True, order=True)
class Edge:
    """Reads "source <relation> target", e.g. run:run-1 trained_on dataset:adult-clean."""

    source: str
    target: str
    relation: str

    def as_json(self) -> dict[str, str]:
        return {"source": self.source, "target": self.target, "relation": self.relation}


@dataclass(frozen=True)
class Graph:
    root: str
    direction: str
    nodes: list[Node]  # in log order
    edges: list[Edge]  # sorted
    as_of: str | None = None  # the time asked about, in the log's fixed-width form
    as_of_seq: int | None = None  # the last entry counted (-1: none), when the graph is as of a time
    truncated: bool = False  # decisions were capped at the decision limit

    def as_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "direction": self.direction,
            "as_of": self.as_of,
            "as_of_seq": self.as_of_seq,
            "truncated": self.truncated,
            "nodes": [node.as_json() for node in self.nodes],
            "edges": [edge.as_json() for edge in self.edges],
        }
