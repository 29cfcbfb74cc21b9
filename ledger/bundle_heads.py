"""Completeness of a bundle: it holds every event of its product and of each key history, up to its checkpoint.

Inclusion proofs show that what a bundle holds is in the signed log, not that nothing
was left out. The checkpoint's last leaf is the ledger's signed commitment of every
aggregate's head; a proof that the bundle's last event of an aggregate is that head
shows that no later event of it exists in the checkpoint — dropping a product's last
events, or a SigningKeyRevoked from the key history, is then caught.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from domain.log_heads import HEADS_AGGREGATE_ID, HEADS_EVENT_TYPES
from ledger.bundle_entry import Proven, prove_entry
from ledger.head_map import AggregateHead, entry_hash, verify_head
from ledger.key_history import KeyHistory
from ledger.ledger_meta import LEDGER_USER
from ledger.signed_note import Checkpoint


def _commitment(
    heads: Mapping[str, Any], cp: Checkpoint, ledger_id: str, history: KeyHistory, problems: list[str]
) -> tuple[int, int, bytes] | None:
    """The commitment's (tree size, map size, map root), once it is proven to be the ledger's at the right leaf."""
    proven = prove_entry(heads["commitment"], cp.size, cp.root, "heads commitment", problems)
    if proven is None:
        return None
    index, _, opened = proven
    body = opened.envelope.body
    before = len(problems)
    if index != cp.size - 1:
        problems.append(f"heads commitment: at leaf {index}, not the checkpoint's last leaf ({cp.size - 1})")
    if body["type"] not in HEADS_EVENT_TYPES or body["aggregate_id"] != str(HEADS_AGGREGATE_ID):
        problems.append(f"heads commitment: a {body['type']} event, not the ledger's commitment of heads")
    if body["actor"]["user_id"] != LEDGER_USER or body["ledger_id"] != ledger_id:
        problems.append("heads commitment: not signed by this ledger itself")
    problem = history.check(opened, index)
    if problem:
        problems.append(f"heads commitment: {problem[0]}: {problem[1]}")
    payload = body["payload"]
    try:
        map_root = base64.b64decode(str(payload["map_root"]), validate=True)
        tree_size, aggregates = payload["tree_size"], payload["aggregates"]
        if len(map_root) != 32 or not isinstance(aggregates, int) or tree_size != index:
            raise ValueError(f"tree_size {tree_size!r} for leaf {index}, or a bad map root or size")
    except (KeyError, ValueError, binascii.Error) as error:
        problems.append(f"heads commitment: malformed ({error})")
    if len(problems) > before:
        return None
    return tree_size, aggregates, map_root


def _chain_problems(aggregate: str, chain: Sequence[Proven]) -> list[str]:
    """Versions 1, 2, 3… linked by prev_hash (the product's own chain is checked event by event)."""
    problems = []
    previous: str | None = None
    for expected, (_, _, opened) in enumerate(chain, start=1):
        envelope = opened.envelope
        if envelope.version != expected or envelope.body["prev_hash"] != previous:
            problems.append(f"key history of {aggregate}: version {expected} is missing or does not link")
            break
        previous = envelope.hash
    return problems


def completeness_problems(
    heads: Any,
    cp: Checkpoint,
    ledger_id: str,
    product_id: str,
    events: Sequence[Proven],
    key_events: Sequence[Proven],
    history: KeyHistory,
) -> list[str]:
    """Why the bundle may not hold the whole history of its product or of a key history (empty when it does)."""
    if not isinstance(heads, Mapping) or set(heads) != {"commitment", "proofs"}:
        return ["heads: malformed (an object with commitment and proofs)"]
    proofs = heads["proofs"]
    if not isinstance(proofs, Mapping):
        return ["heads: malformed proofs (an object keyed by aggregate id)"]
    problems: list[str] = []
    committed = _commitment(heads, cp, ledger_id, history, problems)
    if committed is None:
        return problems
    tree_size, map_size, map_root = committed
    chains: dict[str, list[Proven]] = {product_id: list(events)}
    for proven in key_events:
        chains.setdefault(str(proven[2].envelope.aggregate_id), []).append(proven)
    for aggregate, chain in chains.items():
        if aggregate != product_id:
            problems += _chain_problems(aggregate, chain)
        if not chain:
            continue
        _, raw, opened = chain[-1]
        head = AggregateHead(aggregate, opened.envelope.version, entry_hash(raw))
        label = "the product" if aggregate == product_id else f"key history {aggregate}"
        try:
            proof = proofs[aggregate]
            index, path = proof["index"], [base64.b64decode(node, validate=True) for node in proof["proof"]]
            if not isinstance(index, int) or set(proof) != {"index", "proof"}:
                raise ValueError("a head proof has exactly index and proof")
        except (KeyError, TypeError, ValueError, binascii.Error) as error:
            problems.append(f"{label}: no readable head proof ({error})")
            continue
        if not verify_head(head, index, map_size, path, map_root):
            problems.append(
                f"{label}: its last event in the bundle (version {head.version}) is not the head the ledger "
                f"committed at log size {tree_size}: the bundle is incomplete"
            )
    return problems
