"""What decide checks for every event (type, meaning, times, payload, existence), and the registry's shape."""

from __future__ import annotations

import copy
from dataclasses import fields
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from domain_fixtures import (
    COI,
    NURSE,
    PHARMACIST,
    PHYSICIAN,
    PRODUCT_ID,
    T0,
    CarTJourney,
    FakeLedger,
    enrolment,
    make_ctx,
    storage,
)

from domain.aggregate import Aggregate
from domain.errors import InvalidInput, NotFound, OutOfOrder, RuleViolation, TimeRuleViolation, UnknownEventType
from domain.events import Actor, Meaning, Role
from domain.registry import _DECIDERS, AGGREGATE_CLASSES, EVENT_TYPES, decide
from tests.unit.pathway_fixtures import ready_ledger


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def test_an_unknown_event_type_is_refused(ledger: FakeLedger) -> None:
    ledger.refuse(
        UnknownEventType,
        field="type",
        rule="unknown_event_type",
        message="unknown event type 'ProductEaten'",
        event_type="ProductEaten",
        aggregate_id=PRODUCT_ID,
        payload={},
        actor=NURSE,
        at=T0,
        meaning=Meaning.PERFORMED,
    )


def test_a_signature_without_a_meaning_is_refused(ledger: FakeLedger) -> None:
    with pytest.raises(InvalidInput) as caught:
        decide("ProductEnrolled", PRODUCT_ID, enrolment(), make_ctx(PHYSICIAN, T0, None), ledger.load)
    assert (caught.value.field, caught.value.rule) == ("meaning", "meaning_required")
    assert "one of: recorded, approved" in caught.value.message
    assert PRODUCT_ID not in ledger.histories


def test_a_meaning_that_does_not_fit_the_step_is_refused(ledger: FakeLedger) -> None:
    ledger.refuse(
        InvalidInput,
        field="meaning",
        rule="meaning_not_allowed",
        message="allowed: recorded, approved",
        event_type="ProductEnrolled",
        aggregate_id=PRODUCT_ID,
        payload=enrolment(),
        actor=PHYSICIAN,
        at=T0,
        meaning=Meaning.WITNESSED,
    )


def test_a_time_without_an_offset_is_refused(ledger: FakeLedger) -> None:
    naive = T0.replace(tzinfo=None)
    ctx = make_ctx(PHYSICIAN, naive, Meaning.RECORDED, now=T0)
    with pytest.raises(InvalidInput) as caught:
        decide("ProductEnrolled", PRODUCT_ID, enrolment(), ctx, ledger.load)
    assert (caught.value.field, caught.value.rule) == ("occurred_at", "timezone_required")
    assert "no time zone offset" in caught.value.message


def test_a_step_cannot_be_recorded_as_happening_in_the_future(ledger: FakeLedger) -> None:
    ctx = make_ctx(PHYSICIAN, T0 + timedelta(hours=1), Meaning.RECORDED, now=T0)
    with pytest.raises(TimeRuleViolation) as caught:
        decide("ProductEnrolled", PRODUCT_ID, enrolment(), ctx, ledger.load)
    assert (caught.value.field, caught.value.rule) == ("occurred_at", "occurred_in_future")
    assert "is in the future (now is 2026-01-05T08:00:00+00:00)" in caught.value.message
    assert PRODUCT_ID not in ledger.histories


def test_a_step_cannot_be_dated_before_the_previous_step(ledger: FakeLedger) -> None:
    ledger.record("ProductEnrolled", PRODUCT_ID, enrolment(), PHYSICIAN, T0)
    ledger.refuse(
        TimeRuleViolation,
        field="occurred_at",
        rule="before_previous_step",
        message="2026-01-05T07:00:00+00:00 is before the previous step of this product (2026-01-05T08:00:00+00:00)",
        event_type="AnnotationAdded",
        aggregate_id=PRODUCT_ID,
        payload={"text": "late"},
        actor=NURSE,
        at=T0 - timedelta(hours=1),
    )


def test_a_payload_with_an_unknown_field_is_refused(ledger: FakeLedger) -> None:
    ledger.refuse(
        InvalidInput,
        field="payload.blood_group",
        rule="unknown_field",
        message="not a field of ProductEnrolled",
        event_type="ProductEnrolled",
        aggregate_id=PRODUCT_ID,
        payload=enrolment(blood_group="A+"),
        actor=PHYSICIAN,
        at=T0,
    )


def test_a_payload_missing_a_field_is_refused(ledger: FakeLedger) -> None:
    payload = enrolment()
    del payload["patient_pseudonym"]
    ledger.refuse(
        InvalidInput,
        field="payload.patient_pseudonym",
        rule="required",
        message="is required",
        event_type="ProductEnrolled",
        aggregate_id=PRODUCT_ID,
        payload=payload,
        actor=PHYSICIAN,
        at=T0,
    )


def test_a_payload_with_a_bad_enum_value_is_refused(ledger: FakeLedger) -> None:
    ledger.refuse(
        InvalidInput,
        field="payload.indication",
        rule="invalid_choice",
        message="'gout' is not one of",
        event_type="ProductEnrolled",
        aggregate_id=PRODUCT_ID,
        payload=enrolment(indication="gout"),
        actor=PHYSICIAN,
        at=T0,
    )


