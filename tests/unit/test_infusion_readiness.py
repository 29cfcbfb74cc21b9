"""Before a thaw: every rule that would refuse the infusion now, each alone, all together, and none.

Each case builds the product through the domain's own events (or, for a patient the
ledger holds no pathway for, hides the pathway from the loader) and checks the rule
codes and remedies written out by hand here. The thaw then goes ahead only when its
payload names exactly those rule codes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from domain.aggregate import Aggregate
from domain.errors import RuleViolation
from domain.events import Context
from domain.infusion_readiness import Blocker, infusion_blockers
from tests.unit.domain_fixtures import (
    COI,
    INFUSION_UNIT,
    NURSE,
    PHARMACIST,
    PHYSICIAN,
    PRODUCT_ID,
    SITES,
    CarTJourney,
    FakeLedger,
    iso,
)
from tests.unit.pathway_fixtures import PATHWAY_ID, make_ready, register_site, walk_pathway

SCANNED_COI = "W9999 26 000002 B"
"""Another product's COI, as a near miss would have scanned it (the mismatch record keeps it as scanned)."""


def blockers(
    ledger: FakeLedger, at: datetime, *, bedside_minutes: int | None = None, hide_pathway: bool = False
) -> list[Blocker]:
    """What the page would show at ``at`` (the clock), for the test product."""

    def without_pathway(aggregate_id: UUID) -> Aggregate | None:
        return None if aggregate_id == PATHWAY_ID else ledger.load(aggregate_id)

    load: Callable[[UUID], Aggregate | None] = without_pathway if hide_pathway else ledger.load
    ctx = Context(actor=NURSE, occurred_at=at, now=at, bedside_check_valid_minutes=bedside_minutes)
    return infusion_blockers(ledger.product(), load, ctx)


def rules(found: list[Blocker]) -> list[str]:
    return [blocker.rule for blocker in found]


@pytest.fixture
def ledger() -> FakeLedger:
    return make_ready(FakeLedger())


def dispensed(ledger: FakeLedger, **journey: object) -> CarTJourney:
    return CarTJourney(ledger, **journey).until("Dispensed")  # type: ignore[arg-type]


def test_a_dispensed_product_of_a_conditioned_patient_on_an_accredited_unit_has_no_blocker(ledger: FakeLedger) -> None:
    journey = dispensed(ledger)
    assert blockers(ledger, journey.at) == []


def test_a_suspension_blocks_and_points_to_the_mismatch_resolution(ledger: FakeLedger) -> None:
    journey = dispensed(ledger)
    mismatch = {"step": "label check", "field": "coi", "expected": COI, "scanned": SCANNED_COI}
    ledger.record("IdentityMismatchRecorded", PRODUCT_ID, mismatch, PHARMACIST, journey.at)
    [blocker] = blockers(ledger, journey.at)
    assert blocker.rule == "product_suspended"
    assert blocker.remedies == ("MismatchResolved",)
    assert "suspended after an identity mismatch" in blocker.message


def test_a_quarantine_blocks_and_points_to_lifting_it_or_an_exceptional_release(ledger: FakeLedger) -> None:
    journey = dispensed(ledger)
    ledger.record("ProductQuarantined", PRODUCT_ID, {"reason": "unit fridge alarm"}, PHARMACIST, journey.at)
    [blocker] = blockers(ledger, journey.at)
    assert blocker.rule == "product_quarantined"
    assert blocker.remedies == ("QuarantineLifted", "ExceptionalReleaseRequested")
    assert "unit fridge alarm" in blocker.message


def test_an_open_major_deviation_blocks_until_assessed_for_infusion_not_for_thaw_alone(ledger: FakeLedger) -> None:
    journey = dispensed(ledger)
    deviation = {"description": "LN2 alarm acknowledged late", "severity": "major"}
    ledger.record("DeviationRecorded", PRODUCT_ID, deviation, PHARMACIST, journey.at)
    version = len(ledger.histories[PRODUCT_ID])
    [blocker] = blockers(ledger, journey.at)
    assert blocker.rule == "open_deviation_blocks_step"
    assert blocker.remedies == ("DeviationImpactAssessed", "DeviationClosed")
    assessed = {
        "deviation_version": version,
        "steps": ["thaw"],
        "assessment": "cells unaffected",
        "assessment_ref": "IA-1",
    }
    ledger.record("DeviationImpactAssessed", PRODUCT_ID, assessed, PHYSICIAN, journey.at)
    assert rules(blockers(ledger, journey.at)) == ["open_deviation_blocks_step"]
    ledger.record("DeviationImpactAssessed", PRODUCT_ID, {**assessed, "steps": ["infusion"]}, PHYSICIAN, journey.at)
    assert blockers(ledger, journey.at) == []


