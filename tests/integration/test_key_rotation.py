"""Rotating a person's key: earlier signatures stay valid, the old key signs nothing afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger.service import CustodyLedger
from ledger.setup import rotate_key
from ledger.signing_session import SignatureRefused
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
