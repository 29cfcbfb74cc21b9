"""Exporting a product bundle: one product's complete signed history, proven inside a signed checkpoint.

A bundle carries the product's stored envelopes, the staff events that register
every signer's key back to the ledger's genesis, an RFC 9162 inclusion proof of
each of those events in a checkpoint, that checkpoint note, and — the checkpoint's
last leaf being the ledger's signed commitment of every aggregate's head — the
proofs that the product's head and each key-history aggregate's head are the last
events the bundle holds. The checkpoint note carries the witnesses' stored cosignature
lines after the ledger's signature (C2SP: cosignatures are note signatures).
``verify_bundle`` needs nothing else — no database, no network — and the format is
documented in docs/bundle-format.md so that anyone can write their own verifier.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from domain.staff import STAFF_EVENT_TYPES
from ledger.bundle_documents import bundle_documents
from ledger.bundle_verify import BUNDLE_FORMAT
from ledger.envelope import open_stored
from ledger.head_map import AggregateHead, HeadMap, entry_hash
from ledger.merkle import inclusion_proof, leaf_hash, root
from ledger.merkle_log import InconsistentLog, checkpoint
from ledger.service import CustodyLedger
from ledger.store import EventStore, StoredRow
from ledger.verifier import stored_bytes
from ledger.witness_submit import cosigned_note

BATCH = 2000


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _log_rows(store: EventStore, count: int) -> Iterator[StoredRow]:
    """The first ``count`` stored rows in log order (the leaves of a tree of that size)."""
    position, seen = 1, 0
    while seen < count and (rows := store.raw_rows(position, BATCH)):
        yield from rows[: count - seen]
        seen += len(rows)
        position = rows[-1].id + 1


def export_bundle(ledger: CustodyLedger, product_id: UUID, *, with_documents: bool = False) -> dict[str, Any]:
    """Sign a fresh checkpoint if needed and bundle the product's proven, complete history.

    The documents its events reference are listed, with their bytes when ``with_documents``
    (ledger/bundle_documents.py).
    """
    return export_bundles(ledger, [product_id], with_documents=with_documents)[0]


def export_bundles(
    ledger: CustodyLedger, aggregate_ids: list[UUID], *, with_documents: bool = False
) -> list[dict[str, Any]]:
    """One bundle per aggregate, all proven in the same checkpoint, the log read once (an audit trail's selection)."""
    made = checkpoint(ledger)
    rows = list(_log_rows(ledger.store, made.size))
    entries = [entry_hash(stored_bytes(row.state)) for row in rows]
    leaves = [leaf_hash(entry) for entry in entries]
    if len(leaves) != made.size or root(leaves) != made.root:
        raise InconsistentLog(f"the stored rows no longer hash to the checkpoint of {made.size}: run `custody verify`")
    heads: dict[str, AggregateHead] = {}
    for row, digest in zip(rows[:-1], entries[:-1], strict=True):
        aggregate = str(UUID(str(row.originator_id)))
        heads[aggregate] = AggregateHead(aggregate, row.originator_version, digest)
    head_map = HeadMap(heads.values())
    commitment = json.loads(stored_bytes(rows[-1].state))["body"]["payload"]
    if commitment.get("map_root") != _b64(head_map.root):
        raise InconsistentLog("the checkpoint's last leaf is not a true commitment of the heads: run `custody verify`")

    def entry(index: int) -> dict[str, Any]:
        return {
            "leaf_index": index,
            "stored": stored_bytes(rows[index].state).decode("utf-8"),
            "proof": [_b64(node) for node in inclusion_proof(leaves, index, made.size)],
        }

    def map_proof(aggregate: str) -> dict[str, Any]:
        index, path = head_map.proof(aggregate)
        return {"index": index, "proof": [_b64(node) for node in path]}

    key_indexes = [index for index, row in enumerate(rows) if row.topic in STAFF_EVENT_TYPES]
    key_aggregates = sorted({str(UUID(str(rows[index].originator_id))) for index in key_indexes})
    key_events = [entry(index) for index in key_indexes]
    note = cosigned_note(ledger.store, made)
    by_aggregate: dict[str, list[int]] = {str(aggregate_id): [] for aggregate_id in aggregate_ids}
    for index, row in enumerate(rows):
        indexes = by_aggregate.get(str(UUID(str(row.originator_id))))
        if indexes is not None:
            indexes.append(index)
    bundles = []
    for product, product_indexes in by_aggregate.items():
        if not product_indexes:
            raise LookupError(f"no events for {product}")
        bundle = {
            "format": BUNDLE_FORMAT,
            "ledger_id": ledger.meta.ledger_id(),
            "product_id": product,
            "checkpoint": note,
            "key_events": key_events,
            "events": [entry(index) for index in product_indexes],
            "heads": {
                "commitment": entry(made.size - 1),
                "proofs": {aggregate: map_proof(aggregate) for aggregate in [product, *key_aggregates]},
            },
        }
        product_events = (open_stored(stored_bytes(rows[index].state)) for index in product_indexes)
        listed = bundle_documents(ledger.documents, product_events, with_content=with_documents)
        if listed:
            bundle["documents"] = listed
        bundles.append(bundle)
    return bundles