def test_a_minor_deviation_does_not_block(ledger: FakeLedger) -> None:
    journey = dispensed(ledger)
    deviation = {"description": "label printed twice", "severity": "minor"}
    ledger.record("DeviationRecorded", PRODUCT_ID, deviation, PHARMACIST, journey.at)
    assert blockers(ledger, journey.at) == []


def test_a_withdrawn_consent_blocks_with_no_way_around(ledger: FakeLedger) -> None:
    journey = dispensed(ledger)
    ledger.record("ConsentWithdrawn", PATHWAY_ID, {"withdrawn_on": journey.at.date().isoformat()}, NURSE, journey.at)
    [blocker] = blockers(ledger, journey.at)
    assert blocker.rule == "consent_withdrawn"
    assert blocker.remedies == ()


def test_a_patient_the_ledger_holds_no_pathway_for_blocks(ledger: FakeLedger) -> None:
    journey = dispensed(ledger)
    [blocker] = blockers(ledger, journey.at, hide_pathway=True)
    assert blocker.rule == "pathway_required"
    assert "no care pathway" in blocker.message


def test_no_lymphodepletion_blocks_and_points_first_to_the_physicians_override(ledger: FakeLedger) -> None:
    ledger = FakeLedger()
    for code, scope in SITES.items():
        register_site(ledger, code, scope)
    walk_pathway(ledger)
    journey = CarTJourney(ledger, conditioned=False).until("Dispensed")
    [blocker] = blockers(ledger, journey.at)
    assert blocker.rule == "lymphodepletion_missing"
    assert blocker.remedies == ("LymphodepletionOverrideRecorded", "LymphodepletionRecorded")
    override = {"reason": "conditioning given at the referring hospital; discharge letter on file"}
    ledger.record("LymphodepletionOverrideRecorded", PRODUCT_ID, override, PHYSICIAN, journey.at)
    assert blockers(ledger, journey.at) == []


def test_an_infusion_day_past_kymriahs_14_days_after_lymphodepletion_blocks(ledger: FakeLedger) -> None:
    journey = dispensed(ledger)  # conditioning ended 5 days before the dispense
    assert blockers(ledger, journey.at + timedelta(days=9)) == []
    [blocker] = blockers(ledger, journey.at + timedelta(days=10))
    assert blocker.rule == "lymphodepletion_window"
    assert "15 days after lymphodepletion ended" in blocker.message
    assert blocker.remedies == ("LymphodepletionOverrideRecorded",)


def test_an_infusion_unit_not_accredited_for_infusion_blocks_once_the_product_is_on_it() -> None:
    ledger = FakeLedger()
    for code, scope in SITES.items():
        register_site(ledger, code, ["collection"] if code == INFUSION_UNIT else scope)
    walk_pathway(ledger)
    journey = CarTJourney(ledger).until("LymphodepletionRecorded")
    assert (
        blockers(ledger, journey.at + timedelta(days=3)) == []
    )  # at the pharmacy, where it will be infused is not known yet
    journey.until("Dispensed")
    [blocker] = blockers(ledger, journey.at)
    assert blocker.rule == "site_not_accredited"
    assert blocker.remedies == ("AccreditationGranted",)


def test_a_thawed_bag_past_kymriahs_30_minutes_blocks_and_points_to_not_infused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Thawed")
    thawed = journey.thaw_completed_at
    assert blockers(ledger, thawed + timedelta(minutes=30)) == []
    [blocker] = blockers(ledger, thawed + timedelta(minutes=31))
    assert blocker.rule == "thaw_to_infusion_window_exceeded"
    assert blocker.remedies == ("NotInfused",)


