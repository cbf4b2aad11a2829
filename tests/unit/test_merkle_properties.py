"""Property and corruption tests: every proof verifies, every mutation of one is rejected.

The fast verifiers are cross-checked against a literal, recursive reference of the RFC's
definitions (below, used only here), and each good proof is mutated the ways
transparency-dev/merkle's probes do: index +-1, size changed, wrong leaf, one bit flipped per
element, element dropped, element appended, root prepended.

Then, for random trees of 1..300 leaves (hypothesis) and at the sizes 1, 2, 3, 7, 8, 63, 64, 127,
255, 256 and 300, every inclusion proof (every index) and every consistency proof (every old size)
verifies, and single bit flips anywhere are rejected: any bit of a proof element, the root or the
leaf, and any of the 64 bits of the index and the size (a flipped size is tried with the true root
of that size where it can be known). The sweep flips all 64 index and size bits of every proof.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.log import merkle


def reference_mth(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 9162 §2.1.1, with the split found by counting (no bit tricks)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + reference_mth(leaves[:k]) + reference_mth(leaves[k:])).digest()


def make_leaves(n: int) -> list[bytes]:
    return ALL_LEAVES[:n]


ALL_LEAVES = [merkle.leaf_hash(f"leaf:{i}".encode()) for i in range(1200)]
ALL_ROOTS = {n: reference_mth(ALL_LEAVES[:n]) for n in range(0, 82)}


def flip_bit(value: bytes, bit: int) -> bytes:
    data = bytearray(value)
    data[bit // 8 % len(data)] ^= 1 << (bit % 8)
    return bytes(data)


def inclusion_mutations(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> Iterator[tuple[str, tuple[bytes, int, int, list[bytes], bytes]]]:
    yield "index - 1", (leaf, index - 1, size, proof, root)
    yield "index + 1", (leaf, index + 1, size, proof, root)
    yield "index xor 2", (leaf, index ^ 2, size, proof, root)
    yield "size * 2", (leaf, index, size * 2, proof, root)
    yield "wrong leaf", (merkle.leaf_hash(b"forged"), index, size, proof, root)
    yield "root flipped", (leaf, index, size, proof, flip_bit(root, 77))
    yield "leaf flipped", (flip_bit(leaf, 3), index, size, proof, root)
    yield "trailing garbage", (leaf, index, size, [*proof, bytes(32)], root)
    yield "root prepended", (leaf, index, size, [root, *proof], root)
    if proof:
        yield "last dropped", (leaf, index, size, proof[:-1], root)
        for position in range(len(proof)):
            mutated = list(proof)
            mutated[position] = flip_bit(mutated[position], 8 * position + 1)
            yield f"proof[{position}] flipped", (leaf, index, size, mutated, root)


@pytest.mark.parametrize("size", range(0, 70))
def test_fast_root_equals_literal_reference(size: int) -> None:
    leaves = make_leaves(size)
    assert merkle.root_hash(leaves) == reference_mth(leaves)


def test_every_inclusion_proof_verifies_and_every_mutation_fails_up_to_40_leaves() -> None:
    for size in range(1, 41):
        leaves = make_leaves(size)
        root = ALL_ROOTS[size]
        for index in range(size):
            proof = merkle.inclusion_proof(leaves, index)
            merkle.verify_inclusion(leaves[index], index, size, proof, root)
            for label, args in inclusion_mutations(leaves[index], index, size, proof, root):
                with pytest.raises(merkle.ProofError):
                    merkle.verify_inclusion(*args)
                    pytest.fail(f"mutation '{label}' of index {index} size {size} verified")
            # A proof for one size must not verify against the true root of another size.
            for other in (size - 1, size + 1):
                if 0 <= index < other <= len(ALL_LEAVES):
                    with pytest.raises(merkle.ProofError):
                        merkle.verify_inclusion(leaves[index], index, other, proof, ALL_ROOTS[other])


def test_every_consistency_proof_verifies_and_mutations_fail_up_to_40_leaves() -> None:
    for new in range(1, 41):
        leaves = make_leaves(new)
        new_root = ALL_ROOTS[new]
        for old in range(0, new + 1):
            old_root = ALL_ROOTS[old]
            proof = merkle.consistency_proof(leaves, old)
            merkle.verify_consistency(old, new, old_root, new_root, proof)
            if old in (0, new):
                continue
            probes: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
                (old - 1, new, ALL_ROOTS[old - 1], new_root, proof),
                (old + 1, new, ALL_ROOTS[old + 1], new_root, proof),
                (old, new + 1, old_root, ALL_ROOTS.get(new + 1, true_root(new + 1)), proof),
                (old, new * 2, old_root, true_root(new * 2), proof),
                (old, new, flip_bit(old_root, 5), new_root, proof),
                (old, new, old_root, flip_bit(new_root, 9), proof),
                (old, new, old_root, new_root, proof[:-1]),
                (old, new, old_root, new_root, [*proof, bytes(32)]),
                (old, new, old_root, new_root, [old_root, *proof]),
            ]
            for position in range(len(proof)):
                mutated = list(proof)
                mutated[position] = flip_bit(mutated[position], 200)
                probes.append((old, new, old_root, new_root, mutated))
            for probe in probes:
                if probe[0] == old and probe[1] == new and probe[4] == proof and probe[2:4] == (old_root, new_root):
                    continue
                if probe[0] in (0, probe[1]) and not probe[4]:
                    continue  # trivial cases are checked separately
                with pytest.raises(merkle.ProofError):
                    merkle.verify_consistency(*probe)


def true_root(size: int) -> bytes:
    """The real root of the tree with `size` leaves (what a signed checkpoint of that size binds)."""
    return merkle.root_hash(ALL_LEAVES[:size])


# -- every proof of a tree, and bit flips across the full width ----------------------------------

WIDTH = 64  # sizes and indices are flipped across the width of an unsigned 64-bit integer
HASH_BITS = 8 * merkle.HASH_SIZE
SWEEP_SIZES = (1, 2, 3, 7, 8, 63, 64, 127, 255, 256, 300)


def prefix_roots(leaves: list[bytes]) -> list[bytes]:
    """MTH of every prefix of `leaves` (sizes 0..len), from the stack of perfect subtrees a growing tree
    keeps: MTH(n) for n = 2^a + 2^b + ... (a > b > ...) is node(P_a, node(P_b, ...)). An oracle for the
    roots of other sizes; any slip in it would make the valid proofs below fail to verify."""
    roots = [merkle.EMPTY_ROOT]
    stack: list[tuple[int, bytes]] = []  # (leaves, hash) of the perfect subtrees, largest first
    for leaf in leaves:
        size, node = 1, leaf
        while stack and stack[-1][0] == size:
            node = merkle.node_hash(stack.pop()[1], node)
            size *= 2
        stack.append((size, node))
        root = node
        for _, left in reversed(stack[:-1]):
            root = merkle.node_hash(left, root)
        roots.append(root)
    return roots


class Tree:
    """`size` distinct leaves (salted, so hypothesis draws different trees), with as many again
    behind them: the true root of any size that a flipped low bit leads to is then known, so a
    flipped size is always tried against the root a signed checkpoint of that size would carry.
    A flipped high bit gives a size beyond the held leaves; its root is unknowable here and the
    tree's own root is used (such a size needs a longer proof, whatever the root)."""

    def __init__(self, size: int, salt: bytes = b"") -> None:
        self.size = size
        extent = 1 << (size.bit_length() + 1)
        self.leaves = [merkle.leaf_hash(salt + i.to_bytes(8, "big")) for i in range(extent)]
        self._roots = prefix_roots(self.leaves)
        self.root = merkle.root_hash(self.leaves[:size])
        assert self.root == self._roots[size]

    def root_at(self, size: int) -> bytes:
        """The true root of the first `size` leaves, or this tree's root when beyond the held leaves."""
        return self._roots[size] if self.knows(size) else self.root

    def knows(self, size: int) -> bool:
        return 0 <= size <= len(self.leaves)


