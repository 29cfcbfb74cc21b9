"""Any root or proof is a fold of complete subtrees: the stored-tree arithmetic against the in-memory RFC 9162 tree."""

from __future__ import annotations

import pytest

from ledger.merkle import (
    complete_subtrees,
    consistency_proof,
    consistency_ranges,
    fold_subtrees,
    inclusion_ranges,
    leaf_hash,
    subtree_root,
)

LEAVES = [leaf_hash(bytes([index])) for index in range(70)]


def complete(level: int, index: int) -> bytes:
    """The oracle: the complete subtree's root computed from its leaves."""
    return subtree_root(LEAVES, index << level, (index + 1) << level)


def folded(start: int, end: int) -> bytes:
    return fold_subtrees([complete(level, index) for level, index in complete_subtrees(start, end)])


@pytest.mark.parametrize("size", range(1, 70))
def test_every_range_a_proof_asks_for_folds_to_the_rfc_subtree_root(size: int) -> None:
    for index in range(size):
        for start, end in inclusion_ranges(index, size):
            assert folded(start, end) == subtree_root(LEAVES, start, end)
    for old in range(1, size + 1):
        assert [folded(s, e) for s, e in consistency_ranges(old, size)] == consistency_proof(LEAVES, old, size)
    assert folded(0, size) == subtree_root(LEAVES, 0, size)


def test_a_range_is_tiled_by_complete_subtrees_largest_first() -> None:
    assert complete_subtrees(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert complete_subtrees(8, 12) == [(2, 2)]
    assert complete_subtrees(5, 5) == []


def test_a_range_that_is_not_a_subtree_of_the_rfc_tree_is_refused() -> None:
    with pytest.raises(ValueError, match="not a range of the RFC 9162 tree"):
        complete_subtrees(1, 8)  # tiles 1, 2, 4 grow left to right: no node of the tree covers them
