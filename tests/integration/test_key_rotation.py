"""Rotating a person's key: earlier signatures stay valid, the old key signs nothing afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.staff import staff_id_for
from ledger.merkle_log import checkpoint
from ledger.service import CustodyLedger
from ledger.setup import register_staff, rotate_key, rotate_ledger_key
from ledger.signed_note import verify_note
from ledger.signing_session import SignatureRefused
from ledger.trust_anchor import home_trust_anchor
from ledger.verifier import VerifyOptions, verify_store
from tests.integration.journeys import actor_of, enrolled, forge, key_pair_of, password_of, team


def reasons(ledger: CustodyLedger) -> set[str]:
    options = VerifyOptions(trusted={ledger.meta.ledger_key_pair().public_key}, ledger_id=ledger.meta.ledger_id())
    return {failure.reason for failure in verify_store(ledger.store, options).failures}


def test_after_a_rotation_the_new_key_signs_and_the_old_one_cannot(ledger: CustodyLedger) -> None:
    rec = team(ledger)
    journey = enrolled(rec, datetime.now(UTC) - timedelta(days=2))
    old = key_pair_of(ledger, "physician")
    rotate_key(ledger, "physician", password_of("physician"), by="ledger")
    new = key_pair_of(ledger, "physician")
    assert new.key_id != old.key_id
    ledger.record(
        "AnnotationAdded", journey.product, {"text": "signed with the new key"},
        user="physician", meaning="authored", password=password_of("physician"),
    )  # fmt: skip
    assert ledger.history(journey.product)[-1].key_id == new.key_id
    assert reasons(ledger) == set()
    forge(
        ledger, journey.product, "AnnotationAdded", {"text": "signed with the retired key"},
        actor=actor_of(ledger, "physician"), signer=old, meaning="authored",
    )  # fmt: skip
    assert reasons(ledger) == {"revoked_key"}


def test_a_key_is_not_rotated_without_its_owners_password(ledger: CustodyLedger) -> None:
    team(ledger)
    size = ledger.store.size()
    with pytest.raises(SignatureRefused, match="wrong password"):
        rotate_key(ledger, "nurse", "not-her-password", by="ledger")
    assert ledger.store.size() == size


def trust_anchor(ledger: CustodyLedger) -> set[bytes]:
    """The keys an auditor takes from CUSTODY_HOME/ledger.pub."""
    keys = home_trust_anchor(ledger.settings.home)
    assert keys is not None, "initialisation writes ledger.pub"
    return keys


def test_after_the_ledger_key_is_rotated_history_checkpoints_and_new_steps_all_verify(ledger: CustodyLedger) -> None:
    rec = team(ledger)
    enrolled(rec, datetime.now(UTC) - timedelta(days=2))
    checkpoint(ledger)
    old = ledger.meta.ledger_key_pair()
    rotate_ledger_key(ledger)
    new = ledger.meta.ledger_key_pair()
    assert new.key_id != old.key_id
    assert trust_anchor(ledger) >= {old.public_key, new.public_key}
    register_staff(ledger, "nurse2", "Second Nurse", "nurse", "nurse2-password", registrar="ledger")
    made = checkpoint(ledger)
    assert verify_note(made.note, made.origin, [new.public_key])
    options = VerifyOptions(trusted=trust_anchor(ledger), ledger_id=ledger.meta.ledger_id())
    assert verify_store(ledger.store, options).failures == []
    forge(
        ledger, staff_id_for("nurse2"), "SigningKeyRevoked", {"key_id": "0" * 32, "reason": "forged"},
        actor=actor_of(ledger, "ledger"), signer=old, aggregate_kind="staff", meaning="approved",
    )  # fmt: skip
    assert "revoked_key" in {failure.reason for failure in verify_store(ledger.store, options).failures}
