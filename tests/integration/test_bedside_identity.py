"""The real patient at the bedside, on both backends: the wristband against the sealed identity, never stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time

from domain.errors import BedsideCheckExpired, IdentityMismatch, IdentityNotRegistered, ResolverIsReporter
from domain.product import TherapyProduct
from ledger.service import CustodyLedger
from ledger.settings import Settings
from tests.integration.journeys import (
    IDENTITY,
    PATIENT,
    Journey,
    Recorder,
    identified,
    password_of,
    team,
    thawed,
)


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    return team(ledger)


@pytest.fixture
def journey(ledger: CustodyLedger, rec: Recorder) -> Journey:
    return thawed(rec, ledger.clock.now() - timedelta(days=40))


def check(ledger: CustodyLedger, journey: Journey, user: str, minutes: int, **wristband: str) -> list[Any]:
    """One bedside check by ``user``, some minutes after thaw, scanning the right labels and the given wristband."""
    assert journey.thawed_at is not None
    kind, meaning = (
        ("BedsideCheckPerformed", "performed") if user == "nurse" else ("BedsideCheckWitnessed", "witnessed")
    )
    scans = {"scanned_coi": journey.coi.value, "scanned_bag_id": journey.bag, **wristband}
    return ledger.record(
        kind, journey.product, scans, user=user, meaning=meaning, password=password_of(user),
        occurred_at=journey.thawed_at + timedelta(minutes=minutes),
    )  # fmt: skip


def stored_bytes(ledger: CustodyLedger) -> str:
    """Every stored event of the log, as the bytes on disk (decoded)."""
    rows = ledger.store.raw_rows(1, ledger.store.size() + 10)
    return "\n".join(row.state if isinstance(row.state, str) else row.state.decode() for row in rows)


def test_both_checks_record_the_matched_identity_version_and_no_identity_reaches_the_log(
    ledger: CustodyLedger, journey: Journey
) -> None:
    wristband = identified(ledger)
    [performed] = check(ledger, journey, "nurse", 6, **wristband)
    [witnessed] = check(ledger, journey, "physician", 7, **wristband)
    _, version = ledger.identities.get_versioned(PATIENT)
    for envelope, who in ((performed, "nurse"), (witnessed, "physician")):
        assert envelope.body["payload"]["wristband_matched"] is True
        assert envelope.body["payload"]["identity_version"] == version
        assert envelope.body["actor"]["user_id"] == who
    text = stored_bytes(ledger)
    for secret in (IDENTITY.hospital_number, IDENTITY.birth_date, IDENTITY.family_name, IDENTITY.given_name):
        assert secret not in text


def test_a_wristband_from_the_next_bed_is_a_near_miss_that_suspends_and_stores_no_wristband(
    ledger: CustodyLedger, journey: Journey
) -> None:
    identified(ledger)
    size = ledger.store.size()
    with pytest.raises(IdentityMismatch) as caught:
        check(ledger, journey, "nurse", 6, wristband_hospital_number="IPP-99999", wristband_birth_date="14/03/1979")
    assert caught.value.field == "payload.wristband_hospital_number"
    assert ledger.store.size() == size + 1
    [near_miss] = ledger.history(journey.product)[-1:]
    assert near_miss.type == "IdentityMismatchRecorded" and near_miss.body["actor"]["user_id"] == "nurse"
    product = ledger.load(journey.product)
    assert isinstance(product, TherapyProduct) and product.suspended and product.bedside_performed is None
    assert "IPP-99999" not in stored_bytes(ledger) and IDENTITY.hospital_number not in stored_bytes(ledger)


def test_a_patient_whose_identity_was_never_registered_cannot_pass_the_bedside_check(
    ledger: CustodyLedger, journey: Journey
) -> None:
    size = ledger.store.size()
    with pytest.raises(IdentityNotRegistered) as caught:
        check(ledger, journey, "nurse", 6, wristband_hospital_number="IPP-1", wristband_birth_date="1979-03-14")
    assert caught.value.field == "patient_identity" and PATIENT in caught.value.message
    assert ledger.store.size() == size


def test_the_person_whose_scan_mismatched_cannot_resolve_it_and_nothing_is_stored(
    ledger: CustodyLedger, journey: Journey
) -> None:
    wristband = identified(ledger)
    check(ledger, journey, "nurse", 6, **wristband)
    with pytest.raises(IdentityMismatch):
        check(ledger, journey, "physician", 7, **{**wristband, "wristband_birth_date": "1979-03-15"})
    size = ledger.store.size()
    assert journey.thawed_at is not None
    resolve = {"resolution": "wristband of the patient in the next bed"}
    with pytest.raises(ResolverIsReporter) as caught:
        ledger.record(
            "MismatchResolved", journey.product, resolve, user="physician", meaning="approved",
            password=password_of("physician"), occurred_at=journey.thawed_at + timedelta(minutes=8),
        )  # fmt: skip
    assert caught.value.rule == "resolver_is_reporter" and caught.value.field == "user"
    assert ledger.store.size() == size
    ledger.record(
        "MismatchResolved", journey.product, resolve, user="pharmacist", meaning="approved",
        password=password_of("pharmacist"), occurred_at=journey.thawed_at + timedelta(minutes=8),
    )  # fmt: skip
    product = ledger.load(journey.product)
    assert isinstance(product, TherapyProduct) and not product.suspended


@pytest.mark.parametrize(
    ("setting", "witness_after", "accepted"), [(None, 30, True), (None, 31, False), (45, 44, True)]
)
def test_the_second_check_comes_within_custody_bedside_check_valid_minutes_of_the_first(
    ledger: CustodyLedger, rec: Recorder, settings: Settings, setting: int | None, witness_after: int, accepted: bool
) -> None:
    update = {} if setting is None else {"bedside_check_valid_minutes": setting}
    configured = CustodyLedger(settings.model_copy(update=update))
    try:
        with freeze_time(datetime.now(UTC) + timedelta(days=1)):
            journey = thawed(rec, ledger.clock.now() - timedelta(days=40))
            wristband = identified(ledger)
            check(configured, journey, "nurse", 6, **wristband)
            size = ledger.store.size()
            if accepted:
                check(configured, journey, "physician", 6 + witness_after, **wristband)
                assert ledger.store.size() == size + 1
                return
            with pytest.raises(BedsideCheckExpired) as caught:
                check(configured, journey, "physician", 6 + witness_after, **wristband)
            assert caught.value.rule == "bedside_check_expired" and caught.value.field == "occurred_at"
            assert ledger.store.size() == size
    finally:
        configured.close()
