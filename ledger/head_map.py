"""The map from aggregate id to head that the ledger commits into its own log at each checkpoint.

A sorted RFC 9162 Merkle tree over one leaf per aggregate:
``SHA-256(0x00 ‖ aggregate id ‖ version ‖ entry hash)`` with the id as its 36 ASCII
characters (lower-case, dashed), the version as 8 bytes big-endian and the entry hash
the 32-byte SHA-256 of the head's stored bytes. Sorted by id, so the map of a set of
heads has one root whatever order they were read in, and an inclusion proof names one
aggregate's head. The same file is used by the ledger (to commit), by the exporter (to
prove) and by the verifiers (to check), and docs/bundle-format.md describes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.merkle import inclusion_proof, leaf_hash, root, verify_inclusion


@dataclass(frozen=True)
class AggregateHead:
    """One aggregate's last version and the SHA-256 of that stored event."""

    aggregate_id: str
    version: int
    entry_hash: bytes


def entry_hash(stored: bytes) -> bytes:
    """What a head commits to: the SHA-256 of the event's stored bytes (signature included)."""
    return hashlib.sha256(stored).digest()


def head_leaf(head: AggregateHead) -> bytes:
    """The map leaf of one head."""
    data = head.aggregate_id.encode("ascii") + head.version.to_bytes(8, "big") + head.entry_hash
    return leaf_hash(data)


class HeadMap:
    """Every head, sorted by aggregate id: its root, and a proof for any aggregate in it."""

    def __init__(self, heads: Iterable[AggregateHead]) -> None:
        self.heads = sorted(heads, key=lambda head: head.aggregate_id)
        self.leaves = [head_leaf(head) for head in self.heads]
        self._index = {head.aggregate_id: index for index, head in enumerate(self.heads)}

    @property
    def root(self) -> bytes:
        """The map root the ledger signs into its log."""
        return root(self.leaves)

    def __len__(self) -> int:
        return len(self.heads)

    def proof(self, aggregate_id: str) -> tuple[int, list[bytes]]:
        """The leaf index and inclusion path of an aggregate's head; ``KeyError`` when it has none."""
        index = self._index[aggregate_id]
        return index, inclusion_proof(self.leaves, index, len(self.leaves))


def verify_head(head: AggregateHead, index: int, size: int, proof: list[bytes], map_root: bytes) -> bool:
    """True when ``proof`` shows that ``head`` is the committed head of its aggregate."""
    return verify_inclusion(head_leaf(head), index, size, proof, map_root)
