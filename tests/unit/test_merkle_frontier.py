"""The frontier folded leaf by leaf gives the RFC 9162 root at every size, from log2(n) + 1 hashes."""

from __future__ import annotations

import hashlib

from ledger.merkle import EMPTY_ROOT
from ledger.merkle_frontier import MerkleFrontier


def leaf(n: int) -> bytes:
    return hashlib.sha256(b"\x00" + str(n).encode()).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 as written: split at the largest power of two below n, recursively."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def test_the_root_after_each_leaf_is_the_tree_hash_of_the_leaves_so_far() -> None:
    frontier = MerkleFrontier()
    assert frontier.root() == EMPTY_ROOT
    leaves = [leaf(n) for n in range(70)]
    for size in range(1, 71):
        frontier.add(leaves[size - 1])
        assert frontier.root() == mth(leaves[:size]), size
        assert len(frontier.frontier) == bin(size).count("1")


def test_roots_are_kept_at_the_wanted_sizes_only() -> None:
    frontier = MerkleFrontier([0, 1, 6, 13, 99])
    leaves = [leaf(n) for n in range(20)]
    for item in leaves:
        frontier.add(item)
    assert frontier.roots == {0: EMPTY_ROOT, 1: leaves[0], 6: mth(leaves[:6]), 13: mth(leaves[:13])}
