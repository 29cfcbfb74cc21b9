"""The roles that may sign each event type are exactly the ones the hand-written table names.

The production table is compared with ``tests/role_table.py`` in both directions, and the
domain's own refusal (``decide`` and ``decide_staff``) is driven role by role against the
hand table, so a role added to or dropped from an event type fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

import pytest

from domain.errors import CustodyError, RuleViolation
from domain.events import Actor, Meaning
from domain.log_heads import HEADS_AGGREGATE_ID, HEADS_EVENT_TYPES, HEADS_SIGNERS, decide_heads
from domain.printed_names import PRINTED_NAME_EVENT_TYPES
from domain.registry import EVENT_TYPES, decide
from domain.staff import REGISTRARS, STAFF_EVENT_TYPES, decide_staff
from tests.role_table import (
    ADMIN,
    AUDITOR,
    COURIER,
    DERIVED,
    LOG_EVENTS,
    NURSE,
    PEOPLE,
    PHARMACIST,
    PHYSICIAN,
    PRINTED_NAME_EVENTS,
    QP,
    ROLES_BY_EVENT_TYPE,
    SPONSOR,
    STAFF_EVENTS,
    SYSTEM,
    allowed,
)
from tests.unit.domain_fixtures import T0, make_ctx

ALL_ROLES = sorted(PEOPLE | {SYSTEM})
REQUESTED = sorted(set(ROLES_BY_EVENT_TYPE) - DERIVED - STAFF_EVENTS - LOG_EVENTS - PRINTED_NAME_EVENTS)


def production_roles() -> dict[str, frozenset[str]]:
    """What the code under test says, as plain role names, staff events included."""
    found = {name: frozenset(str(role) for role in spec.roles) for name, spec in EVENT_TYPES.items()}
    found.update({name: frozenset(REGISTRARS) for name in STAFF_EVENT_TYPES})
    found.update({name: frozenset(REGISTRARS) for name in PRINTED_NAME_EVENT_TYPES})  # signed with the registration
    found.update({name: frozenset(HEADS_SIGNERS) for name in HEADS_EVENT_TYPES})
    return found


def differences(production: dict[str, frozenset[str]], hand: dict[str, frozenset[str]]) -> list[str]:
    """Each disagreement as a sentence a reviewer can act on."""
    lines = [f"{name} is not in the hand table" for name in sorted(set(production) - set(hand))]
    lines += [f"{name} is in the hand table but not in production" for name in sorted(set(hand) - set(production))]
    for name in sorted(set(production) & set(hand)):
        extra, missing = production[name] - hand[name], hand[name] - production[name]
        if extra:
            lines.append(f"{name}: production also lets {sorted(extra)} sign it")
        if missing:
            lines.append(f"{name}: production no longer lets {sorted(missing)} sign it")
    return lines


def test_every_event_type_is_signed_by_exactly_the_roles_of_the_hand_table() -> None:
    assert differences(production_roles(), ROLES_BY_EVENT_TYPE) == []


def test_a_role_added_or_dropped_in_production_is_named_as_a_difference() -> None:
    hand = {"Infused": frozenset({NURSE, PHYSICIAN}), "Dispensed": frozenset({PHARMACIST})}
    widened = {"Infused": frozenset({NURSE, PHYSICIAN, COURIER}), "Dispensed": frozenset({PHARMACIST})}
    narrowed = {"Infused": frozenset({NURSE, PHYSICIAN}), "Dispensed": frozenset()}
    assert differences(widened, hand) == ["Infused: production also lets ['courier'] sign it"]
    assert differences(narrowed, hand) == ["Dispensed: production no longer lets ['pharmacist'] sign it"]
    assert differences({**hand, "Teleported": frozenset({QP})}, hand) == ["Teleported is not in the hand table"]


def test_the_derived_event_types_of_the_hand_table_are_the_ones_the_domain_derives() -> None:
    assert {name for name, spec in EVENT_TYPES.items() if spec.derived_from is not None} == DERIVED
    assert set(STAFF_EVENT_TYPES) == STAFF_EVENTS
    assert set(PRINTED_NAME_EVENT_TYPES) == PRINTED_NAME_EVENTS
    assert set(HEADS_EVENT_TYPES) == LOG_EVENTS


def _some_meaning(event_type: str) -> Meaning:
    """A meaning that fits, so that the role is the first thing ``decide`` can refuse."""
    return EVENT_TYPES[event_type].meanings[0]


def _attempt(event_type: str, role: str) -> Callable[[], object]:
    actor = Actor(f"someone.{role}", f"Someone ({role})", role)
    ctx = make_ctx(actor, T0, _some_meaning(event_type))
    return lambda: decide(event_type, uuid4(), {}, ctx, lambda _: None)


@pytest.mark.parametrize("event_type", REQUESTED)
def test_the_domain_refuses_every_role_the_hand_table_does_not_name_and_lets_the_others_past(
    event_type: str,
) -> None:
    for role in ALL_ROLES:
        with pytest.raises(CustodyError) as caught:
            _attempt(event_type, role)()  # an empty payload on a missing aggregate: always refused
        refused_for_role = caught.value.rule == "role_not_allowed"
        assert refused_for_role == (role not in allowed(event_type)), (event_type, role, caught.value)
        if refused_for_role:
            assert isinstance(caught.value, RuleViolation)
            assert caught.value.field == "user"
            assert event_type in caught.value.message and repr(role) in caught.value.message


@pytest.mark.parametrize("event_type", sorted(STAFF_EVENTS))
def test_only_registrars_may_sign_a_staff_or_key_event(event_type: str) -> None:
    for role in ALL_ROLES:
        ctx = make_ctx(Actor(f"someone.{role}", "Someone", role), T0, Meaning.APPROVED)
        with pytest.raises(CustodyError) as caught:
            decide_staff(event_type, uuid4(), {}, ctx, lambda _: None)
        assert (caught.value.rule == "admin_only") == (role not in allowed(event_type)), (event_type, role)


# -- the hand table itself reads as the domain says ----------------------------------------------------


TRIAL_SITE_EVENTS = {
    "TrialSiteOpened", "TrialPrerequisiteAttested", "TrialStaffDesignated",
    "TrialSiteActivated", "TrialSiteSuspended", "TrialSiteClosed",
}  # fmt: skip
"""A site's readiness for a trial: the one thing a sponsor signs, for its own trials."""


