"""A Merkle proof is only ever about a leaf inside the tree, or a tree inside a larger one: the rest is refused.

Without the bounds, an index is read bit by bit: -1 walks the same path as the last leaf
of a tree whose size is a power of two, and 15 in a tree of 8 does too. So a genuine
proof of leaf 7 would "prove" a leaf at -1 or at 15 unless the range is checked first. The
same holds for consistency: empty, shrinking or same-size-but-different trees, and proofs
with a hash too many, are refused before any hashing could be made to agree.
"""

from __future__ import annotations

import hashlib

import pytest

from ledger.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)


def eight_leaves() -> list[bytes]:
    return [leaf_hash(f"event-{i}".encode()) for i in range(8)]


def hand_root(leaves: list[bytes]) -> bytes:
    """The root of exactly eight leaves, written out level by level as RFC 9162 defines it."""
    pairs = [node_hash(leaves[i], leaves[i + 1]) for i in range(0, 8, 2)]
    quads = [node_hash(pairs[0], pairs[1]), node_hash(pairs[2], pairs[3])]
    return node_hash(quads[0], quads[1])


def test_the_proof_of_the_last_leaf_verifies_at_its_own_index() -> None:
    leaves = eight_leaves()
    proof = inclusion_proof(leaves, 7, 8)
    assert len(proof) == 3
    assert verify_inclusion(leaves[7], 7, 8, proof, hand_root(leaves))


@pytest.mark.parametrize("index", [-1, -9, 8, 15, 23])
def test_a_genuine_proof_does_not_verify_at_an_index_outside_the_tree(index: int) -> None:
    leaves = eight_leaves()
    proof = inclusion_proof(leaves, 7, 8)
    assert not verify_inclusion(leaves[7], index, 8, proof, hand_root(leaves))


@pytest.mark.parametrize(("index", "size"), [(8, 8), (9, 8), (-1, 8), (-8, 8), (0, 0), (0, 9), (3, 12)])
def test_no_inclusion_proof_is_made_for_a_leaf_outside_the_tree_or_a_tree_larger_than_the_log(
    index: int, size: int
) -> None:
    with pytest.raises(ValueError, match=f"no leaf {index} in a tree of {size}"):
        inclusion_proof(eight_leaves(), index, size)


def test_the_first_and_last_leaves_are_inside_the_tree() -> None:
    leaves = eight_leaves()
    for index in (0, 7):
        assert verify_inclusion(leaves[index], index, 8, inclusion_proof(leaves, index, 8), hand_root(leaves))
    lone = leaf_hash(b"alone")
    assert inclusion_proof([lone], 0, 1) == []
    assert verify_inclusion(lone, 0, 1, [], lone)


def test_an_empty_tree_proves_nothing() -> None:
    empty_root = hashlib.sha256(b"").digest()
    assert not verify_inclusion(empty_root, 0, 0, [], empty_root)


@pytest.mark.parametrize(("old", "new"), [(0, 4), (-1, 4), (5, 4), (4, 9)])
def test_no_consistency_proof_is_made_from_an_empty_shrinking_or_missing_tree(old: int, new: int) -> None:
    with pytest.raises(ValueError, match=f"no consistency proof from {old} to {new}"):
        consistency_proof(eight_leaves(), old, new)


def test_a_one_leaf_tree_has_no_second_leaf() -> None:
    lone = leaf_hash(b"alone")
    assert not verify_inclusion(lone, 1, 1, [], lone)


# -- consistency: sizes and proof lengths out of range -------------------------------------------------


def test_two_empty_trees_are_not_a_consistency_claim() -> None:
    empty_root = hashlib.sha256(b"").digest()
    assert not verify_consistency(0, 0, empty_root, empty_root, [])
    assert not verify_consistency(-1, 4, empty_root, root(eight_leaves()[:4]), [])


def test_two_different_roots_of_the_same_size_are_never_consistent() -> None:
    leaves = eight_leaves()
    forked = [*leaves[:7], leaf_hash(b"a rewritten last event")]
    assert verify_consistency(8, 8, root(leaves), root(leaves), [])
    assert not verify_consistency(8, 8, root(leaves), root(forked), [])


def test_a_genuine_proof_cannot_show_a_larger_tree_inside_a_smaller_one() -> None:
    leaves = eight_leaves()
    three_to_four = consistency_proof(leaves, 3, 4)
    assert verify_consistency(3, 4, root(leaves[:3]), root(leaves[:4]), three_to_four)
    assert not verify_consistency(7, 3, root(leaves[:3]), root(leaves[:4]), three_to_four)


def test_a_consistency_proof_with_one_hash_too_many_is_refused() -> None:
    leaves = eight_leaves()
    for old, new in ((1, 8), (3, 8), (5, 7), (6, 8)):
        proof = consistency_proof(leaves, old, new)
        assert verify_consistency(old, new, root(leaves[:old]), root(leaves[:new]), proof)
        assert not verify_consistency(old, new, root(leaves[:old]), root(leaves[:new]), [*proof, leaves[0]])
