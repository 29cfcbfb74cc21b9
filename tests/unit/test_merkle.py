"""RFC 9162 Merkle hashing and proofs: published vectors, every shape of tree, and forged proofs refused."""

from __future__ import annotations

import hashlib

import pytest

from ledger.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    roots_at,
    verify_consistency,
    verify_inclusion,
)

# The RFC 6962 test data used by the Certificate Transparency implementations.
ENTRIES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                       "606162636465666768696a6b6c6d6e6f")]  # fmt: skip
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
LEAVES = [leaf_hash(entry) for entry in ENTRIES]


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH written exactly as RFC 9162 §2.1.1 defines it, recursively."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def many(n: int) -> list[bytes]:
    return [leaf_hash(f"event-{i}".encode()) for i in range(n)]


def test_the_roots_of_the_published_test_data_are_reproduced() -> None:
    assert root([]) == EMPTY_ROOT
    for size, expected in enumerate(ROOTS, start=1):
        assert root(LEAVES[:size]).hex() == expected


def test_the_published_inclusion_proof_of_leaf_0_in_8_is_reproduced_and_verifies() -> None:
    proof = inclusion_proof(LEAVES, 0, 8)
    assert [p.hex() for p in proof] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert verify_inclusion(LEAVES[0], 0, 8, proof, bytes.fromhex(ROOTS[7]))


def test_roots_match_the_recursive_definition_for_every_size_up_to_70() -> None:
    leaves = many(70)
    for size in range(71):
        assert root(leaves[:size]) == reference_root(leaves[:size])


def test_every_inclusion_proof_verifies_and_any_forgery_is_refused() -> None:
    leaves = many(34)
    for size in range(1, 34):
        tree_root = root(leaves[:size])
        for index in range(size):
            proof = inclusion_proof(leaves, index, size)
            assert verify_inclusion(leaves[index], index, size, proof, tree_root)
            assert not verify_inclusion(leaves[(index + 1) % size], index, size, proof, tree_root) or size == 1
            assert not verify_inclusion(leaves[index], index, size, proof, root(leaves[: size + 1]))
            assert not verify_inclusion(leaves[index], index, size, [*proof, tree_root], tree_root)
            if proof:
                assert not verify_inclusion(leaves[index], index, size, proof[:-1], tree_root)
                forged = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
                assert not verify_inclusion(leaves[index], index, size, forged, tree_root)
                assert not verify_inclusion(leaves[index], index ^ 1, size, proof, tree_root) or index ^ 1 >= size


def test_a_leaf_outside_the_tree_has_no_proof() -> None:
    assert not verify_inclusion(LEAVES[0], 8, 8, [], bytes.fromhex(ROOTS[7]))
    with pytest.raises(ValueError, match="no leaf"):
        inclusion_proof(LEAVES, 8, 8)


def test_every_consistency_proof_verifies_and_any_forgery_is_refused() -> None:
    leaves = many(34)
    for new in range(1, 34):
        new_root = root(leaves[:new])
        for old in range(1, new + 1):
            old_root = root(leaves[:old])
            proof = consistency_proof(leaves, old, new)
            assert verify_consistency(old, new, old_root, new_root, proof)
            if old < new:
                assert not verify_consistency(old, new, new_root, new_root, proof)
                assert not verify_consistency(old, new, old_root, old_root, proof)
                assert not verify_consistency(old, new, old_root, root(leaves[: new + 1]), proof)
                assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
                forged = [bytes([proof[-1][0] ^ 1]) + proof[-1][1:], *proof[:-1]][::-1]
                assert not verify_consistency(old, new, old_root, new_root, forged) or len(proof) == 1


def test_a_rewritten_history_is_not_consistent_with_the_old_root() -> None:
    leaves = many(20)
    rewritten = [*leaves[:5], leaf_hash(b"a forged event"), *leaves[6:]]
    proof = consistency_proof(rewritten, 10, 20)
    assert not verify_consistency(10, 20, root(leaves[:10]), root(rewritten), proof)


def test_an_empty_or_shrinking_tree_has_no_consistency_proof() -> None:
    with pytest.raises(ValueError):
        consistency_proof(LEAVES, 0, 4)
    with pytest.raises(ValueError):
        consistency_proof(LEAVES, 5, 4)
    assert not verify_consistency(5, 4, LEAVES[0], LEAVES[0], [LEAVES[1]])


def test_roots_at_several_sizes_in_one_pass_equal_separate_roots() -> None:
    leaves = many(40)
    sizes = [0, 1, 7, 8, 9, 31, 32, 40]
    assert roots_at(leaves, sizes) == {size: root(leaves[:size]) for size in sizes}
