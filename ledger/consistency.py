"""Consistency proofs from any earlier tree size: how an auditor learns the log only grew.

An auditor who kept a checkpoint of size m asks for PROOF(m, D[n]) (RFC 9162 §2.1.4)
up to the latest signed checkpoint (or any size n the log holds) and checks it with
the two roots it trusts: its own old checkpoint's and the new signed one's. The CLI
(`custody proof`) and the HTTP API (`GET /log/consistency`) answer with the same
object, built here, and refuse the same bad sizes with the same rules.
"""

from __future__ import annotations

import base64
from typing import Any

from domain.errors import InvalidInput
from ledger.merkle_log import MerkleFollower
from ledger.merkle_tree import StoredTree
from ledger.store import EventStore
from ledger.verifier import stored_checkpoints


def tree_size_field(text: str | int | None, field: str) -> int | None:
    """A tree size people type: a positive decimal integer (None when not given)."""
    if text is None:
        return None
    value = str(text).strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18 or int(value) < 1:
        raise InvalidInput(
            f"{field} is a tree size: a whole number of at least 1, not {value[:40]!r}",
            field=field,
            rule="invalid_tree_size",
        )
    return int(value)


def consistency_answer(store: EventStore, old: str | int | None, new: str | int | None = None) -> dict[str, Any]:
    """PROOF(from, D[to]) with both roots, and the signed checkpoints at either size when the ledger signed one.

    ``to`` defaults to the latest signed checkpoint's size: the proof then links what the
    auditor kept to the newest tree the ledger vouched for.
    """
    old_size = tree_size_field(old, "from")
    if old_size is None:
        raise InvalidInput(
            "from is required: the size of the tree you already trust", field="from", rule="invalid_tree_size"
        )
    history = stored_checkpoints(store)
    new_size = tree_size_field(new, "to")
    if new_size is None:
        if not history:
            raise InvalidInput(
                "to is required: the ledger has signed no checkpoint yet", field="to", rule="no_checkpoint"
            )
        new_size = history[-1].size
    if old_size > new_size:
        raise InvalidInput(
            f"from ({old_size}) is larger than to ({new_size}): a log only grows",
            field="from",
            rule="invalid_tree_size",
        )
    MerkleFollower(store).catch_up()
    with store.side_transaction() as cursor:
        tree = StoredTree(cursor)
        held = tree.size()
        if new_size > held:
            raise InvalidInput(
                f"to ({new_size}) is beyond the log, which holds {held} events", field="to", rule="beyond_log"
            )
        old_root, new_root = tree.root(old_size), tree.root(new_size)
        proof = tree.consistency(old_size, new_size)
    signed = {cp.size: cp.note for cp in history}
    return {
        "from": old_size,
        "to": new_size,
        "from_root": base64.b64encode(old_root).decode(),
        "to_root": base64.b64encode(new_root).decode(),
        "proof": [base64.b64encode(node).decode() for node in proof],
        "from_checkpoint": signed.get(old_size),
        "to_checkpoint": signed.get(new_size),
    }
