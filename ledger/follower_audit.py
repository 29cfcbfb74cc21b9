"""What the Merkle follower's own tables say, compared with the tree rebuilt from the stored rows.

The verifier never trusts these tables (a DBA can edit them); but they remember where each
leaf came from, so when rows disappear they locate the deletion — the leaf, its log
position and, when the heads table still has it, the aggregate and version — and when the
table itself was edited they name the first leaf that disagrees with the rows.
"""

from __future__ import annotations

from collections import deque
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


class FollowerComparison:
    """``first_disagreement`` as the rows stream past: the follower's table is read a window at a time.

    The verifier hands over each rebuilt leaf in order and never keeps them; the recorded
    leaves of the window being compared (``window`` of them) are the only ones held. A
    recorded index below 0 or at or beyond the rebuilt tree's size disagrees as well.
    """

    def __init__(self, store: Any, window: int = 2000) -> None:
        self.store = store
        self.window = window
        self.found: Located | None = None
        self.owner: tuple[str, int] | None = None
        self._recorded: deque[tuple[int, int, bytes]] = deque()
        self._fetched_to = 0
        first = self._read("leaf_index < %s", 0)
        if first:
            self._locate(*first[0])

    def compare(self, index: int, position: int, leaf: bytes, owner: tuple[str, int]) -> None:
        """The rebuilt leaf at ``index``: the row at log ``position``, of aggregate and version ``owner``."""
        if self.found is not None:
            return
        if index >= self._fetched_to:
            self._recorded.extend(self._read("leaf_index >= %s AND leaf_index < %s", index, index + self.window))
            self._fetched_to = index + self.window
        recorded = self._recorded
        if recorded and recorded[0][0] == index:
            _, recorded_position, recorded_leaf = recorded.popleft()
            if recorded_position != position or recorded_leaf != leaf:
                self._locate(index, recorded_position)
                if recorded_position == position:
                    self.owner = owner

    def finish(self, size: int) -> Located | None:
        """The first disagreement, once the rebuilt tree has ``size`` leaves."""
        if self.found is None:
            beyond = self._read("leaf_index >= %s", size)
            if beyond:
                self._locate(*beyond[0][:2])
        return self.found

    def _locate(self, index: int, position: int, *_: Any) -> None:
        self.found = Located(index, position, *_head_at(self.store, position))

    def _read(self, where: str, *bounds: int) -> list[tuple[int, int, bytes]]:
        with self.store.side_transaction() as cursor:
            cursor.execute(
                f"SELECT leaf_index, position, leaf_hash FROM merkle_leaves WHERE {where} ORDER BY leaf_index LIMIT %s",
                (*bounds, self.window),
            )
            return [(int(r["leaf_index"]), int(r["position"]), bytes(r["leaf_hash"])) for r in cursor.fetchall()]
