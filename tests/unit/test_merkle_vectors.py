"""ledger.log.merkle against the published RFC 6962/9162 known answers (Certificate Transparency)."""

from __future__ import annotations

import pytest

from ledger.log import merkle

# Leaves and tree heads published with the Certificate Transparency reference code.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
CT_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CT_CONSISTENCY = {
    (2, 8): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
LEAF_HASHES = [merkle.leaf_hash(d) for d in CT_LEAVES]


@pytest.mark.parametrize("size", sorted(CT_ROOTS))
def test_root_matches_published_tree_head(size: int) -> None:
    assert merkle.root_hash(LEAF_HASHES[:size]).hex() == CT_ROOTS[size]


def test_empty_tree_root_is_sha256_of_empty_string() -> None:
    assert merkle.root_hash([]) == merkle.EMPTY_ROOT
    assert merkle.EMPTY_ROOT.hex() == CT_ROOTS[0]


def test_leaf_and_node_hashes_use_domain_separation_prefixes() -> None:
    import hashlib

    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    a, b = LEAF_HASHES[0], LEAF_HASHES[1]
    assert merkle.node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert merkle.node_hash(a, b) != merkle.node_hash(b, a)


@pytest.mark.parametrize(("index", "size"), sorted(CT_INCLUSION))
def test_inclusion_proof_matches_published_path(index: int, size: int) -> None:
    proof = merkle.inclusion_proof(LEAF_HASHES[:size], index)
    assert [p.hex() for p in proof] == CT_INCLUSION[(index, size)]
    merkle.verify_inclusion(LEAF_HASHES[index], index, size, proof, bytes.fromhex(CT_ROOTS[size]))


@pytest.mark.parametrize(("old", "new"), sorted(CT_CONSISTENCY))
def test_consistency_proof_matches_published_proof(old: int, new: int) -> None:
    proof = merkle.consistency_proof(LEAF_HASHES[:new], old)
    assert [p.hex() for p in proof] == CT_CONSISTENCY[(old, new)]
    merkle.verify_consistency(old, new, bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new]), proof)


def test_split_is_largest_power_of_two_strictly_below_not_midpoint() -> None:
    expected = {2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 8: 4, 9: 8, 1000: 512, (1 << 40): 1 << 39}
    for n, k in expected.items():
        assert merkle.largest_power_of_two_below(n) == k


def test_degenerate_consistency_cases() -> None:
    r4, r5 = merkle.root_hash(LEAF_HASHES[:4]), merkle.root_hash(LEAF_HASHES[:5])
    merkle.verify_consistency(4, 4, r4, r4, [])
    merkle.verify_consistency(0, 8, merkle.EMPTY_ROOT, bytes.fromhex(CT_ROOTS[8]), [])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(4, 4, r4, r5, [])
    with pytest.raises(merkle.ProofError, match="wrong proof size 1"):
        merkle.verify_consistency(4, 4, r4, r4, [bytes(32)])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(0, 8, r4, bytes.fromhex(CT_ROOTS[8]), [])
    with pytest.raises(merkle.ProofError, match="cannot be empty"):
        merkle.verify_consistency(6, 8, bytes.fromhex(CT_ROOTS[6]), bytes.fromhex(CT_ROOTS[8]), [])
    with pytest.raises(merkle.ProofError, match="not within"):
        merkle.verify_consistency(8, 6, bytes.fromhex(CT_ROOTS[8]), bytes.fromhex(CT_ROOTS[6]), [])


def test_generators_reject_out_of_range_arguments() -> None:
    with pytest.raises(merkle.ProofError, match="beyond tree size"):
        merkle.inclusion_proof(LEAF_HASHES, 8)
    with pytest.raises(merkle.ProofError, match="beyond tree size"):
        merkle.inclusion_proof(LEAF_HASHES, -1)
    with pytest.raises(merkle.ProofError, match="not within"):
        merkle.consistency_proof(LEAF_HASHES[:3], 5)
    with pytest.raises(merkle.ProofError, match="32-byte"):
        merkle.root_hash([b"short"])


def test_short_hashes_are_refused_by_verifiers() -> None:
    proof = merkle.inclusion_proof(LEAF_HASHES, 5)
    root = bytes.fromhex(CT_ROOTS[8])
    for args in (
        (bytes(31), 5, 8, proof, root),
        (LEAF_HASHES[5], 5, 8, proof, bytes(31)),
        (LEAF_HASHES[5], 5, 8, [bytes(31), *proof[1:]], root),
    ):
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(*args)


def test_root_mismatch_error_carries_both_roots() -> None:
    proof = merkle.inclusion_proof(LEAF_HASHES, 5)
    wrong_root = bytes(32)
    with pytest.raises(merkle.RootMismatchError) as caught:
        merkle.verify_inclusion(LEAF_HASHES[5], 5, 8, proof, wrong_root)
    assert caught.value.expected == wrong_root
    assert caught.value.calculated.hex() == CT_ROOTS[8]
