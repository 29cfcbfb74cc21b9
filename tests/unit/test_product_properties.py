"""Whatever commands arrive, in whatever order, the recorded history never contradicts itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain_fixtures import (
    COI,
    COURIER,
    DIN,
    MANUFACTURER,
    NURSE,
    PHARMACIST,
    PHARMACY,
    PHYSICIAN,
    PRODUCT_ID,
    QP,
    SECOND_DIN,
    SECOND_NURSE,
    T0,
    FakeLedger,
    bedside,
    dispatch_payload,
    dispense,
    enrolment,
    iso,
    qc,
    shipment_receipt,
    storage,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.errors import CustodyError, IdentityMismatch
from domain.events import Actor
from domain.product import TherapyProduct
from domain.registry import EVENT_TYPES

SHIPMENTS = [UUID(int=1), UUID(int=2), UUID(int=3)]
Command = tuple[str, UUID, dict[str, Any], Actor]


def _apheresis(din: str, preservation: str) -> Callable[[datetime], Command]:
    def make(at: datetime) -> Command:
        payload = {
            "din": din,
            "site": "CHU",
            "volume_ml": 200,
            "preservation": preservation,
            "started_at": iso(at - timedelta(hours=3)),
            "ended_at": iso(at - timedelta(hours=1)),
        }
        return ("ApheresisCollected", PRODUCT_ID, payload, NURSE)

    return make


def _fixed(
    event_type: str, payload: dict[str, Any], actor: Actor, target: UUID = PRODUCT_ID
) -> Callable[[datetime], Command]:
    return lambda at: (event_type, target, payload, actor)


def _thaw(at: datetime) -> Command:
    payload = {"method": "dry_thawer", "started_at": iso(at - timedelta(minutes=15)), "completed_at": iso(at)}
    return ("Thawed", PRODUCT_ID, payload, NURSE)


def _infuse(delay_min: int) -> Callable[[datetime], Command]:
    def make(at: datetime) -> Command:
        start = at - timedelta(minutes=delay_min)
        payload = {
            "started_at": iso(start),
            "ended_at": iso(start + timedelta(minutes=5)),
            "volume_ml": 60,
            "bag_ids": ["BAG-1"],
        }
        return ("Infused", PRODUCT_ID, payload, NURSE)

    return make


def _dispatch(shipment: UUID, leg: str, temperature_class: str) -> Callable[[datetime], Command]:
    to_site = MANUFACTURER if leg == "to_manufacturer" else PHARMACY
    return _fixed(
        "ShipmentDispatched",
        dispatch_payload([PRODUCT_ID], leg, to_site, temperature_class),
        COURIER,
        shipment,
    )


def _receive(shipment: UUID, site: str, coi: str = COI, temperature_ok: bool = True) -> Callable[[datetime], Command]:
    extra: dict[str, Any] = {} if temperature_ok else {"temperature_ok": False, "max_c": 12.0, "excursion_min": 30}
    return _fixed("ShipmentReceived", shipment_receipt([PRODUCT_ID], site, coi, **extra), PHARMACIST, shipment)


OTHER_COI = "CHA99992600009Z"
COMMANDS: list[Callable[[datetime], Command]] = [
    _fixed("ProductEnrolled", enrolment(), PHYSICIAN),
    _apheresis(DIN, "fresh"),
    _apheresis(SECOND_DIN, "cryopreserved"),
    *(_dispatch(s, "to_manufacturer", "fresh_2_8c") for s in SHIPMENTS),
    *(_dispatch(s, "to_pharmacy", "ln2_dry_shipper") for s in SHIPMENTS),
    *(_receive(s, MANUFACTURER) for s in SHIPMENTS),
    *(_receive(s, PHARMACY) for s in SHIPMENTS),
    _receive(SHIPMENTS[0], PHARMACY, OTHER_COI),
    _receive(SHIPMENTS[1], PHARMACY, temperature_ok=False),
    _fixed("ManufacturingStarted", {"lot": "LOT-1", "site": MANUFACTURER}, QP),
    _fixed("ManufacturingCompleted", {"lot": "LOT-1", "bag_ids": ["BAG-1"], "dose_description": "d"}, QP),
    _fixed("ManufacturingFailed", {"reason": "no expansion"}, QP),
    _fixed("QcResultsRecorded", qc(True), QP),
    _fixed("QcResultsRecorded", qc(False), QP),
    _fixed("ProductReleased", {"certificate_id": "C"}, QP),
    _fixed("ExceptionalReleaseRequested", {"reason": "r", "risk_assessment_ref": "RA"}, PHYSICIAN),
    _fixed("ExceptionalReleaseApproved", {"certificate_id": "C2", "notified": ["sponsor"]}, QP),
    _fixed("StoredInLN2", storage(), PHARMACIST),
    _fixed("Dispensed", dispense(), PHARMACIST),
    _fixed("Dispensed", dispense(OTHER_COI), PHARMACIST),
    _thaw,
    _fixed("BedsideCheckPerformed", bedside(), NURSE),
    _fixed("BedsideCheckPerformed", bedside(), SECOND_NURSE),
    _fixed("BedsideCheckWitnessed", bedside(), NURSE),
    _fixed("BedsideCheckWitnessed", bedside(), SECOND_NURSE),
    _fixed("BedsideCheckWitnessed", bedside(patient="PSN-OTHER"), SECOND_NURSE),
    _infuse(5),
    _infuse(45),
    _fixed("NotInfused", {"reason": "patient_condition", "detail": "sepsis"}, PHYSICIAN),
    _fixed("ProductQuarantined", {"reason": "doubt"}, PHARMACIST),
    _fixed("QuarantineLifted", {"reason": "ok", "assessment_ref": "QA"}, PHARMACIST),
    _fixed("MismatchResolved", {"resolution": "misread"}, PHARMACIST),
    _fixed("RecallNotified", {"recall_ref": "RC", "reason": "vector"}, PHARMACIST),
    _fixed("ProductDestroyed", {"reason": "r", "method": "m", "waste_stream": "gmo"}, PHARMACIST),
    _fixed("ReceiptRejected", {"reason": "warm"}, PHARMACIST),
    _fixed("AnnotationAdded", {"text": "note"}, PHARMACIST),
]
# The happy path, so random runs often get far along the chain.
HAPPY = [0, 1, 3, 9, 17, 18, 20, 22, 7, 13, 25, 26, 28, 29, 32, 34]


def run(ledger: FakeLedger, steps: list[tuple[int, int]]) -> None:
    """Apply commands; a refusal records nothing, except the near miss an identity mismatch leaves."""
    at = T0
    for index, minutes in steps:
        at += timedelta(minutes=minutes)
        event_type, target, payload, actor = COMMANDS[index](at)
        try:
            ledger.record(event_type, target, payload, actor, at)
        except IdentityMismatch as mismatch:
            ledger.store(mismatch.safety_events, actor)
        except CustodyError:
            continue


def check_history(ledger: FakeLedger) -> None:
    """Invariants every accepted history keeps."""
    records = ledger.histories.get(PRODUCT_ID, [])
    assert [r.version for r in records] == list(range(1, len(records) + 1))
    folded = TherapyProduct(PRODUCT_ID)
    for position, record in enumerate(records):
        if record.type in (
            "Dispensed",
            "Thawed",
            "Infused",
            "BedsideCheckPerformed",
            "BedsideCheckWitnessed",
        ):
            assert not folded.quarantined and not folded.suspended, record.type
        if folded.is_terminal:
            assert EVENT_TYPES[record.type].annotation, record.type
        if record.type == "Infused":
            checks = [r for r in records[:position] if r.type.startswith("BedsideCheck")]
            assert {r.type for r in checks} == {"BedsideCheckPerformed", "BedsideCheckWitnessed"}
            assert len({r.actor.user_id for r in checks}) == 2
            assert folded.released and folded.thaw_completed_at is not None
        folded.apply(record)
    replayed = ledger.load(PRODUCT_ID)
    if records:
        assert isinstance(replayed, TherapyProduct)
        assert vars(replayed) == vars(folded)


step = st.tuples(st.integers(0, len(COMMANDS) - 1), st.integers(1, 600))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=40), st.lists(step, max_size=20))
def test_random_commands_never_leave_a_product_contradicting_its_history(
    noise: list[tuple[int, int]], more: list[tuple[int, int]]
) -> None:
    ledger = FakeLedger()
    happy = [(index, 5) for index in HAPPY]
    # Interleave the happy path with random commands so rules deep in the chain are exercised.
    mixed = [item for pair in zip(happy, noise + [(0, 1)] * len(happy), strict=False) for item in pair] + more
    run(ledger, mixed)
    check_history(ledger)
    product = ledger.load(PRODUCT_ID)
    event(f"final state: {getattr(product, 'state', None)}")
