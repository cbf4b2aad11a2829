"""Inclusion and consistency proofs served from the stored log in O(log n) reads.

Each proof is planned by `ledger.log.subtrees`, its perfect subtrees fetched in one query, and
folded into exactly the RFC 9162 proof, so any standard verifier accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from ledger.errors import InvalidInputError, NotFoundError
from ledger.log import merkle
from ledger.log.subtrees import Frontier, consistency_ranges, inclusion_ranges, nodes_for, range_hash
from ledger.storage import store

__all__ = ["ConsistencyProof", "InclusionProof", "consistency_proof", "inclusion_proof", "root_at"]


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    size: int
    leaf_hash: bytes
    path: list[bytes]
    root: bytes

    def verify(self) -> None:
        merkle.verify_inclusion(self.leaf_hash, self.seq, self.size, self.path, self.root)

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "size": self.size,
            "leaf_hash": self.leaf_hash.hex(),
            "path": [h.hex() for h in self.path],
            "root": self.root.hex(),
        }


@dataclass(frozen=True)
class ConsistencyProof:
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    path: list[bytes]

    def verify(self) -> None:
        merkle.verify_consistency(self.old_size, self.new_size, self.old_root, self.new_root, self.path)

    def as_json(self) -> dict[str, Any]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "old_root": self.old_root.hex(),
            "new_root": self.new_root.hex(),
            "path": [h.hex() for h in self.path],
        }


def _check_size(size: int, head_size: int, what: str) -> None:
    if size < 0 or size > head_size:
        raise InvalidInputError(
            f"{what} {size} is outside the log (size {head_size})",
            [{"loc": [what], "msg": f"must be within 0..{head_size}", "type": "out_of_range"}],
        )


def root_at(conn: Connection, size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    nodes = Frontier.nodes(size)
    return range_hash(0, size, store.fetch_nodes(conn, nodes))


def inclusion_proof(conn: Connection, seq: int, size: int | None = None) -> InclusionProof:
    head_size = store.read_head(conn).size
    size = head_size if size is None else size
    _check_size(size, head_size, "size")
    if not 0 <= seq < size:
        raise NotFoundError(f"entry {seq} is not in the tree of size {size}")
    ranges = inclusion_ranges(seq, size)
    root_nodes = Frontier.nodes(size)
    found = store.fetch_nodes(conn, nodes_for(ranges) | set(root_nodes) | {(0, seq)})
    return InclusionProof(
        seq, size, found[(0, seq)], [range_hash(s, e, found) for s, e in ranges], range_hash(0, size, found)
    )


def consistency_proof(conn: Connection, old_size: int, new_size: int | None = None) -> ConsistencyProof:
    head_size = store.read_head(conn).size
    new_size = head_size if new_size is None else new_size
    _check_size(new_size, head_size, "new_size")
    if not 0 <= old_size <= new_size:
        raise InvalidInputError(
            f"old size {old_size} must be within 0..{new_size}",
            [{"loc": ["old_size"], "msg": f"must be within 0..{new_size}", "type": "out_of_range"}],
        )
    ranges = consistency_ranges(old_size, new_size)
    wanted = nodes_for(ranges) | set(Frontier.nodes(old_size)) | set(Frontier.nodes(new_size))
    found = store.fetch_nodes(conn, wanted)
    old_root = range_hash(0, old_size, found) if old_size else merkle.EMPTY_ROOT
    new_root = range_hash(0, new_size, found) if new_size else merkle.EMPTY_ROOT
    return ConsistencyProof(old_size, new_size, old_root, new_root, [range_hash(s, e, found) for s, e in ranges])
