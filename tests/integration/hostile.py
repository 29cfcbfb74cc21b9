"""Hostile stored events: signed with a real key and appended below the domain's input checks.

An older version, or an insider holding a key, could have stored any of these;
the read side must survive them. ``forge`` (journeys) seals a body the ordinary
way (a NUL or a wrong payload shape is canonical JSON like any other);
``forge_bytes`` edits the canonical body bytes before hashing and signing, for
what the canonicaliser would never write: a lone surrogate (the JSON escape
``\\ud800``) or bytes that are not UTF-8 at all. Either way the hash and the
signature match the stored bytes.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from uuid import UUID

from ledger.canonical import canonical_json
from ledger.envelope import Envelope, event_body, signing_message
from ledger.service import CustodyLedger
from tests.integration.journeys import Journey, Recorder, actor_of, forge, key_pair_of, released_and_stored

PLACEHOLDER = "@@hostile@@"
LONE_SURROGATE = b"\\ud800"
NOT_UTF8 = b"\xff\xfe"


def signed(
    ledger: CustodyLedger, product: UUID, event_type: str, payload: Mapping[str, Any], user: str = "nurse"
) -> int:
    """Seal and append an event the ordinary way, below the domain's checks; its log position."""
    meaning = "authored" if event_type == "AnnotationAdded" else "recorded"
    _, position = forge(
        ledger,
        product,
        event_type,
        payload,
        actor=actor_of(ledger, user),
        signer=key_pair_of(ledger, user),
        meaning=meaning,
    )
    return position


def forge_bytes(
    ledger: CustodyLedger,
    aggregate_id: UUID,
    event_type: str,
    payload: Mapping[str, Any],
    replacement: bytes,
    *,
    user: str = "nurse",
    meaning: str = "authored",
) -> int:
    """Sign body bytes in which ``PLACEHOLDER`` is replaced by raw ``replacement`` bytes; the log position."""
    history = ledger.history(aggregate_id)
    signer = key_pair_of(ledger, user)
    now = ledger.clock.now()
    body = event_body(
        ledger_id=ledger.meta.ledger_id(),
        aggregate_id=aggregate_id,
        aggregate_kind="product",
        version=(history[-1].version if history else 0) + 1,
        event_type=event_type,
        payload=payload,
        occurred_at=now,
        recorded_at=now,
        actor=actor_of(ledger, user),
        meaning=meaning,
        prev_hash=history[-1].hash if history else None,
        key_id=signer.key_id,
    )
    body_bytes = canonical_json(body).replace(PLACEHOLDER.encode(), replacement)
    digest = hashlib.sha256(body_bytes).digest()
    signature = base64.b64encode(signer.sign(signing_message(digest))).decode()
    stored = b'{"body":%s,"hash":"%s","signature":"%s"}' % (body_bytes, digest.hex().encode(), signature.encode())
    envelope = Envelope(body=body, hash=digest.hex(), signature=signature, stored=stored)
    [position] = ledger.store.append([envelope])
    return position


def stored_product(rec: Recorder) -> Journey:
    """A CAR-T product released and stored in LN2 at the pharmacy (in the inventory), recorded normally."""
    return released_and_stored(rec, rec.ledger.clock.now() - timedelta(days=60))
