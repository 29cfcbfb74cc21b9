"""Every refused step names the field and the rule, and leaves the ledger as it was.

The one exception is deliberate: an identity mismatch at the bedside is refused
but its near miss is recorded, as exactly one signed IdentityMismatchRecorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from freezegun import freeze_time

from api import demo_journeys as j
from domain.errors import (
    CustodyError,
    IdentityMismatch,
    InvalidIdentifier,
    InvalidInput,
    RuleViolation,
    TimeRuleViolation,
    UnknownEventType,
)
from domain.identifiers import allocate_coi, product_id_for
from domain.product import ProductState, TherapyProduct
from ledger.service import CustodyLedger
from tests.integration.journeys import (
    PATIENT,
    Journey,
    Recorder,
    bedside_checked,
    enrolled,
    identified,
    password_of,
    team,
    thawed,
    verify,
)


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    """The whole team, registered."""
    return team(ledger)


@contextmanager
def unchanged(ledger: CustodyLedger) -> Iterator[None]:
    """The block must not store anything (and the ledger still verifies after it)."""
    size = ledger.store.size()
    yield
    assert ledger.store.size() == size
    assert verify(ledger).intact


def refuse(
    ledger: CustodyLedger,
    error: type[CustodyError],
    *,
    field: str,
    rule: str,
    event_type: str,
    target: Any,
    payload: dict[str, Any],
    user: str = "physician",
    meaning: str | None = "approved",
    **options: Any,
) -> CustodyError:
    """Record a step that must be refused with exactly this error, field and rule, storing nothing."""
    with unchanged(ledger), pytest.raises(error) as caught:
        ledger.record(event_type, target, payload, user=user, meaning=meaning, password=password_of(user), **options)
    assert type(caught.value) is error
    assert caught.value.field == field
    assert caught.value.rule == rule
    assert caught.value.message and str(caught.value) == caught.value.message
    return caught.value


def _enrolment(coi: str) -> dict[str, Any]:
    return {
        "coi": coi,
        "product_kind": "car_t",
        "product_code": "ACADEMIC-CD19",
        "patient_pseudonym": PATIENT,
        "indication": "systemic_lupus_erythematosus",
        "treating_physician": "physician",
        "collection_site": j.APHERESIS_SITE,
    }


def test_a_malformed_coi_is_refused_naming_the_field(ledger: CustodyLedger, rec: Recorder) -> None:
    error = refuse(
        ledger,
        InvalidIdentifier,
        field="payload.coi",
        rule="coi_format",
        event_type="ProductEnrolled",
        target=uuid4(),
        payload=_enrolment("CHF99992612345"),
    )
    assert "CHF99992612345" in error.message and "15 characters" in error.message


def test_a_coi_with_a_wrong_check_character_is_refused(ledger: CustodyLedger, rec: Recorder) -> None:
    coi = allocate_coi("F9999", 26, "00001A")
    wrong = next(c for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*" if c != coi.check_character)
    error = refuse(
        ledger,
        InvalidIdentifier,
        field="payload.coi",
        rule="check_character",
        event_type="ProductEnrolled",
        target=product_id_for(coi),
        payload=_enrolment(f"{coi.value} {wrong}"),
    )
    assert f"expected {coi.check_character}" in error.message
    assert ledger.load(product_id_for(coi)) is None


def test_an_unknown_event_type_is_refused(ledger: CustodyLedger, rec: Recorder) -> None:
    journey = enrolled(rec, ledger.clock.now() - timedelta(days=1))
    error = refuse(
        ledger,
        UnknownEventType,
        field="type",
        rule="unknown_event_type",
        event_type="ProductTeleported",
        target=journey.product,
        payload={},
    )
    assert "ProductTeleported" in error.message


@pytest.mark.parametrize("meaning", [None, ""])
def test_a_signature_without_its_meaning_is_refused(ledger: CustodyLedger, rec: Recorder, meaning: str | None) -> None:
    journey = enrolled(rec, ledger.clock.now() - timedelta(days=1))
    error = refuse(
        ledger,
        InvalidInput,
        field="meaning",
        rule="meaning_required",
        event_type="AnnotationAdded",
        target=journey.product,
        payload={"text": "a note"},
        meaning=meaning,
    )
    assert "authored" in error.message


def test_a_step_dated_in_the_future_is_refused(ledger: CustodyLedger, rec: Recorder) -> None:
    journey = enrolled(rec, ledger.clock.now() - timedelta(days=1))
    frozen = ledger.clock.now()
    with freeze_time(frozen):
        assert ledger.clock.now() == frozen
        refuse(
            ledger,
            TimeRuleViolation,
            field="occurred_at",
            rule="occurred_in_future",
            event_type="AnnotationAdded",
            target=journey.product,
            payload={"text": "written tomorrow"},
            meaning="authored",
            occurred_at=frozen + timedelta(seconds=1),
        )
        # the same step at the frozen instant itself is accepted
        ledger.record(
            "AnnotationAdded",
            journey.product,
            {"text": "written now"},
            user="physician",
            meaning="authored",
            password=password_of("physician"),
            occurred_at=frozen,
        )
    assert (
        ledger.history(journey.product)[-1].body["occurred_at"]
        == ledger.history(journey.product)[-1].body["recorded_at"]
    )


def test_a_step_dated_before_the_previous_step_is_refused(ledger: CustodyLedger, rec: Recorder) -> None:
    start = ledger.clock.now() - timedelta(days=1)
    journey = enrolled(rec, start)
    error = refuse(
        ledger,
        TimeRuleViolation,
        field="occurred_at",
        rule="before_previous_step",
        event_type="AnnotationAdded",
        target=journey.product,
        payload={"text": "back-dated"},
        meaning="authored",
        occurred_at=start - timedelta(minutes=1),
    )
    assert "before the previous step" in error.message


def test_a_role_that_does_not_perform_the_step_is_refused(ledger: CustodyLedger, rec: Recorder) -> None:
    start = ledger.clock.now() - timedelta(days=1)
    journey = enrolled(rec, start)
    error = refuse(
        ledger,
        RuleViolation,
        field="user",
        rule="role_not_allowed",
        event_type="ApheresisCollected",
        target=journey.product,
        payload={
            "din": "G123426000101",
            "site": j.APHERESIS_SITE,
            "volume_ml": 245,
            "started_at": start.isoformat(),
            "ended_at": (start + timedelta(hours=4)).isoformat(),
            "preservation": "fresh",
        },
        user="auditor",
        meaning="performed",
        occurred_at=start + timedelta(hours=4),
    )
    assert "'auditor'" in error.message and "nurse" in error.message


@pytest.fixture
def at_bedside(ledger: CustodyLedger, rec: Recorder) -> Journey:
    """A product thawed on the unit, both bedside checks done."""
    journey = thawed(rec, ledger.clock.now() - timedelta(days=40))
    bedside_checked(rec, journey)
    return journey


def test_an_infusion_outside_the_thaw_to_infusion_window_is_refused(ledger: CustodyLedger, at_bedside: Journey) -> None:
    assert at_bedside.thawed_at is not None
    start = at_bedside.thawed_at + timedelta(minutes=61)  # ACADEMIC-CD19: 60 min after thaw completion
    end = start + timedelta(minutes=12)
    error = refuse(
        ledger,
        TimeRuleViolation,
        field="payload.started_at",
        rule="thaw_to_infusion_window_exceeded",
        event_type="Infused",
        target=at_bedside.product,
        payload={
            "started_at": start.isoformat(),
            "ended_at": end.isoformat(),
            "volume_ml": 68,
            "bag_ids": [at_bedside.bag],
            "observations": "late",
        },
        user="nurse",
        meaning="performed",
        occurred_at=end,
    )
    assert "NotInfused" in error.message
    product = ledger.load(at_bedside.product)
    assert isinstance(product, TherapyProduct) and product.state == ProductState.BEDSIDE_VERIFIED


def test_an_identity_mismatch_at_the_bedside_is_refused_but_its_near_miss_is_recorded(
    ledger: CustodyLedger, rec: Recorder
) -> None:
    journey = thawed(rec, ledger.clock.now() - timedelta(days=40))
    assert journey.thawed_at is not None
    other = j.new_coi("F9999", 26)
    head = ledger.history(journey.product)[-1]
    size = ledger.store.size()
    when = journey.thawed_at + timedelta(minutes=5)
    with pytest.raises(IdentityMismatch) as caught:
        ledger.record(
            "BedsideCheckPerformed",
            journey.product,
            {"scanned_coi": other.value, "scanned_bag_id": journey.bag, **identified(ledger)},
            user="nurse",
            meaning="performed",
            password=password_of("nurse"),
            occurred_at=when,
        )
    assert caught.value.field == "payload.scanned_coi" and caught.value.rule == "identity_mismatch"
    assert ledger.store.size() == size + 1
    recorded = ledger.history(journey.product)[-1]
    assert recorded.type == "IdentityMismatchRecorded"
    assert recorded.version == head.version + 1 and recorded.body["prev_hash"] == head.hash
    assert recorded.body["payload"] == {
        "step": "BedsideCheckPerformed",
        "field": "payload.scanned_coi",
        "expected": journey.coi.value,
        "scanned": other.value,
    }
    assert recorded.body["actor"]["user_id"] == "nurse"
    assert recorded.body["meaning"] == "recorded"
    product = ledger.load(journey.product)
    assert isinstance(product, TherapyProduct)
    assert product.suspended and product.state == ProductState.THAWED and product.bedside_performed is None
    assert verify(ledger).intact
