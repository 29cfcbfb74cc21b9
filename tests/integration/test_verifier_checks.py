"""Verifier checks that only an insider holding a valid key could defeat, each proved to bite.

Every forgery here is hashed and signed correctly with a key the ledger registered, and
chained to the aggregate's head, so only the one check under test can notice it: an event
signed for another ledger, an event stored after its key's revocation but dated as if
before it, and a body whose bytes hash and sign but are not the RFC 8785 form. Each case
also runs the honest counterpart, which must stay intact.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.staff import staff_id_for
from ledger.envelope import Envelope, event_body, seal, signing_message
from ledger.keys import KeyPair
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import revoke_key, rotate_ledger_key
from ledger.verifier import VerificationReport, VerifyOptions, verify_aggregate, verify_store
from tests.integration.journeys import (
    Journey,
    actor_of,
    dba,
    enrolled,
    failures,
    key_pair_of,
    team,
    verify,
)


@pytest.fixture
def journey(ledger: CustodyLedger) -> Journey:
    """One product enrolled by the physician, with the nurse registered too."""
    rec = team(ledger, ("nurse", "physician"))
    return enrolled(rec, ledger.clock.now() - timedelta(days=2))


def _body(
    ledger: CustodyLedger,
    aggregate_id: UUID,
    signer: KeyPair,
    username: str,
    *,
    recorded_at: datetime | None = None,
    ledger_id: str | None = None,
) -> dict[str, Any]:
    """An annotation by ``username``, chained to the head of the aggregate, as its key holder could sign it."""
    head = ledger.history(aggregate_id)[-1]
    now = ledger.clock.now()
    return event_body(
        ledger_id=ledger.meta.ledger_id() if ledger_id is None else ledger_id,
        aggregate_id=aggregate_id,
        aggregate_kind="product",
        version=head.version + 1,
        event_type="AnnotationAdded",
        payload={"text": "written below the domain"},
        occurred_at=now if recorded_at is None else recorded_at,
        recorded_at=now if recorded_at is None else recorded_at,
        actor=actor_of(ledger, username),
        meaning="authored",
        prev_hash=head.hash,
        key_id=signer.key_id,
    )


def _append(ledger: CustodyLedger, envelope: Envelope) -> int:
    [position] = ledger.store.append([envelope])
    return position


def _verify_aggregate(ledger: CustodyLedger, aggregate_id: UUID) -> set[str]:
    """The reasons a product page's badge would show."""
    trusted = {ledger.meta.ledger_key_pair().public_key}
    return {f.reason for f in verify_aggregate(ledger.store, aggregate_id, trusted, ledger.meta.ledger_id())}


# -- foreign_ledger ----------------------------------------------------------------------------------


def test_an_event_signed_for_another_ledger_is_a_foreign_ledger_event(ledger: CustodyLedger, journey: Journey) -> None:
    nurse = key_pair_of(ledger, "nurse")
    other_ledger = str(uuid4())
    forged = seal(_body(ledger, journey.product, nurse, "nurse", ledger_id=other_ledger), nurse)
    position = _append(ledger, forged)
    report = verify(ledger)
    assert failures(report) == {("foreign_ledger", str(journey.product), forged.version, position)}
    [failure] = report.failures
    assert other_ledger in failure.detail and ledger.meta.ledger_id() in failure.detail
    assert _verify_aggregate(ledger, journey.product) == {"foreign_ledger"}


def test_the_same_event_signed_for_this_ledger_verifies(ledger: CustodyLedger, journey: Journey) -> None:
    nurse = key_pair_of(ledger, "nurse")
    _append(ledger, seal(_body(ledger, journey.product, nurse, "nurse"), nurse))
    assert verify(ledger).intact
    assert _verify_aggregate(ledger, journey.product) == set()


# -- revocation by log position ----------------------------------------------------------------------


def _revoke_nurse(ledger: CustodyLedger, settings: Settings) -> tuple[datetime, int]:
    """Revoke the nurse's key; return the revocation's recorded time and log position."""
    [revocation] = revoke_key(ledger, "nurse", "left the unit", by="ledger")
    with dba(settings) as db:
        position = db.row(staff_id_for("nurse"), revocation.version).position
    return revocation.recorded_at, position