def test_bedside_checks_older_than_their_validity_block(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    first = journey.at - timedelta(minutes=2)  # the first check was made 2 minutes before the witness
    assert blockers(ledger, first + timedelta(minutes=10), bedside_minutes=10) == []
    [blocker] = blockers(ledger, first + timedelta(minutes=11), bedside_minutes=10)
    assert blocker.rule == "bedside_check_expired"
    assert blocker.remedies == ("BedsideCheckPerformed",)


def test_a_first_bedside_check_lapsed_before_its_witness_blocks(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckPerformed")
    assert blockers(ledger, journey.at + timedelta(minutes=5), bedside_minutes=5) == []
    assert rules(blockers(ledger, journey.at + timedelta(minutes=6), bedside_minutes=5)) == ["bedside_check_expired"]


def test_every_standing_reason_is_listed_at_once_holds_first(ledger: FakeLedger) -> None:
    journey = dispensed(ledger)
    mismatch = {"step": "label check", "field": "coi", "expected": COI, "scanned": SCANNED_COI}
    ledger.record("IdentityMismatchRecorded", PRODUCT_ID, mismatch, PHARMACIST, journey.at)
    ledger.record("ProductQuarantined", PRODUCT_ID, {"reason": "unit fridge alarm"}, PHARMACIST, journey.at)
    ledger.record("ConsentWithdrawn", PATHWAY_ID, {"withdrawn_on": journey.at.date().isoformat()}, NURSE, journey.at)
    found = blockers(ledger, journey.at + timedelta(days=10))
    assert rules(found) == ["product_suspended", "product_quarantined", "consent_withdrawn", "lymphodepletion_window"]


# -- the thaw ------------------------------------------------------------------------------------


def thaw(journey: CarTJourney, **extra: object) -> dict[str, object]:
    at = journey.at
    return {
        "method": "dry_thawer",
        "bag_id": "BAG-1",
        "started_at": iso(at - timedelta(minutes=20)),
        "completed_at": iso(at - timedelta(minutes=2)),
        **extra,
    }


def unconditioned(ledger: FakeLedger) -> CarTJourney:
    return dispensed(ledger, conditioned=False)


def test_a_thaw_while_infusion_would_be_refused_is_refused_without_the_acknowledgement(ledger: FakeLedger) -> None:
    journey = unconditioned(ledger)
    journey.at += timedelta(hours=1)
    error = ledger.refuse(
        RuleViolation, field="payload.infusion_blockers_acknowledged", rule="thaw_blockers_not_acknowledged",
        message="missing: lymphodepletion_missing", event_type="Thawed", aggregate_id=PRODUCT_ID,
        payload=thaw(journey), actor=NURSE, at=journey.at,
    )  # fmt: skip
    assert "no lymphodepletion is recorded" in error.message


@pytest.mark.parametrize(
    ("acknowledged", "message"),
    [
        ([], "missing: lymphodepletion_missing"),
        (["consent_withdrawn"], "missing: lymphodepletion_missing"),
        (["lymphodepletion_missing", "product_quarantined"], "names product_quarantined, which does not refuse"),
    ],
)
def test_a_thaw_acknowledging_other_reasons_than_the_standing_ones_is_refused(
    ledger: FakeLedger, acknowledged: list[str], message: str
) -> None:
    journey = unconditioned(ledger)
    journey.at += timedelta(hours=1)
    ledger.refuse(
        RuleViolation, field="payload.infusion_blockers_acknowledged", rule="thaw_blockers_not_acknowledged",
        message=message, event_type="Thawed", aggregate_id=PRODUCT_ID,
        payload=thaw(journey, infusion_blockers_acknowledged=acknowledged), actor=NURSE, at=journey.at,
    )  # fmt: skip


def test_a_thaw_acknowledging_a_reason_when_none_stands_is_refused(ledger: FakeLedger) -> None:
    journey = dispensed(ledger)
    journey.at += timedelta(hours=1)
    ledger.refuse(
        RuleViolation, field="payload.infusion_blockers_acknowledged", rule="thaw_blockers_not_acknowledged",
        message="none does: leave it empty", event_type="Thawed", aggregate_id=PRODUCT_ID,
        payload=thaw(journey, infusion_blockers_acknowledged=["lymphodepletion_missing"]), actor=NURSE, at=journey.at,
    )  # fmt: skip


def test_a_thaw_naming_the_standing_reasons_is_recorded_with_them(ledger: FakeLedger) -> None:
    journey = unconditioned(ledger)
    journey.at += timedelta(hours=1)
    payload = thaw(journey, infusion_blockers_acknowledged=["lymphodepletion_missing"])
    ledger.record("Thawed", PRODUCT_ID, payload, NURSE, journey.at)
    [recorded] = [r for r in ledger.histories[PRODUCT_ID] if r.type == "Thawed"]
    assert recorded.payload["infusion_blockers_acknowledged"] == ["lymphodepletion_missing"]
    assert ledger.product().state == "thawed"


def test_a_thaw_with_nothing_blocking_takes_an_empty_acknowledgement(ledger: FakeLedger) -> None:
    journey = dispensed(ledger)
    journey.at += timedelta(hours=1)
    ledger.record("Thawed", PRODUCT_ID, thaw(journey, infusion_blockers_acknowledged=[]), NURSE, journey.at)
    assert ledger.product().state == "thawed"


def test_a_second_bag_thawed_after_the_first_ones_window_names_it(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Thawed")
    later = journey.thaw_completed_at + timedelta(minutes=45)
    second = {
        "method": "dry_thawer",
        "bag_id": "BAG-2",
        "started_at": iso(later - timedelta(minutes=20)),
        "completed_at": iso(later - timedelta(minutes=2)),
    }
    ledger.refuse(
        RuleViolation, field="payload.infusion_blockers_acknowledged", rule="thaw_blockers_not_acknowledged",
        message="missing: thaw_to_infusion_window_exceeded", event_type="Thawed", aggregate_id=PRODUCT_ID,
        payload=second, actor=NURSE, at=later,
    )  # fmt: skip
    acknowledged = {**second, "infusion_blockers_acknowledged": ["thaw_to_infusion_window_exceeded"]}
    ledger.record("Thawed", PRODUCT_ID, acknowledged, NURSE, later)
    assert ledger.product().thawed_bags == ("BAG-1", "BAG-2")