def _signed_by(role: str) -> set[str]:
    return {name for name, roles in ROLES_BY_EVENT_TYPE.items() if role in roles}


def test_auditors_and_sponsors_sign_nothing() -> None:
    assert _signed_by(AUDITOR) == set() and _signed_by(SPONSOR) == TRIAL_SITE_EVENTS


def test_the_administrator_and_the_ledger_keep_the_registers_and_sign_no_clinical_step() -> None:
    registers = {
        "SiteRegistered", "AccreditationGranted", "AccreditationWithdrawn",
        "PathwayManagedElsewhereDeclared", "PathwayManagedElsewhereRevoked",
        "TrialRegistered", "SponsorUserAuthorised", "SponsorUserRevoked",
        "StaffMemberRegistered", "SigningKeyRegistered", "SigningKeyRevoked",
        "StaffQualificationRecorded", "StaffQualificationWithdrawn", "StaffSpecialtyRecorded", "PrintedNameClaimed",
    }  # fmt: skip
    # The site's four-eyes setting is the administrator's alone: a person answers for waiving a GMP rule.
    duty_settings = {"DutySegregationWaived", "DutySegregationRestored"}
    # So is the setting that lets conditioning be planned before a product's release is confirmed.
    duty_settings |= {"EarlyLymphodepletionAllowed", "EarlyLymphodepletionRevoked"}
    assert _signed_by(ADMIN) == registers | TRIAL_SITE_EVENTS | duty_settings
    # The ledger also signs what it derives when a product's pathway is kept in another ledger.
    # And, at each checkpoint, its commitment of every aggregate's head; and the temperature excursion it
    # finds in a receipt's data-logger figures.
    derived = {"PathwayManagedElsewhereApplied", "AggregateHeadsCommitted", "TemperatureExcursionRecorded"}
    # And what it reads in a shipper's logger file: the summary, the hold of every product in a shipper with an
    # excursion, and the deviation of a gap in the recording.
    derived |= {"ShipmentReadingsSummarised", "ProductQuarantined", "DeviationRecorded"}
    # And what it reads in an LN2 tank's logger file over a product's storage.
    derived |= {"StorageReadingsSummarised"}
    # And the alert its deadline scan raises when a running deadline is close to expiring.
    derived |= {"DeadlineAlertRaised"}
    # And the catalogue file in place when it is initialised, before any Qualified Person exists to approve it.
    initial = {"CatalogueChanged"}
    # But never a trial site's evidence: someone who can vouch for it signs each attestation.
    assert _signed_by(SYSTEM) == registers | (TRIAL_SITE_EVENTS - {"TrialPrerequisiteAttested"}) | derived | initial
    for name in registers:
        assert allowed(name) == {ADMIN, SYSTEM}, name