InclusionArgs = tuple[bytes, int, int, list[bytes], bytes]
ConsistencyArgs = tuple[int, int, bytes, bytes, list[bytes]]


def flip_element(proof: list[bytes], position: int, bit: int) -> list[bytes]:
    return [flip_bit(p, bit) if i == position else p for i, p in enumerate(proof)]


def inclusion_flips(
    tree: Tree,
    index: int,
    proof: list[bytes],
    element_bits: Callable[[int], Iterable[int]],
    *,
    width_bits: Iterable[int],
) -> Iterator[tuple[str, InclusionArgs]]:
    """One bit flipped in a proof element (bits chosen by `element_bits(position)`), in the root, the
    leaf, the index or the size (bits from `width_bits`), one at a time."""
    leaf, size, root = tree.leaves[index], tree.size, tree.root
    for position in range(len(proof)):
        for bit in element_bits(position):
            yield f"proof[{position}] bit {bit}", (leaf, index, size, flip_element(proof, position, bit), root)
    for bit in element_bits(len(proof)):
        yield f"root bit {bit}", (leaf, index, size, proof, flip_bit(root, bit))
        yield f"leaf bit {bit}", (flip_bit(leaf, bit), index, size, proof, root)
    for bit in width_bits:
        yield f"index bit {bit}", (leaf, index ^ (1 << bit), size, proof, root)
        flipped = size ^ (1 << bit)
        yield f"size bit {bit}", (leaf, index, flipped, proof, tree.root_at(flipped))