def test_a_product_cannot_be_enrolled_twice(ledger: FakeLedger) -> None:
    ledger.record("ProductEnrolled", PRODUCT_ID, enrolment(), PHYSICIAN, T0)
    ledger.refuse(
        OutOfOrder,
        field="aggregate_id",
        rule="already_exists",
        message="already exists",
        event_type="ProductEnrolled",
        aggregate_id=PRODUCT_ID,
        payload=enrolment(),
        actor=PHYSICIAN,
        at=T0,
    )


def test_a_step_on_an_unknown_product_is_refused(ledger: FakeLedger) -> None:
    ledger.refuse(
        NotFound,
        field="aggregate_id",
        rule="not_found",
        message=f"no product with id {PRODUCT_ID}",
        event_type="StoredInLN2",
        aggregate_id=PRODUCT_ID,
        payload=storage(),
        actor=PHARMACIST,
        at=T0,
    )


def test_an_auditor_signs_no_custody_step(ledger: FakeLedger) -> None:
    auditor = Actor("auditor.blanc", "Eve Blanc", "auditor")
    ledger.refuse(
        RuleViolation,
        field="user",
        rule="role_not_allowed",
        message="role 'auditor' may not record StoredInLN2",
        event_type="StoredInLN2",
        aggregate_id=PRODUCT_ID,
        payload=storage(),
        actor=auditor,
        at=T0,
    )


def test_a_product_step_on_a_shipment_is_refused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    ledger.refuse(
        NotFound,
        field="aggregate_id",
        rule="wrong_aggregate_kind",
        message="is a shipment, not a product",
        event_type="AnnotationAdded",
        aggregate_id=journey.to_manufacturer,
        payload={"text": "x"},
        actor=NURSE,
        at=journey.at,
    )


def test_a_derived_event_cannot_be_recorded_directly(ledger: FakeLedger) -> None:
    CarTJourney(ledger).until("ApheresisCollected")
    payload = {"shipment_id": str(uuid4()), "leg": "to_manufacturer", "to_site": "x"}
    ledger.refuse(
        OutOfOrder,
        field="type",
        rule="derived_event",
        message="when ShipmentDispatched is recorded",
        event_type="ProductShipped",
        aggregate_id=PRODUCT_ID,
        payload=payload,
        actor=NURSE,
        at=T0 + timedelta(days=2),
    )


def test_decide_never_changes_the_aggregates_it_loads(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ApheresisCollected")
    product = ledger.product()
    before = copy.deepcopy(vars(product))
    payload = {
        "units": [str(PRODUCT_ID)],
        "leg": "to_manufacturer",
        "from_site": "CHU Lyon apheresis unit",
        "to_site": "Manufacturer Leiden",
        "courier": "c",
        "shipper_id": "s",
        "data_logger_id": "l",
        "temperature_class": "fresh_2_8c",
        "seal_ids": ["x"],
    }
    ctx = make_ctx(NURSE, journey.at + timedelta(hours=1), Meaning.PERFORMED)

    def load(aggregate_id: UUID) -> Aggregate | None:
        return product if aggregate_id == PRODUCT_ID else ledger.load(aggregate_id)

    events = decide("ShipmentDispatched", uuid4(), payload, ctx, load)
    assert [event.type for event in events] == ["ShipmentDispatched", "ProductShipped"]
    assert vars(product) == before


def test_every_event_type_is_decided_or_derived_and_documented() -> None:
    for name, spec in EVENT_TYPES.items():
        assert spec.name == name
        assert (name in _DECIDERS) != (spec.derived_from is not None), name
        assert spec.kind in AGGREGATE_CLASSES
        assert spec.meanings and spec.description.endswith(".")
        assert spec.roles and not spec.roles & {Role.AUDITOR}
        # A sponsor signs only its trial sites' readiness.
        assert bool(spec.roles & {Role.SPONSOR}) == (spec.kind == "trial_site"), name
        # Administrators keep the registries (sites, trials, trial sites) and record no clinical step.
        registry = spec.kind in {"site", "trial", "trial_site"}
        assert bool(spec.roles & {Role.ADMIN}) == registry, name
        # A trial site's evidence is attested by whoever vouches for it (pharmacist, QP, physician…); the rest of
        # the registries by administrators, the ledger and, for trial sites, the sponsor.
        vouched = {Role.PHYSICIAN, Role.PHARMACIST, Role.QP} if name == "TrialPrerequisiteAttested" else set()
        assert not registry or spec.roles <= {Role.ADMIN, Role.SYSTEM, Role.SPONSOR, *vouched}, name
        assert spec.kind == "trial_site" or not registry or spec.roles <= {Role.ADMIN, Role.SYSTEM}, name
        assert fields(spec.payload)


def test_each_aggregate_kind_has_exactly_one_creation_event() -> None:
    creators = sorted(spec.kind for spec in EVENT_TYPES.values() if spec.creates or spec.singleton)
    assert creators == sorted(AGGREGATE_CLASSES)


def test_a_spec_says_which_roles_may_record_it() -> None:
    assert EVENT_TYPES["Infused"].allows_role("nurse")
    assert not EVENT_TYPES["Infused"].allows_role("auditor")
    assert EVENT_TYPES["Dispensed"].default_meaning is Meaning.VERIFIED
    assert COI.startswith("CH")