def test_each_step_is_signed_by_those_who_perform_it() -> None:
    assert {"ApheresisCollected", "BedsideCheckPerformed", "BedsideCheckWitnessed", "Thawed", "Infused"} <= (
        _signed_by(NURSE)
    )
    assert {"ShipmentReceived", "StoredInLN2", "Dispensed"} <= _signed_by(PHARMACIST)
    assert {"QcResultsRecorded", "ProductReleased", "BatchQcRecorded", "BatchReleased"} <= _signed_by(QP)
    assert allowed("CatalogueChanged") == {QP, SYSTEM}  # product specification: never the administrator
    assert "ShipmentHandedOver" in _signed_by(COURIER)
    decisions = {"PatientEnrolled", "RcpDecisionRecorded", "TreatmentDecisionProposed", "TreatmentDecisionCosigned"}
    assert decisions <= _signed_by(PHYSICIAN)
    for decision in (*decisions, "ExceptionalReleaseRequested", "LymphodepletionOverrideRecorded"):
        assert allowed(decision) == {PHYSICIAN}, decision


def test_release_is_the_qualified_persons_alone_and_dispensing_the_pharmacists_alone() -> None:
    for release in ("ProductReleased", "ExceptionalReleaseApproved", "BatchReleased", "QcResultsRecorded"):
        assert allowed(release) == {QP}, release
    assert allowed("Dispensed") == {PHARMACIST}


def test_a_courier_carries_and_raises_alarms_but_makes_no_clinical_or_pharmacy_decision() -> None:
    assert _signed_by(COURIER) == {
        "ShipmentDispatched", "ProductShipped", "ShipmentHandedOver", "ShipmentHandOverAccepted", "AnnotationAdded",
        "DeviationRecorded", "TemperatureExcursionRecorded", "IdentityMismatchRecorded", "EventCorrected",
    }  # fmt: skip


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_the_ledger_itself_commits_aggregate_heads(role: str) -> None:
    payload = {"tree_size": 3, "aggregates": 2, "map_root": "A" * 43 + "="}
    ctx = make_ctx(Actor(user_id=role, name=role, role=role), T0, meaning=Meaning.RECORDED)
    if role in allowed("AggregateHeadsCommitted"):
        [event] = decide_heads("AggregateHeadsCommitted", HEADS_AGGREGATE_ID, payload, ctx)
        assert event.payload == payload
    else:
        with pytest.raises(RuleViolation) as refused:
            decide_heads("AggregateHeadsCommitted", HEADS_AGGREGATE_ID, payload, ctx)
        assert (refused.value.rule, refused.value.field) == ("role_not_allowed", "user")
