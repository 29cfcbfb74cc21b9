"""Exporting a product bundle: one product's signed history, proven inside a signed checkpoint.

A bundle carries the product's stored envelopes, the staff events that register
every signer's key back to the ledger's genesis, an RFC 9162 inclusion proof of
each of those events in a checkpoint, and that checkpoint note. ``verify_bundle``
needs nothing else — no database, no network — and the format is documented in
docs/bundle-format.md so that anyone can write their own verifier.
"""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from domain.staff import STAFF_EVENT_TYPES
from ledger.bundle_verify import BUNDLE_FORMAT
from ledger.merkle import inclusion_proof
from ledger.merkle_log import MerkleFollower, checkpoint, stored_leaves
from ledger.service import CustodyLedger


def _entry(row_id: int, state: bytes, leaf_index: int, leaves: list[bytes], size: int) -> dict[str, Any]:
    return {
        "position": row_id,
        "leaf_index": leaf_index,
        "stored": state.decode("utf-8"),
        "proof": [base64.b64encode(node).decode() for node in inclusion_proof(leaves, leaf_index, size)],
    }


def export_bundle(ledger: CustodyLedger, product_id: UUID) -> dict[str, Any]:
    """Sign a fresh checkpoint if needed and bundle the product's proven history."""
    made = checkpoint(ledger)
    MerkleFollower(ledger.store).catch_up()
    leaves = stored_leaves(ledger.store)[: made.size]
    with ledger.store.side_transaction() as cursor:
        cursor.execute("SELECT position, leaf_index FROM merkle_leaves WHERE leaf_index < %s", (made.size,))
        index_of = {int(row["position"]): int(row["leaf_index"]) for row in cursor.fetchall()}
    product_rows = [row for row in ledger.store.stored_history(product_id)]
    if not product_rows:
        raise LookupError(f"no events for {product_id}")
    staff = [row for row in ledger.store.scan(topics=STAFF_EVENT_TYPES) if row.id in index_of]
    positions = {(str(row.originator_id), row.originator_version): row.id for row in ledger.store.scan()}

    def position_of(row: Any) -> int:
        return positions[(str(row.originator_id), row.originator_version)]

    return {
        "format": BUNDLE_FORMAT,
        "ledger_id": ledger.meta.ledger_id(),
        "product_id": str(product_id),
        "checkpoint": made.note,
        "key_events": [_entry(row.id, bytes(row.state), index_of[row.id], leaves, made.size) for row in staff],
        "events": [
            _entry(position_of(row), bytes(row.state), index_of[position_of(row)], leaves, made.size)
            for row in product_rows
            if position_of(row) in index_of
        ],
    }