def consistency_flips(
    tree: Tree, old: int, proof: list[bytes], element_bits: Callable[[int], Iterable[int]], *, width_bits: Iterable[int]
) -> Iterator[tuple[str, ConsistencyArgs]]:
    new, old_root, new_root = tree.size, tree.root_at(old), tree.root
    for position in range(len(proof)):
        for bit in element_bits(position):
            yield f"proof[{position}] bit {bit}", (old, new, old_root, new_root, flip_element(proof, position, bit))
    for bit in element_bits(len(proof)):
        yield f"old root bit {bit}", (old, new, flip_bit(old_root, bit), new_root, proof)
        yield f"new root bit {bit}", (old, new, old_root, flip_bit(new_root, bit), proof)
    for bit in width_bits:
        flipped = old ^ (1 << bit)
        yield f"old size bit {bit}", (flipped, new, tree.root_at(flipped), new_root, proof)
        flipped = new ^ (1 << bit)
        yield f"new size bit {bit}", (old, flipped, old_root, tree.root_at(flipped), proof)


def consistency_holds(tree: Tree, args: ConsistencyArgs) -> bool:
    """Whether a (mutated) statement is true and `proof` is its proof. Flips can land on one: from the
    empty tree every tree is consistent (no new root or size is wrong), and a flipped size can meet
    another true trivial case. Those must verify; every other flip must be rejected."""
    old, new, old_root, new_root, proof = args
    if not 0 <= old <= new:
        return False
    if old == 0:
        return old_root == merkle.EMPTY_ROOT and not proof
    if not tree.knows(new):
        return False  # new_root is the held tree's, not the root of a tree of that size
    return (
        old_root == tree.root_at(old)
        and new_root == tree.root_at(new)
        and proof == merkle.consistency_proof(tree.leaves[:new], old)
    )


def check_inclusion_rejected(label: str, args: InclusionArgs) -> None:
    try:
        merkle.verify_inclusion(*args)
    except merkle.ProofError:
        return
    pytest.fail(f"flipped {label}: inclusion of index {args[1]} in size {args[2]} verified")


def check_consistency_flip(label: str, tree: Tree, args: ConsistencyArgs) -> None:
    """A flip must be rejected unless it landed on a true statement (checked only when it verified)."""
    try:
        merkle.verify_consistency(*args)
    except merkle.ProofError:
        return
    if not consistency_holds(tree, args):
        pytest.fail(f"flipped {label}: consistency {args[0]} -> {args[1]} verified")


