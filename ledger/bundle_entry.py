"""One bundle entry — a stored event and its inclusion proof — checked against a checkpoint.

The leaf index an entry gives is authenticated by its proof (RFC 9162 binds the path to
the index and the tree size), which is why verifiers order events by it and nothing else.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from ledger.envelope import EnvelopeError, Opened, open_stored
from ledger.merkle import event_leaf, verify_inclusion

ENTRY_KEYS = frozenset({"leaf_index", "stored", "proof"})

Proven = tuple[int, bytes, Opened]
"""An entry whose inclusion was proven: its leaf index, stored bytes and opened envelope."""


def prove_entry(entry: Any, size: int, root: bytes, label: str, problems: list[str]) -> Proven | None:
    """The proven entry, or None with the reason added to ``problems``."""
    try:
        if not isinstance(entry, Mapping) or set(entry) != ENTRY_KEYS:
            raise ValueError("an entry has exactly leaf_index, stored and proof")
        stored, index = entry["stored"], entry["leaf_index"]
        if not isinstance(stored, str) or not isinstance(index, int) or isinstance(index, bool):
            raise ValueError("stored is a string and leaf_index an integer")
        proof = [base64.b64decode(node, validate=True) for node in entry["proof"]]
    except (TypeError, ValueError, binascii.Error) as error:
        problems.append(f"{label}: malformed entry ({error})")
        return None
    raw = stored.encode("utf-8")
    if not verify_inclusion(event_leaf(raw), index, size, proof, root):
        problems.append(f"{label}: its inclusion proof does not lead to the checkpoint's root")
        return None
    try:
        return index, raw, open_stored(raw, strict=True)
    except EnvelopeError as error:
        problems.append(f"{label}: {error}")
        return None
