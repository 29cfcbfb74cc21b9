"""`custody bench`'s tree figures: checkpoint and proof time over the stored tree at 1e3, 1e5 and 1e6 leaves.

The leaf and subtree tables are built directly in a scratch SQLite file (a million
signed events would take the run's whole budget to record) through the same
``append_leaves`` the Merkle follower uses, then read the way a checkpoint and a
proof read them: O(log n) stored hashes, so the 1e6 figures stay within a small
factor of the 1e3 ones.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from ledger.keys import KeyPair
from ledger.merkle import event_leaf, verify_consistency, verify_inclusion
from ledger.merkle_tree import StoredTree, append_leaves
from ledger.side_cursor import SideCursor
from ledger.signed_note import checkpoint_body, sign_note

TREE_SIZES = (1_000, 100_000, 1_000_000)
SCHEMA = (
    "CREATE TABLE merkle_leaves (leaf_index INTEGER PRIMARY KEY, position INTEGER NOT NULL, leaf_hash BLOB NOT NULL)",
    "CREATE TABLE merkle_nodes (level INTEGER NOT NULL, node_index INTEGER NOT NULL, hash BLOB NOT NULL,"
    " PRIMARY KEY (level, node_index))",
)
BATCH = 10_000
REPEAT = 20


def _build(connection: sqlite3.Connection, size: int) -> None:
    """Leaves and complete subtrees for ``size`` events, batch by batch as the follower stores them."""
    cursor = SideCursor(connection.cursor(), "sqlite")
    for first in range(0, size, BATCH):
        leaves = [event_leaf(hashlib.sha256(str(i).encode()).digest()) for i in range(first, min(size, first + BATCH))]
        connection.executemany(
            "INSERT INTO merkle_leaves (leaf_index, position, leaf_hash) VALUES (?, ?, ?)",
            [(first + offset, first + offset + 1, leaf) for offset, leaf in enumerate(leaves)],
        )
        append_leaves(cursor, first, leaves)
    connection.commit()


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000 / REPEAT, 3)


def bench_tree(sizes: tuple[int, ...] = TREE_SIZES) -> dict[str, Any]:
    """Per size: a checkpoint (root, consistency with the previous one, signature) and proofs, in milliseconds."""
    pair = KeyPair.generate()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="custody-bench-tree-") as home:
        for size in sizes:
            connection = sqlite3.connect(Path(home) / f"tree-{size}.sqlite3")
            connection.row_factory = sqlite3.Row
            for statement in SCHEMA:
                connection.execute(statement)
            started = time.perf_counter()
            _build(connection, size)
            build_s = time.perf_counter() - started
            tree = StoredTree(SideCursor(connection.cursor(), "sqlite"))
            last = size - size // 10
            last_root = tree.root(last)
            started = time.perf_counter()
            for _ in range(REPEAT):
                tree_root = tree.root(size)
                assert verify_consistency(last, size, last_root, tree_root, tree.consistency(last, size))
                sign_note(checkpoint_body("custody-ledger/bench", size, tree_root), "custody-ledger/bench", pair)
            checkpoint_ms = _ms(started)
            index = size // 3
            started = time.perf_counter()
            for _ in range(REPEAT):
                inclusion = tree.inclusion(index, size)
            inclusion_ms = _ms(started)
            started = time.perf_counter()
            for _ in range(REPEAT):
                consistency = tree.consistency(size // 7 or 1, size)
            consistency_ms = _ms(started)
            assert verify_inclusion(tree.leaf(index), index, size, inclusion, tree_root)
            connection.close()
            figures[f"tree_{size}"] = {
                "build_s": round(build_s, 2),
                "checkpoint_ms": checkpoint_ms,
                "inclusion_proof_ms": inclusion_ms,
                "inclusion_proof_hashes": len(inclusion),
                "consistency_proof_ms": consistency_ms,
                "consistency_proof_hashes": len(consistency),
            }
    small, large = figures[f"tree_{sizes[0]}"], figures[f"tree_{sizes[-1]}"]
    figures["tree_checkpoint_ratio_largest_over_smallest"] = round(large["checkpoint_ms"] / small["checkpoint_ms"], 2)
    return figures
