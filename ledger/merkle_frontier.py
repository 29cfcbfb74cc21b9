"""The RFC 9162 tree of a log folded leaf by leaf, keeping only its frontier.

A tree of n leaves is a row of perfect subtrees, one per bit of n, largest first
(ledger/merkle.py ``roots_at`` folds them the same way): holding their roots — at most
log2(n) + 1 hashes — is enough to add the next leaf and to give the root at the current
size. The verifier asks, before the scan, for the sizes its checkpoints cover and takes
each root as that size goes by, instead of keeping every leaf.
"""

from __future__ import annotations

from collections.abc import Iterable

from ledger.merkle import EMPTY_ROOT, node_hash


class MerkleFrontier:
    """The roots of the perfect subtrees of the leaves added so far, and the roots at the wanted sizes."""

    def __init__(self, wanted_sizes: Iterable[int] = ()) -> None:
        self.size = 0
        self.frontier: list[bytes] = []
        self.wanted = frozenset(size for size in wanted_sizes if size > 0)
        self.roots: dict[int, bytes] = {0: EMPTY_ROOT}

    def add(self, leaf: bytes) -> None:
        """Append one leaf hash; each trailing one bit of the old size is a subtree it completes."""
        value, size, frontier = leaf, self.size, self.frontier
        while size & 1:
            value = node_hash(frontier.pop(), value)
            size >>= 1
        frontier.append(value)
        self.size += 1
        if self.size in self.wanted:
            self.roots[self.size] = self.root()

    def root(self) -> bytes:
        """MTH of the leaves added so far."""
        if not self.frontier:
            return EMPTY_ROOT
        value = self.frontier[-1]
        for left in reversed(self.frontier[:-1]):
            value = node_hash(left, value)
        return value
