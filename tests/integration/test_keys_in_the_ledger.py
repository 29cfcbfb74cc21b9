"""Signing keys live in the ledger: revocation, who may register keys, who may sign as whom, and identities.

The key history is rebuilt from signed staff events alone, so an insider who
holds a key (and can append below the domain) still cannot make a revoked key,
a self-registered key or a borrowed identity verify.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from api import demo_journeys as j
from domain.staff import StaffMember
from ledger.identity_store import IdentityStore, IdentityUnavailable, PatientIdentity
from ledger.keys import KeyPair
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import revoke_key
from ledger.signing_session import SignatureRefused
from tests.integration.journeys import (
    Journey,
    Recorder,
    actor_of,
    enrolled,
    failures,
    forge,
    key_pair_of,
    password_of,
    staff,
    team,
    verify,
)


@pytest.fixture
def collected(ledger: CustodyLedger) -> tuple[CustodyLedger, Recorder, Journey]:
    """A product enrolled by the physician and collected by the nurse."""
    rec = team(ledger, ("nurse", "physician", "pharmacist"))
    start = ledger.clock.now() - timedelta(days=10)
    journey = enrolled(rec, start)
    rec(
        "nurse",
        "ApheresisCollected",
        journey.product,
        start + timedelta(hours=4),
        "performed",
        din="G123426000101",
        site=j.APHERESIS_SITE,
        volume_ml=245,
        started_at=start.isoformat(),
        ended_at=(start + timedelta(hours=4)).isoformat(),
        preservation="fresh",
    )
    return ledger, rec, journey


def _annotate(ledger: CustodyLedger, journey: Journey, user: str, password: str | None) -> None:
    ledger.record(
        "AnnotationAdded",
        journey.product,
        {"text": "patient asked about the schedule"},
        user=user,
        meaning="authored",
        password=password,
    )


def test_a_revoked_nurse_can_no_longer_record_and_nothing_is_stored(
    collected: tuple[CustodyLedger, Recorder, Journey],
) -> None:
    ledger, _, journey = collected
    _annotate(ledger, journey, "nurse", password_of("nurse"))  # signing session open
    revoke_key(ledger, "nurse", "left the unit", by="ledger")
    member = ledger.load(staff("nurse"))
    assert isinstance(member, StaffMember) and member.active_keys == []
    size = ledger.store.size()
    for password in (None, password_of("nurse")):
        with pytest.raises(SignatureRefused, match="no active signing key"):
            _annotate(ledger, journey, "nurse", password)
    assert ledger.store.size() == size
    assert verify(ledger).intact


def test_an_event_signed_with_a_revoked_key_fails_while_earlier_ones_stay_valid(
    collected: tuple[CustodyLedger, Recorder, Journey],
) -> None:
    ledger, _, journey = collected
    nurse_key = key_pair_of(ledger, "nurse")
    nurse_events_before = [e for e in ledger.history(journey.product) if e.body["actor"]["user_id"] == "nurse"]
    assert nurse_events_before
    revoke_key(ledger, "nurse", "left the unit", by="ledger")
    forged, position = forge(
        ledger,
        journey.product,
        "AnnotationAdded",
        {"text": "written after leaving"},
        actor=actor_of(ledger, "nurse"),
        signer=nurse_key,
        meaning="authored",
    )
    report = verify(ledger)
    assert failures(report) == {("revoked_key", str(journey.product), forged.version, position)}


def test_a_key_registered_by_a_non_administrator_is_refused_and_never_verifies(
    collected: tuple[CustodyLedger, Recorder, Journey],
) -> None:
    ledger, _, journey = collected
    rogue = KeyPair.generate()
    registration, _ = forge(
        ledger,
        staff("nurse"),
        "SigningKeyRegistered",
        {"key_id": rogue.key_id, "public_key": base64.b64encode(rogue.public_key).decode(), "algorithm": "ed25519"},
        actor=actor_of(ledger, "nurse"),
        signer=key_pair_of(ledger, "nurse"),
        aggregate_kind="staff",
        meaning="approved",
    )
    signed_with_rogue, position = forge(
        ledger,
        journey.product,
        "AnnotationAdded",
        {"text": "signed with a key nobody authorised"},
        actor=actor_of(ledger, "nurse"),
        signer=rogue,
        meaning="authored",
    )
    report = verify(ledger)
    assert {(f.reason, f.aggregate_id, f.version) for f in report.failures} == {
        ("unauthorised_key_registration", str(staff("nurse")), registration.version),
        ("unknown_key", str(journey.product), signed_with_rogue.version),
    }
    assert ("unknown_key", str(journey.product), signed_with_rogue.version, position) in failures(report)


def test_an_event_claiming_another_user_than_the_keys_owner_is_a_signer_mismatch(
    collected: tuple[CustodyLedger, Recorder, Journey],
) -> None:
    ledger, _, journey = collected
    forged, position = forge(
        ledger,
        journey.product,
        "AnnotationAdded",
        {"text": "the physician agrees (says the nurse)"},
        actor=actor_of(ledger, "physician"),
        signer=key_pair_of(ledger, "nurse"),
        meaning="authored",
    )
    assert failures(verify(ledger)) == {("signer_mismatch", str(journey.product), forged.version, position)}


def test_a_wrong_password_signs_nothing_and_stores_nothing(
    collected: tuple[CustodyLedger, Recorder, Journey],
) -> None:
    ledger, _, journey = collected
    _annotate(ledger, journey, "pharmacist", password_of("pharmacist"))  # an open session
    size = ledger.store.size()
    for user in ("nurse", "pharmacist"):
        with pytest.raises(SignatureRefused, match="wrong password"):
            _annotate(ledger, journey, user, "not-the-password")
    assert ledger.store.size() == size
    # a wrong password also ends the open session: the next signature needs the password again
    with pytest.raises(SignatureRefused, match="needs the password") as refused:
        _annotate(ledger, journey, "pharmacist", None)
    assert refused.value.password_required
    assert ledger.store.size() == size
    assert verify(ledger).intact


# -- patient identities -------------------------------------------------------------------------------

IDENTITY = PatientIdentity("DUPONT", "Marie", "1988-04-12", "IPP-40021")


def _identities(ledger: CustodyLedger, settings: Settings) -> IdentityStore:
    return IdentityStore(ledger.store, settings.home)


def _stored_rows(ledger: CustodyLedger) -> list[dict[str, object]]:
    with ledger.store.side_transaction() as cursor:
        cursor.execute("SELECT pseudonym, nonce, ciphertext, created_at FROM patient_identities")
        return cursor.fetchall()


def test_an_identity_is_stored_encrypted_and_read_back(ledger: CustodyLedger, settings: Settings) -> None:
    identities = _identities(ledger, settings)
    identities.put("PSN-SLE-0001", IDENTITY, ledger.clock.now())
    assert identities.get("PSN-SLE-0001") == IDENTITY
    [row] = _stored_rows(ledger)
    assert row["pseudonym"] == "PSN-SLE-0001"
    stored = bytes(row["ciphertext"]) + bytes(row["nonce"])  # type: ignore[call-overload]
    for secret in (b"DUPONT", b"Marie", b"IPP-40021", b"1988-04-12", b"dupont"):
        assert secret.lower() not in stored.lower()
    with pytest.raises(IdentityUnavailable):
        identities.get("PSN-NEVER-STORED")


def test_an_identity_row_moved_to_another_pseudonym_does_not_decrypt(ledger: CustodyLedger, settings: Settings) -> None:
    identities = _identities(ledger, settings)
    identities.put("PSN-SLE-0001", IDENTITY, ledger.clock.now())
    with ledger.store.side_transaction() as cursor:
        cursor.execute("UPDATE patient_identities SET pseudonym = %s WHERE pseudonym = %s", ("PSN-X", "PSN-SLE-0001"))
    with pytest.raises(IdentityUnavailable, match="does not decrypt"):
        identities.get("PSN-X")


def test_erasing_an_identity_removes_it_and_the_ledger_still_verifies(
    collected: tuple[CustodyLedger, Recorder, Journey], settings: Settings
) -> None:
    ledger, _, journey = collected
    identities = _identities(ledger, settings)
    pseudonym = ledger.history(journey.product)[0].body["payload"]["patient_pseudonym"]
    identities.put(pseudonym, IDENTITY, ledger.clock.now())
    size = ledger.store.size()
    assert identities.erase(pseudonym, ledger.clock.now()) is True
    with pytest.raises(IdentityUnavailable, match="no identity"):
        identities.get(pseudonym)
    assert _stored_rows(ledger) == []
    assert identities.erase(pseudonym, ledger.clock.now()) is False
    assert ledger.store.size() == size
    assert verify(ledger).intact