def test_an_event_stored_after_its_keys_revocation_but_dated_at_that_moment_is_a_revoked_key(
    ledger: CustodyLedger, settings: Settings, journey: Journey
) -> None:
    nurse = key_pair_of(ledger, "nurse")
    revoked_at, revocation_position = _revoke_nurse(ledger, settings)
    backdated = seal(_body(ledger, journey.product, nurse, "nurse", recorded_at=revoked_at), nurse)
    position = _append(ledger, backdated)
    assert position > revocation_position
    assert backdated.recorded_at == revoked_at  # the time check alone would let it through
    assert failures(verify(ledger)) == {("revoked_key", str(journey.product), backdated.version, position)}
    assert _verify_aggregate(ledger, journey.product) == {"revoked_key"}


def test_an_event_dated_before_the_revocation_is_still_revoked_when_stored_after_it(
    ledger: CustodyLedger, settings: Settings, journey: Journey
) -> None:
    nurse = key_pair_of(ledger, "nurse")
    valid_from = ledger.history(staff_id_for("nurse"))[-1].recorded_at
    _revoke_nurse(ledger, settings)
    backdated = seal(_body(ledger, journey.product, nurse, "nurse", recorded_at=valid_from), nurse)
    position = _append(ledger, backdated)
    assert failures(verify(ledger)) == {("revoked_key", str(journey.product), backdated.version, position)}


def test_events_signed_before_the_revocation_stay_valid(
    ledger: CustodyLedger, settings: Settings, journey: Journey
) -> None:
    nurse = key_pair_of(ledger, "nurse")
    before = seal(_body(ledger, journey.product, nurse, "nurse"), nurse)
    before_position = _append(ledger, before)
    _, revocation_position = _revoke_nurse(ledger, settings)
    assert before_position < revocation_position
    report = verify(ledger)
    assert report.intact, report.failures
    assert _verify_aggregate(ledger, journey.product) == set()


def test_the_ledger_key_signing_its_own_revocation_is_not_a_revoked_key(ledger: CustodyLedger) -> None:
    old = ledger.meta.ledger_key_pair()
    rotate_ledger_key(ledger)
    revocations = [e for e in ledger.history(staff_id_for("ledger")) if e.type == "SigningKeyRevoked"]
    assert [e.key_id for e in revocations] == [old.key_id]
    report = verify_store(
        ledger.store, VerifyOptions(trusted={old.public_key}, ledger_id=ledger.meta.ledger_id(), strict=True)
    )
    assert report.intact, report.failures


# -- strict canonical form ---------------------------------------------------------------------------


def _sealed_unsorted(body: Mapping[str, Any], signer: KeyPair) -> Envelope:
    """Hash and sign the body's bytes with its keys left in insertion order: valid, but not RFC 8785."""
    body_bytes = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    digest = hashlib.sha256(body_bytes).digest()
    signature = signer.sign(signing_message(digest))
    signature_b64 = base64.b64encode(signature).decode()
    stored = b'{"body":%s,"hash":"%s","signature":"%s"}' % (body_bytes, digest.hex().encode(), signature_b64.encode())
    return Envelope(body=body, hash=digest.hex(), signature=signature_b64, stored=stored)


def _strict(ledger: CustodyLedger, strict: bool) -> VerificationReport:
    options = VerifyOptions(
        trusted={ledger.meta.ledger_key_pair().public_key}, ledger_id=ledger.meta.ledger_id(), strict=strict
    )
    return verify_store(ledger.store, options)


def test_a_body_that_hashes_and_signs_but_is_not_canonical_fails_only_the_strict_check(
    ledger: CustodyLedger, journey: Journey
) -> None:
    nurse = key_pair_of(ledger, "nurse")
    body = _body(ledger, journey.product, nurse, "nurse")
    forged = _sealed_unsorted(body, nurse)
    assert forged.stored != seal(body, nurse).stored and not forged.stored.startswith(b'{"body":{"actor"')
    position = _append(ledger, forged)
    assert _strict(ledger, strict=False).intact
    report = _strict(ledger, strict=True)
    assert failures(report) == {("edited_record", str(journey.product), forged.version, position)}
    assert "canonical" in report.failures[0].detail
    assert _verify_aggregate(ledger, journey.product) == {"edited_record"}


def test_a_canonical_body_passes_the_strict_check(ledger: CustodyLedger, journey: Journey) -> None:
    nurse = key_pair_of(ledger, "nurse")
    _append(ledger, seal(_body(ledger, journey.product, nurse, "nurse"), nurse))
    report = _strict(ledger, strict=True)
    assert report.intact, report.failures


# -- a product's badge trusts only the given ledger key ----------------------------------------------


