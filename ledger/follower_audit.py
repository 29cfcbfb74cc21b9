"""What the Merkle follower's own tables say, compared with the tree rebuilt from the stored rows.

The verifier never trusts these tables (a DBA can edit them); but they remember where each
leaf came from, so when rows disappear they locate the deletion — the leaf, its log
position and, when the heads table still has it, the aggregate and version — and when the
table itself was edited they name the first leaf that disagrees with the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Located:
    """A leaf the follower recorded that the rows no longer hold (or hold differently)."""

    leaf_index: int
    position: int
    aggregate_id: str | None
    version: int | None


def _follower_leaves(store: Any) -> list[tuple[int, int, bytes]]:
    with store.side_transaction() as cursor:
        cursor.execute("SELECT leaf_index, position, leaf_hash FROM merkle_leaves ORDER BY leaf_index")
        return [(int(r["leaf_index"]), int(r["position"]), bytes(r["leaf_hash"])) for r in cursor.fetchall()]


def _head_at(store: Any, position: int) -> tuple[str | None, int | None]:
    with store.side_transaction() as cursor:
        cursor.execute("SELECT aggregate_id, version FROM aggregate_heads WHERE position = %s", (position,))
        row = cursor.fetchone()
    return (None, None) if row is None else (str(row["aggregate_id"]), int(row["version"]))


def first_disagreement(store: Any, leaves: Sequence[bytes], positions: Sequence[int]) -> Located | None:
    """The first leaf where the follower's table and the stored rows differ (position or hash), or None."""
    recorded = _follower_leaves(store)
    for index, position, leaf in recorded:
        if index >= len(leaves) or positions[index] != position or leaves[index] != leaf:
            return Located(index, position, *_head_at(store, position))
    return None
