"""Proofs from stored complete-subtree hashes: which nodes a proof needs, and how to combine them.

Why: the stored log must answer proofs in O(log n) reads at any tree size without rebuilding
the tree. Every hash in an RFC 9162 proof is the root of a contiguous leaf range produced by
the RFC's recursion; each such range is a run of at most log2(n) *perfect* (complete,
power-of-two aligned) subtrees. Perfect subtrees never change once their last leaf is
appended, so the log stores them, and a proof is: plan the ranges (pure, here), fetch the
perfect subtrees they decompose into (one query), fold them (pure, here).

A perfect subtree is named (level, index): it covers leaves [index << level, (index + 1) << level).
The log stores it with the entry whose sequence number is its last leaf, ((index + 1) << level) - 1,
as the `level`-th hash that entry "closes" (`closes` in the schema). Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from ledger.log.merkle import EMPTY_ROOT, ProofError, largest_power_of_two_below, node_hash

__all__ = [
    "Frontier",
    "Node",
    "Range",
    "closing_seq",
    "consistency_ranges",
    "inclusion_ranges",
    "nodes_for",
    "perfect_subtrees",
    "range_hash",
]

Node = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # [start, end) in leaf indices


def closing_seq(node: Node) -> int:
    """The sequence number of the last leaf of a perfect subtree: the entry that stores it."""
    level, index = node
    return ((index + 1) << level) - 1


def perfect_subtrees(start: int, end: int) -> list[Node]:
    """Split [start, end) the way the RFC recursion does, into perfect subtrees, left to right."""
    if not 0 <= start < end:
        raise ValueError(f"empty or negative range [{start}, {end})")
    nodes: list[Node] = []
    while True:
        size = end - start
        if size & (size - 1) == 0:
            level = size.bit_length() - 1
            if start % size:
                raise ValueError(f"range [{start}, {end}) is not aligned as the RFC recursion makes it")
            nodes.append((level, start >> level))
            return nodes
        k = largest_power_of_two_below(size)
        level = k.bit_length() - 1
        if start % k:
            raise ValueError(f"range [{start}, {end}) is not aligned as the RFC recursion makes it")
        nodes.append((level, start >> level))
        start += k


def _path_ranges(m: int, start: int, end: int, out: list[Range]) -> None:
    # Mirrors merkle._path, collecting the ranges instead of hashing them (deepest first).
    size = end - start
    if size == 1:
        return
    k = largest_power_of_two_below(size)
    if m < k:
        _path_ranges(m, start, start + k, out)
        out.append((start + k, end))
    else:
        _path_ranges(m - k, start + k, end, out)
        out.append((start, start + k))


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The leaf ranges whose hashes form the inclusion proof of `index` in a tree of `size`."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is beyond tree size {size}")
    out: list[Range] = []
    _path_ranges(index, 0, size, out)
    return out


def _subproof_ranges(m: int, start: int, end: int, complete: bool, out: list[Range]) -> None:
    # Mirrors merkle._subproof.
    size = end - start
    if m == size:
        if not complete:
            out.append((start, end))
        return
    k = largest_power_of_two_below(size)
    if m <= k:
        _subproof_ranges(m, start, start + k, complete, out)
        out.append((start + k, end))
    else:
        _subproof_ranges(m - k, start + k, end, False, out)
        out.append((start, start + k))


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The leaf ranges whose hashes form the consistency proof from `old_size` to `new_size`."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"old size {old_size} is not within 0..{new_size}")
    if old_size in (0, new_size):
        return []
    out: list[Range] = []
    _subproof_ranges(old_size, 0, new_size, True, out)
    return out


def nodes_for(ranges: Iterable[Range]) -> set[Node]:
    """Every perfect subtree needed to hash the given ranges (what to fetch in one query)."""
    needed: set[Node] = set()
    for start, end in ranges:
        needed.update(perfect_subtrees(start, end))
    return needed


def range_hash(start: int, end: int, lookup: Callable[[Node], bytes] | Mapping[Node, bytes]) -> bytes:
    """The RFC tree hash of leaves [start, end), folded from its perfect subtrees' hashes."""
    get = lookup.__getitem__ if isinstance(lookup, Mapping) else lookup
    hashes = [get(node) for node in perfect_subtrees(start, end)]
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


class Frontier:
    """The right edge of a growing tree: the perfect subtrees that make up [0, size).

    Appending a leaf merges equal-level subtrees; each merge is a newly completed perfect
    subtree, which the caller stores with that leaf (its `closes`). The root of the tree is a
    right fold of the frontier, so a checkpoint after a batch costs no reads.
    """

    __slots__ = ("_hashes", "_levels", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        levels = [level for level, _ in perfect_subtrees(0, size)] if size else []
        if len(levels) != len(hashes):
            raise ValueError(f"a frontier of size {size} has {len(levels)} subtrees, got {len(hashes)} hashes")
        self.size = size
        self._levels = levels
        self._hashes = [bytes(h) for h in hashes]

    @staticmethod
    def nodes(size: int) -> list[Node]:
        """The perfect subtrees (left to right) whose hashes initialise a frontier of `size`."""
        return perfect_subtrees(0, size) if size else []

    def append(self, leaf: bytes) -> list[bytes]:
        """Add one leaf; return the hashes of the subtrees it completes, level 1 upwards."""
        closes: list[bytes] = []
        current, level = leaf, 0
        levels, hashes = self._levels, self._hashes
        while levels and levels[-1] == level:
            levels.pop()
            current = node_hash(hashes.pop(), current)
            level += 1
            closes.append(current)
        levels.append(level)
        hashes.append(current)
        self.size += 1
        return closes

    def root(self) -> bytes:
        """The tree head over every leaf appended so far."""
        if not self._hashes:
            return EMPTY_ROOT
        result = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            result = node_hash(left, result)
        return result

    def copy(self) -> Frontier:
        clone = Frontier()
        clone.size, clone._levels, clone._hashes = self.size, list(self._levels), list(self._hashes)
        return clone
