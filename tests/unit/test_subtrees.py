"""Stored-subtree proofs (ledger.log.subtrees) agree with the list-based reference (ledger.log.merkle)."""

from __future__ import annotations

import pytest

from ledger.log import merkle, subtrees


def build_store(leaves: list[bytes]) -> dict[subtrees.Node, bytes]:
    """What the log stores: every leaf and every perfect subtree, via Frontier.append's closes."""
    frontier = subtrees.Frontier()
    store: dict[subtrees.Node, bytes] = {}
    for seq, leaf in enumerate(leaves):
        store[(0, seq)] = leaf
        for level, closed in enumerate(frontier.append(leaf), start=1):
            node = (level, seq >> level)
            assert subtrees.closing_seq(node) == seq
            store[node] = closed
    return store


LEAVES = [merkle.leaf_hash(str(i).encode()) for i in range(140)]
STORE = build_store(LEAVES)


@pytest.mark.parametrize("size", range(1, 140))
def test_stored_proofs_equal_reference_proofs(size: int) -> None:
    leaves = LEAVES[:size]
    assert subtrees.range_hash(0, size, STORE) == merkle.root_hash(leaves)
    for index in range(size):
        ranges = subtrees.inclusion_ranges(index, size)
        assert [subtrees.range_hash(s, e, STORE) for s, e in ranges] == merkle.inclusion_proof(leaves, index)
    for old in range(0, size + 1):
        ranges = subtrees.consistency_ranges(old, size)
        assert [subtrees.range_hash(s, e, STORE) for s, e in ranges] == merkle.consistency_proof(leaves, old)


def test_proof_needs_logarithmic_number_of_nodes() -> None:
    size = 1_000_003
    for index in (0, 1, 500_000, size - 2, size - 1):
        needed = subtrees.nodes_for(subtrees.inclusion_ranges(index, size))
        assert len(needed) <= 2 * size.bit_length()
    assert len(subtrees.nodes_for(subtrees.consistency_ranges(123_457, size))) <= 3 * size.bit_length()


def test_frontier_root_and_restart_match_reference() -> None:
    frontier = subtrees.Frontier()
    for size, leaf in enumerate(LEAVES, start=1):
        frontier.append(leaf)
        assert frontier.root() == merkle.root_hash(LEAVES[:size])
        restarted = subtrees.Frontier(size, [STORE[node] for node in subtrees.Frontier.nodes(size)])
        assert restarted.root() == frontier.root()


def test_frontier_refuses_wrong_number_of_hashes() -> None:
    with pytest.raises(ValueError, match="has 2 subtrees"):
        subtrees.Frontier(3, [bytes(32)])


def test_unaligned_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="not aligned"):
        subtrees.perfect_subtrees(1, 3)