def sweep_bits(size: int, turn: int) -> Callable[[int], range]:
    """Proof-element and root bits to flip in the sweep: all 256 for trees of up to 8 leaves, every
    32nd for up to 64, else one; the offset moves with `turn` (the index or old size) and the
    element's position, so across a tree's proofs every bit position is flipped."""
    stride = 1 if size <= 8 else 32 if size <= 64 else HASH_BITS

    def bits(position: int) -> range:
        return range((turn + 37 * position) % stride, HASH_BITS, stride)

    return bits


def test_every_inclusion_proof_verifies_at_sweep_sizes_and_every_index_and_size_bit_flip_is_rejected() -> None:
    """All 64 bits of the index and the size, for every index; proof-element, root and leaf bits as
    `sweep_bits` chooses them."""
    for size in SWEEP_SIZES:
        tree = Tree(size)
        assert tree.root == reference_mth(tree.leaves[:size])
        for index in range(size):
            proof = merkle.inclusion_proof(tree.leaves[:size], index)
            merkle.verify_inclusion(tree.leaves[index], index, size, proof, tree.root)
            flips = inclusion_flips(tree, index, proof, sweep_bits(size, index), width_bits=range(WIDTH))
            for label, args in flips:
                check_inclusion_rejected(f"{label} (size {size})", args)


def test_every_consistency_proof_verifies_at_sweep_sizes_and_every_size_bit_flip_is_rejected() -> None:
    for new in SWEEP_SIZES:
        tree = Tree(new)
        for old in range(new + 1):
            proof = merkle.consistency_proof(tree.leaves[:new], old)
            merkle.verify_consistency(old, new, tree.root_at(old), tree.root, proof)
            flips = consistency_flips(tree, old, proof, sweep_bits(new, old), width_bits=range(WIDTH))
            for label, args in flips:
                check_consistency_flip(f"{label} (size {new})", tree, args)


@settings(max_examples=25, deadline=None)
@given(size=st.integers(1, 300), salt=st.binary(max_size=16), rnd=st.randoms(use_true_random=False))
def test_random_tree_every_inclusion_proof_verifies_and_random_bit_flips_are_rejected(
    size: int, salt: bytes, rnd: random.Random
) -> None:
    """Every index of a random tree; per index, a random bit of each proof element, of the root and the
    leaf, and of the index and the size (any of their 64 bits)."""
    tree = Tree(size, salt)
    for index in range(size):
        proof = merkle.inclusion_proof(tree.leaves[:size], index)
        merkle.verify_inclusion(tree.leaves[index], index, size, proof, tree.root)
        flips = inclusion_flips(
            tree,
            index,
            proof,
            lambda _position: [rnd.randrange(HASH_BITS)],
            width_bits=[rnd.randrange(WIDTH), rnd.randrange(WIDTH)],
        )
        for label, args in flips:
            check_inclusion_rejected(label, args)


@settings(max_examples=25, deadline=None)
@given(new=st.integers(1, 300), salt=st.binary(max_size=16), rnd=st.randoms(use_true_random=False))
def test_random_tree_every_consistency_proof_verifies_and_random_bit_flips_are_rejected(
    new: int, salt: bytes, rnd: random.Random
) -> None:
    """Every old size 0..new of a random tree; per old size, a random bit of each proof element, of
    both roots, and of both sizes (any of their 64 bits)."""
    tree = Tree(new, salt)
    for old in range(new + 1):
        proof = merkle.consistency_proof(tree.leaves[:new], old)
        merkle.verify_consistency(old, new, tree.root_at(old), tree.root, proof)
        flips = consistency_flips(
            tree,
            old,
            proof,
            lambda _position: [rnd.randrange(HASH_BITS)],
            width_bits=[rnd.randrange(WIDTH), rnd.randrange(WIDTH)],
        )
        for label, args in flips:
            check_consistency_flip(label, tree, args)
