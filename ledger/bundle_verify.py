"""Checking a product bundle offline: no database, no network, only the bytes and the trusted key.

The steps, in the order docs/bundle-format.md gives them: read the bundle strictly;
parse the checkpoint note; prove every entry's inclusion in it (RFC 9162); open each
envelope (canonical bytes, hash); rebuild the key history from the key events back to
the genesis, in leaf order (the leaf index is authenticated by the proof: nothing
unsigned decides which came first); check the checkpoint's signature with a ledger
key valid at its size; check each product event's signature, ledger, version sequence
and chain link; then completeness (ledger/bundle_heads.py); the documents listed against
the references the signed events hold, and any included file against its hash
(ledger/bundle_documents.py); last, when the verifier
asks for one, the witness quorum on the checkpoint's cosignature lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.bundle_documents import document_problems
from ledger.bundle_entry import Proven, prove_entry
from ledger.bundle_heads import completeness_problems
from ledger.bundle_parse import BUNDLE_FORMAT, BundleError, check_top_level
from ledger.key_history import build_key_history
from ledger.ledger_meta import LEDGER_USER
from ledger.signed_note import NoteError, parse_checkpoint, verify_note
from ledger.witness_quorum import QUORUM_RULE, Quorum

__all__ = ["BUNDLE_FORMAT", "verify_bundle"]


def verify_bundle(bundle: Mapping[str, Any], trusted: set[bytes] | None, quorum: Quorum | None = None) -> list[str]:
    """Every reason the bundle cannot be trusted (empty when it verifies); ``quorum``: the cosignatures required."""
    try:
        check_top_level(dict(bundle))
        cp = parse_checkpoint(str(bundle["checkpoint"]))
        ledger_id, product_id = str(bundle["ledger_id"]), str(bundle["product_id"])
        key_entries, event_entries = list(bundle["key_events"]), list(bundle["events"])
    except BundleError as error:
        return [str(error)]
    except (KeyError, TypeError, NoteError) as error:
        return [f"malformed bundle: {error}"]
    problems: list[str] = []
    if cp.origin != f"custody-ledger/{ledger_id}":
        problems.append(f"the checkpoint is for {cp.origin}, not ledger {ledger_id}")
    keys_proven: list[Proven] = []
    for number, entry in enumerate(key_entries, start=1):
        proven = prove_entry(entry, cp.size, cp.root, f"key event {number}", problems)
        if proven is None:
            continue
        if keys_proven and proven[0] <= keys_proven[-1][0]:
            problems.append(f"key event {number}: key events must be in log (leaf index) order")
            continue
        keys_proven.append(proven)
    history = build_key_history([(index, opened) for index, _, opened in keys_proven], trusted)
    problems += [f"key history at leaf {pos}: {reason}: {detail}" for pos, _, reason, detail in history.problems]
    genesis = next((key.registered_position for key in history.keys.values() if key.genesis), None)
    for index, _, opened in keys_proven:
        if opened.envelope.body["ledger_id"] != ledger_id:
            problems.append(f"key event at leaf {index}: signed for another ledger")
        # The ledger registers itself before its key exists: those first events are signed by the genesis key.
        problem = history.check(opened, index) if genesis is not None and index < genesis else None
        if problem:
            problems.append(f"key event at leaf {index}: {problem[0]}: {problem[1]}")
    if not verify_note(cp.note, cp.origin, history.checkpoint_signers(LEDGER_USER, cp.size)):
        problems.append(f"the checkpoint is not signed by a ledger key valid at its size ({cp.size})")
    events: list[Proven] = []
    previous: str | None = None
    for expected_version, entry in enumerate(event_entries, start=1):
        label = f"event {expected_version}"
        proven = prove_entry(entry, cp.size, cp.root, label, problems)
        if proven is None:
            previous = None
            continue
        index, _, opened = proven
        body = opened.envelope.body
        if body["aggregate_id"] != product_id or body["version"] != expected_version:
            problems.append(f"{label}: signed for {body['aggregate_id']} v{body['version']}, not this product")
        if body["ledger_id"] != ledger_id:
            problems.append(f"{label}: signed for another ledger ({body['ledger_id']})")
        if body["prev_hash"] != previous:
            problems.append(f"{label}: does not link to the previous event (broken chain)")
        problem = history.check(opened, index)
        if problem:
            problems.append(f"{label}: {problem[0]}: {problem[1]}")
        previous = opened.envelope.hash
        events.append(proven)
    if not event_entries:
        problems.append("the bundle holds no event of the product")
    problems += completeness_problems(bundle["heads"], cp, ledger_id, product_id, events, keys_proven, history)
    problems += document_problems(bundle.get("documents"), (opened for _, _, opened in events))
    missing = quorum.problem(cp.note, cp.size) if quorum is not None else None
    if missing is not None:
        problems.append(f"{QUORUM_RULE}: {missing}")
    return problems