def test_a_products_badge_checked_against_another_ledgers_key_trusts_none_of_its_signatures(
    ledger: CustodyLedger, journey: Journey
) -> None:
    someone_else = {KeyPair.generate().public_key}
    found = verify_aggregate(ledger.store, journey.product, someone_else, ledger.meta.ledger_id())
    product_versions = [e.version for e in ledger.history(journey.product)]
    assert sorted(f.version for f in found if f.reason == "unknown_key") == product_versions
    assert _verify_aggregate(ledger, journey.product) == set()


# -- the key history: who may register people and keys, and when a key starts ------------------------


def _staff_event(
    ledger: CustodyLedger,
    aggregate_id: UUID,
    event_type: str,
    payload: Mapping[str, Any],
    username: str,
    signer: KeyPair,
    *,
    recorded_at: datetime | None = None,
) -> tuple[Envelope, int]:
    """A staff or key event signed by ``username``'s key and appended below the domain."""
    history = ledger.history(aggregate_id)
    now = ledger.clock.now() if recorded_at is None else recorded_at
    body = event_body(
        ledger_id=ledger.meta.ledger_id(),
        aggregate_id=aggregate_id,
        aggregate_kind="staff",
        version=len(history) + 1,
        event_type=event_type,
        payload=payload,
        occurred_at=now,
        recorded_at=now,
        actor=actor_of(ledger, username),
        meaning="approved",
        prev_hash=history[-1].hash if history else None,
        key_id=signer.key_id,
    )
    envelope = seal(body, signer)
    return envelope, _append(ledger, envelope)


def _key_payload(pair: KeyPair) -> dict[str, str]:
    return {"key_id": pair.key_id, "public_key": base64.b64encode(pair.public_key).decode(), "algorithm": "ed25519"}


def test_an_event_dated_before_its_key_was_registered_is_a_key_not_yet_valid(
    ledger: CustodyLedger, journey: Journey
) -> None:
    nurse = key_pair_of(ledger, "nurse")
    registered_at = ledger.history(staff_id_for("nurse"))[-1].recorded_at
    early = seal(
        _body(ledger, journey.product, nurse, "nurse", recorded_at=registered_at - timedelta(seconds=1)), nurse
    )
    position = _append(ledger, early)
    assert failures(verify(ledger)) == {("key_not_yet_valid", str(journey.product), early.version, position)}


def test_a_dismissed_administrators_key_registers_nothing_even_dated_at_its_revocation(
    ledger: CustodyLedger, journey: Journey
) -> None:
    admin = key_pair_of(ledger, "admin")
    [revocation] = revoke_key(ledger, "admin", "left the hospital", by="ledger")
    rogue = KeyPair.generate()
    registration, position = _staff_event(
        ledger, staff_id_for("nurse"), "SigningKeyRegistered", _key_payload(rogue), "admin", admin,
        recorded_at=revocation.recorded_at,
    )  # fmt: skip
    signed_with_rogue = seal(_body(ledger, journey.product, rogue, "nurse"), rogue)
    rogue_position = _append(ledger, signed_with_rogue)
    assert failures(verify(ledger)) == {
        ("revoked_key", str(staff_id_for("nurse")), registration.version, position),
        ("unknown_key", str(journey.product), signed_with_rogue.version, rogue_position),
    }


def test_a_nurse_cannot_make_herself_an_administrator_and_later_registrations_still_verify(
    ledger: CustodyLedger, journey: Journey
) -> None:
    nurse = key_pair_of(ledger, "nurse")
    promoted, position = _staff_event(
        ledger, uuid4(), "StaffMemberRegistered", {"username": "nurse", "name": "Nina Nurse", "role": "admin"},
        "nurse", nurse,
    )  # fmt: skip
    team(ledger, ("pharmacist",))
    pharmacist = key_pair_of(ledger, "pharmacist")
    _append(ledger, seal(_body(ledger, journey.product, pharmacist, "pharmacist"), pharmacist))
    report = verify(ledger)
    assert failures(report) == {("unauthorised_key_registration", str(promoted.aggregate_id), 1, position)}


def test_a_nurse_cannot_revoke_a_colleagues_key(ledger: CustodyLedger, journey: Journey) -> None:
    physician = key_pair_of(ledger, "physician")
    revocation, position = _staff_event(
        ledger, staff_id_for("physician"), "SigningKeyRevoked", {"key_id": physician.key_id, "reason": "spite"},
        "nurse", key_pair_of(ledger, "nurse"),
    )  # fmt: skip
    _append(ledger, seal(_body(ledger, journey.product, physician, "physician"), physician))
    assert failures(verify(ledger)) == {
        ("unauthorised_key_registration", str(staff_id_for("physician")), revocation.version, position)
    }
