"""Checking a product bundle offline: no database, no network, only the bytes and the trusted key.

The steps, in the order docs/bundle-format.md gives them: parse the checkpoint note;
prove every entry's inclusion in it (RFC 9162); open each envelope (canonical bytes,
hash); rebuild the key history from the key events back to the genesis; check the
checkpoint's signature with a ledger key from that history; check each product event's
signature, ledger, version sequence and chain link.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from ledger.envelope import EnvelopeError, Opened, open_stored
from ledger.key_history import build_key_history
from ledger.ledger_meta import LEDGER_USER
from ledger.merkle import event_leaf, verify_inclusion
from ledger.signed_note import NoteError, parse_checkpoint, verify_note

BUNDLE_FORMAT = "custody-ledger/bundle/v1"


def _proven(entry: Mapping[str, Any], size: int, root: bytes, label: str, problems: list[str]) -> Opened | None:
    try:
        stored = str(entry["stored"]).encode("utf-8")
        proof = [base64.b64decode(node, validate=True) for node in entry["proof"]]
        index = int(entry["leaf_index"])
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        problems.append(f"{label}: malformed entry ({error})")
        return None
    if not verify_inclusion(event_leaf(stored), index, size, proof, root):
        problems.append(f"{label}: its inclusion proof does not lead to the checkpoint's root")
        return None
    try:
        return open_stored(stored, strict=True)
    except EnvelopeError as error:
        problems.append(f"{label}: {error}")
        return None


def verify_bundle(bundle: Mapping[str, Any], trusted: set[bytes] | None) -> list[str]:
    """Every reason the bundle cannot be trusted (empty when it verifies)."""
    if bundle.get("format") != BUNDLE_FORMAT:
        return [f"unknown bundle format {bundle.get('format')!r} (this verifier reads {BUNDLE_FORMAT})"]
    problems: list[str] = []
    try:
        cp = parse_checkpoint(str(bundle["checkpoint"]))
        ledger_id, product_id = str(bundle["ledger_id"]), str(bundle["product_id"])
        key_entries, event_entries = list(bundle["key_events"]), list(bundle["events"])
    except (KeyError, TypeError, NoteError) as error:
        return [f"malformed bundle: {error}"]
    if cp.origin != f"custody-ledger/{ledger_id}":
        problems.append(f"the checkpoint is for {cp.origin}, not ledger {ledger_id}")
    keys_opened = []
    for entry in key_entries:
        opened = _proven(entry, cp.size, cp.root, f"key event at position {entry.get('position')}", problems)
        if opened is not None:
            keys_opened.append((int(entry["position"]), opened))
    history = build_key_history(keys_opened, trusted)
    problems += [f"key history at position {pos}: {reason}: {detail}" for pos, _, reason, detail in history.problems]
    ledger_keys = [key.public_key for key in history.keys.values() if key.owner == LEDGER_USER]
    if not verify_note(cp.note, cp.origin, ledger_keys):
        problems.append("the checkpoint is not signed by the ledger's key")
    previous: str | None = None
    for expected_version, entry in enumerate(event_entries, start=1):
        label = f"event {expected_version}"
        opened = _proven(entry, cp.size, cp.root, label, problems)
        if opened is None:
            previous = None
            continue
        body = opened.envelope.body
        if body["aggregate_id"] != product_id or body["version"] != expected_version:
            problems.append(f"{label}: signed for {body['aggregate_id']} v{body['version']}, not this product")
        if body["ledger_id"] != ledger_id:
            problems.append(f"{label}: signed for another ledger ({body['ledger_id']})")
        if body["prev_hash"] != previous:
            problems.append(f"{label}: does not link to the previous event (broken chain)")
        problem = history.check(opened, int(entry["position"]))
        if problem:
            problems.append(f"{label}: {problem[0]}: {problem[1]}")
        previous = opened.envelope.hash
    if not event_entries:
        problems.append("the bundle holds no event of the product")
    return problems
