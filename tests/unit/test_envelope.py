"""The signed envelope: what is stored is what is signed, and any edit shows."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.events import Actor
from ledger.envelope import EnvelopeError, event_body, open_stored, seal, signing_message
from ledger.keys import KeyPair, verify_signature

PAIR = KeyPair.generate()


def a_body(**overrides: object) -> dict[str, object]:
    body = event_body(
        ledger_id="ledger-1",
        aggregate_id=uuid4(),
        aggregate_kind="product",
        version=1,
        event_type="ApheresisCollected",
        payload={"din": "G123498654321", "volume_ml": 250, "note": "sang très visqueux"},
        occurred_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
        recorded_at=datetime(2026, 11, 24, 9, 5, tzinfo=UTC),
        actor=Actor("nurse", "Nina Nurse", "nurse"),
        meaning="performed",
        prev_hash=None,
        key_id=PAIR.key_id,
    )
    body.update(overrides)
    return body


def test_a_sealed_envelope_opens_and_its_signature_verifies() -> None:
    envelope = seal(a_body(), PAIR)
    opened = open_stored(envelope.stored)
    assert opened.envelope.hash == envelope.hash
    assert verify_signature(PAIR.public_key, opened.signature, signing_message(opened.digest))


def test_the_stored_bytes_carry_the_body_hash_and_signature_and_nothing_else() -> None:
    envelope = seal(a_body(), PAIR)
    assert set(envelope.to_json()) == {"body", "hash", "signature"}
    assert envelope.stored.startswith(b'{"body":{"actor":')


@settings(max_examples=200)
@given(st.data())
def test_changing_any_single_stored_byte_is_detected(data: st.DataObject) -> None:
    stored = seal(a_body(), PAIR).stored
    position = data.draw(st.integers(min_value=0, max_value=len(stored) - 1))
    replacement = data.draw(st.integers(min_value=0, max_value=255).filter(lambda b: b != stored[position]))
    tampered = stored[:position] + bytes([replacement]) + stored[position + 1 :]
    try:
        opened = open_stored(tampered)
    except EnvelopeError:
        return
    # Only the signature characters can change and still parse: then the signature must fail.
    assert not verify_signature(PAIR.public_key, opened.signature, signing_message(opened.digest))


def test_a_rehashed_edit_still_fails_the_signature() -> None:
    envelope = seal(a_body(), PAIR)
    forged = seal(a_body(payload={"din": "A999921123456", "volume_ml": 250}), KeyPair.generate())
    spliced = forged.stored.replace(forged.signature.encode(), envelope.signature.encode())
    opened = open_stored(spliced)
    assert not verify_signature(PAIR.public_key, opened.signature, signing_message(opened.digest))


def test_a_record_with_missing_fields_is_undecodable() -> None:
    with pytest.raises(EnvelopeError, match="undecodable"):
        open_stored(b'{"body":{},"hash":"00","signature":""}')


def test_garbage_bytes_are_undecodable() -> None:
    with pytest.raises(EnvelopeError, match="undecodable"):
        open_stored(b"\xff\xfe not json")
