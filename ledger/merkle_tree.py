"""The transparency log's tree as stored: leaves plus every complete subtree hash, read O(log n) at a time.

The Merkle follower calls ``append_leaves`` in the transaction that stores the leaves, so
each complete subtree's hash is written once, when its last leaf arrives. Any root or
RFC 9162 proof is then a fold of at most a few dozen stored hashes fetched in one query,
whatever the log's size: a checkpoint over a million events costs what one over a
thousand does. These tables are the ledger's own working copy; verifiers rebuild the
tree from the stored events and never read them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ledger.merkle import (
    complete_subtrees,
    consistency_ranges,
    fold_subtrees,
    inclusion_ranges,
    node_hash,
)
from ledger.side_cursor import SideCursor

Node = tuple[int, int]
"""(level, index): the complete subtree over leaves [index·2^level, (index+1)·2^level)."""


class StoredTree:
    """Roots and proofs over the follower's tables, inside the caller's transaction."""

    def __init__(self, cursor: SideCursor) -> None:
        self.cursor = cursor

    def size(self) -> int:
        """How many leaves are stored (read from the primary key, not by counting)."""
        self.cursor.execute("SELECT COALESCE(MAX(leaf_index), -1) + 1 AS n FROM merkle_leaves")
        found = self.cursor.fetchone()
        return int(found["n"]) if found else 0

    def nodes(self, wanted: Iterable[Node]) -> dict[Node, bytes]:
        """The stored hashes of the given complete subtrees (level 0 is a leaf), in one query per table."""
        wanted = sorted(set(wanted))
        found: dict[Node, bytes] = {}
        leaves = [index for level, index in wanted if level == 0]
        inner = [(level, index) for level, index in wanted if level > 0]
        if leaves:
            marks = ", ".join(["%s"] * len(leaves))
            self.cursor.execute(
                f"SELECT leaf_index, leaf_hash FROM merkle_leaves WHERE leaf_index IN ({marks})", leaves
            )
            found.update({(0, int(row["leaf_index"])): bytes(row["leaf_hash"]) for row in self.cursor.fetchall()})
        if inner:
            where = " OR ".join(["(level = %s AND node_index = %s)"] * len(inner))
            self.cursor.execute(
                f"SELECT level, node_index, hash FROM merkle_nodes WHERE {where}",
                [value for node in inner for value in node],
            )
            found.update({(int(r["level"]), int(r["node_index"])): bytes(r["hash"]) for r in self.cursor.fetchall()})
        missing = [node for node in wanted if node not in found]
        if missing:
            raise LookupError(f"the Merkle follower has not stored the subtree(s) {missing[:3]}: run it first")
        return found

    def range_roots(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """MTH of each leaf range [start, end), from the complete subtrees that tile it."""
        tilings = [complete_subtrees(start, end) for start, end in ranges]
        stored = self.nodes(node for tiling in tilings for node in tiling)
        return [fold_subtrees([stored[node] for node in tiling]) for tiling in tilings]

    def root(self, size: int) -> bytes:
        """MTH(D[size])."""
        self._within(size)
        return self.range_roots([(0, size)])[0]

    def leaf(self, index: int) -> bytes:
        """One leaf hash."""
        self._within(index + 1)
        return self.nodes([(0, index)])[(0, index)]

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[size]) (RFC 9162 §2.1.3.1)."""
        self._within(size)
        return self.range_roots(inclusion_ranges(index, size))

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(old_size, D[new_size]) (RFC 9162 §2.1.4.1)."""
        self._within(new_size)
        return self.range_roots(consistency_ranges(old_size, new_size))

    def _within(self, size: int) -> None:
        if size > self.size():
            raise ValueError(f"the log holds {self.size()} leaves, fewer than {size}")


def append_leaves(cursor: SideCursor, first: int, leaves: Sequence[bytes]) -> None:
    """Store the complete subtrees the leaves ``first``, ``first+1``… close (the leaves themselves are the caller's).

    Appending leaf i closes one subtree per trailing 1-bit of i: its hash joins the left
    sibling's, already stored or made in this batch, so a batch of b leaves reads at most
    log2(n) earlier hashes and writes fewer than b new ones.
    """
    made: dict[Node, bytes] = {}
    for offset, leaf in enumerate(leaves):
        level, index, value = 0, first + offset, leaf
        made[(0, index)] = leaf
        while index & 1:
            sibling = (level, index - 1)
            left = made[sibling] if sibling in made else StoredTree(cursor).nodes([sibling])[sibling]
            level, index, value = level + 1, index >> 1, node_hash(left, value)
            made[(level, index)] = value
    rows = [(level, index, value) for (level, index), value in made.items() if level > 0]
    cursor.executemany("INSERT INTO merkle_nodes (level, node_index, hash) VALUES (%s, %s, %s)", rows)


def rebuild_nodes(cursor: SideCursor) -> int:
    """Fill ``merkle_nodes`` from the stored leaves when it lags behind them (a log older than the table).

    Cheap when nothing is missing: the last level-1 subtree the leaves close is looked up once.
    Returns how many leaves were folded in.
    """
    tree = StoredTree(cursor)
    size = tree.size()
    if size < 2:
        return 0
    cursor.execute("SELECT 1 AS found FROM merkle_nodes WHERE level = 1 AND node_index = %s", (size // 2 - 1,))
    if cursor.fetchone() is not None:
        return 0
    cursor.execute("SELECT level, node_index FROM merkle_nodes WHERE level = 1 ORDER BY node_index DESC LIMIT 1")
    found = cursor.fetchone()
    # Resume after the last complete pair whose subtrees are all stored (every node is written with its last leaf).
    first = 0 if found is None else (int(found["node_index"]) + 1) * 2
    cursor.execute("SELECT leaf_hash FROM merkle_leaves WHERE leaf_index >= %s ORDER BY leaf_index", (first,))
    leaves = [bytes(row["leaf_hash"]) for row in cursor.fetchall()]
    append_leaves(cursor, first, leaves)
    return len(leaves)
