"""Property and corruption tests: every proof verifies, every mutation of one is rejected.

The fast verifiers are cross-checked against a literal, recursive reference of the RFC's
definitions (below, used only here), and each good proof is mutated the ways
transparency-dev/merkle's probes do: index +-1, size changed, wrong leaf, one bit flipped per
element, element dropped, element appended, root prepended.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle


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


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, 300), data=st.data())
def test_random_trees_inclusion_proofs_verify_and_any_bit_flip_is_rejected(size: int, data: st.DataObject) -> None:
    """Flipping a bit of the size or index is checked against the true root of that tree size."""
    leaves = make_leaves(size)
    root = merkle.root_hash(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = merkle.inclusion_proof(leaves, index)
    merkle.verify_inclusion(leaves[index], index, size, proof, root)

    target = data.draw(st.sampled_from(["proof", "root", "index", "size", "leaf"]), label="target")
    bit = data.draw(st.integers(0, 255), label="bit")
    if target == "proof" and not proof:
        target = "root"
    if target == "proof":
        position = data.draw(st.integers(0, len(proof) - 1), label="position")
        proof = [flip_bit(p, bit) if i == position else p for i, p in enumerate(proof)]
    elif target == "root":
        root = flip_bit(root, bit)
    elif target == "leaf":
        leaves[index] = flip_bit(leaves[index], bit)
    elif target == "index":
        index ^= 1 << (bit % max(1, size.bit_length() + 1))
    else:
        size ^= 1 << (bit % (size.bit_length() + 1))
        root = true_root(size)
    leaf = leaves[index] if 0 <= index < len(leaves) else leaves[0]
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(leaf, index, size, proof, root)


@settings(max_examples=200, deadline=None)
@given(new=st.integers(1, 300), data=st.data())
def test_random_trees_consistency_proofs_verify_and_any_bit_flip_is_rejected(new: int, data: st.DataObject) -> None:
    leaves = make_leaves(new)
    old = data.draw(st.integers(1, new), label="old")
    old_root, new_root = merkle.root_hash(leaves[:old]), merkle.root_hash(leaves)
    proof = merkle.consistency_proof(leaves, old)
    merkle.verify_consistency(old, new, old_root, new_root, proof)

    target = data.draw(st.sampled_from(["proof", "old_root", "new_root", "old", "new"]), label="target")
    bit = data.draw(st.integers(0, 255), label="bit")
    if target == "proof" and not proof:
        target = "new_root"
    if target == "proof":
        position = data.draw(st.integers(0, len(proof) - 1), label="position")
        proof = [flip_bit(p, bit) if i == position else p for i, p in enumerate(proof)]
    elif target == "old_root":
        old_root = flip_bit(old_root, bit)
    elif target == "new_root":
        new_root = flip_bit(new_root, bit)
    elif target == "old":
        old ^= 1 << (bit % (old.bit_length() + 1))
        old_root = true_root(old)
    else:
        new ^= 1 << (bit % (new.bit_length() + 1))
        new_root = true_root(new)
    if target in ("old", "new") and 0 <= old <= new and proof == merkle.consistency_proof(ALL_LEAVES[:new], old):
        return  # the mutated statement is true and this is its proof (e.g. from the empty tree)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(old, new, old_root, new_root, proof)
