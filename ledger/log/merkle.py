"""RFC 9162 §2.1 Merkle tree algorithms over a list of leaf hashes.

Pure functions, standard library only: this is the part an auditor re-implements, so it
follows the RFC's recursive definitions literally (MTH, PATH, PROOF/SUBPROOF) and its
verification algorithms (§2.1.3.2, §2.1.4.2) step by step. The stored log never calls
the list-based generators on a large tree; it uses `ledger.log.subtrees` to fetch the few
stored subtree hashes a proof needs. These functions are the reference it is tested
against.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "ProofError",
    "RootMismatchError",
    "consistency_proof",
    "inclusion_proof",
    "largest_power_of_two_below",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion_proof",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class ProofError(ValueError):
    """A proof, or the arguments given with it, does not verify."""


class RootMismatchError(ProofError):
    """The proof is well formed but leads to a different root than the one expected."""

    def __init__(self, expected: bytes, calculated: bytes) -> None:
        self.expected = expected
        self.calculated = calculated
        super().__init__(f"root mismatch: expected {expected.hex()}, calculated {calculated.hex()}")


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one log entry."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The RFC's split point k for n > 1: the largest power of two strictly smaller than n."""
    if n < 2:
        raise ValueError(f"split needs n >= 2, got {n}")
    return 1 << ((n - 1).bit_length() - 1)


def _check_hashes(hashes: Sequence[bytes], what: str) -> None:
    for position, value in enumerate(hashes):
        if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
            raise ProofError(f"{what}[{position}] is not a {HASH_SIZE}-byte hash")


def _mth(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    size = end - start
    if size == 1:
        return bytes(leaves[start])
    k = largest_power_of_two_below(size)
    return node_hash(_mth(leaves, start, start + k), _mth(leaves, start + k, end))


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]): the tree head over the given leaf hashes (SHA-256 of "" when empty)."""
    _check_hashes(leaf_hashes, "leaf_hashes")
    if not leaf_hashes:
        return EMPTY_ROOT
    return _mth(leaf_hashes, 0, len(leaf_hashes))


def _path(m: int, leaves: Sequence[bytes], start: int, end: int) -> list[bytes]:
    size = end - start
    if size == 1:
        return []
    k = largest_power_of_two_below(size)
    if m < k:
        return [*_path(m, leaves, start, start + k), _mth(leaves, start + k, end)]
    return [*_path(m - k, leaves, start + k, end), _mth(leaves, start, start + k)]


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]): the audit path for leaf `index` in the tree over all `leaf_hashes`."""
    _check_hashes(leaf_hashes, "leaf_hashes")
    size = len(leaf_hashes)
    if not 0 <= index < size:
        raise ProofError(f"index {index} is beyond tree size {size}")
    return _path(index, leaf_hashes, 0, size)


def _subproof(m: int, leaves: Sequence[bytes], start: int, end: int, complete: bool) -> list[bytes]:
    size = end - start
    if m == size:
        return [] if complete else [_mth(leaves, start, end)]
    k = largest_power_of_two_below(size)
    if m <= k:
        return [*_subproof(m, leaves, start, start + k, complete), _mth(leaves, start + k, end)]
    return [*_subproof(m - k, leaves, start + k, end, False), _mth(leaves, start, start + k)]


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(m, D[n]): proves the tree of `old_size` leaves is a prefix of the tree over `leaf_hashes`."""
    _check_hashes(leaf_hashes, "leaf_hashes")
    new_size = len(leaf_hashes)
    if not 0 <= old_size <= new_size:
        raise ProofError(f"old size {old_size} is not within 0..{new_size}")
    if old_size in (0, new_size):
        return []
    return _subproof(old_size, leaf_hashes, 0, new_size, True)


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """Compute the root an inclusion proof leads to (RFC 9162 §2.1.3.2), or raise ProofError."""
    if size <= 0 or not 0 <= index < size:
        raise ProofError(f"index {index} is beyond tree size {size}")
    _check_hashes([leaf], "leaf_hash")
    _check_hashes(proof, "proof")
    fn, sn = index, size - 1
    result = bytes(leaf)
    for element in proof:
        if sn == 0:
            raise ProofError(f"wrong proof size {len(proof)}: too long for index {index} in size {size}")
        if fn & 1 or fn == sn:
            result = node_hash(element, result)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"wrong proof size {len(proof)}: too short for index {index} in size {size}")
    return result


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that `leaf_hash` is leaf `index` of the tree of `size` with `root`; raise ProofError if not."""
    _check_hashes([root], "root")
    calculated = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if calculated != root:
        raise RootMismatchError(bytes(root), calculated)


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree (old_size, old_root) is a prefix of (new_size, new_root) (RFC 9162 §2.1.4.2)."""
    _check_hashes([old_root], "old_root")
    _check_hashes([new_root], "new_root")
    _check_hashes(proof, "proof")
    if not 0 <= old_size <= new_size:
        raise ProofError(f"old size {old_size} is not within 0..{new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError(f"wrong proof size {len(proof)}: want 0 for equal sizes")
        if old_root != new_root:
            raise RootMismatchError(bytes(old_root), bytes(new_root))
        return
    if old_size == 0:
        if proof:
            raise ProofError(f"wrong proof size {len(proof)}: want 0 from the empty tree")
        if old_root != EMPTY_ROOT:
            raise RootMismatchError(EMPTY_ROOT, bytes(old_root))
        return
    if not proof:
        raise ProofError("wrong proof size 0: a non-trivial consistency proof cannot be empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # old tree is a complete subtree: its root starts the walk
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for element in path[1:]:
        if sn == 0:
            raise ProofError(f"wrong proof size {len(proof)}: too long for sizes {old_size}->{new_size}")
        if fn & 1 or fn == sn:
            fr = node_hash(element, fr)
            sr = node_hash(element, sr)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"wrong proof size {len(proof)}: too short for sizes {old_size}->{new_size}")
    if fr != old_root:
        raise RootMismatchError(bytes(old_root), fr)
    if sr != new_root:
        raise RootMismatchError(bytes(new_root), sr)
