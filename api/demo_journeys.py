"""The demonstration journeys, each a sequence of ordinary signed steps.

Every step goes through ``CustodyLedger.record`` exactly as `custody record`
or the HTTP API would; times are in the recent past, in order, so each rule
(windows, order, two-person bedside check) is exercised for real.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.errors import IdentityMismatch, ResolverIsReporter
from domain.identifiers import Coi, allocate_coi, product_id_for
from ledger.service import CustodyLedger

APHERESIS_SITE = "CHU-F9999 apheresis unit"
MANUFACTURER = "EU GMP cell-therapy facility"
PHARMACY = "CHU-F9999 PUI"
UNIT = "CHU-F9999 cell-therapy unit"
LN2_TANK, LN2_RACK, LN2_BOX = "LN2-TANK-1", "R3", "B12"


class Recorder:
    """Records steps as named demo users: the password at each user's first signature only."""

    def __init__(self, ledger: CustodyLedger, passwords: dict[str, str]) -> None:
        self.ledger = ledger
        self.passwords = passwords
        self.signed: set[str] = set()

    def __call__(self, user: str, event_type: str, target: UUID, when: datetime, meaning: str, **payload: Any) -> None:
        """One signed step."""
        password = None if user in self.signed else self.passwords[user]
        self.ledger.record(event_type, target, payload, user=user, meaning=meaning, password=password, occurred_at=when)
        self.signed.add(user)


def new_coi(facility: str, year: int) -> Coi:
    """A COI under this site's FIN with a random 6-character sequence."""
    return allocate_coi(facility, year, uuid.uuid4().hex[:6].upper())


def iso(moment: datetime) -> str:
    """ISO 8601 with offset, as payload timestamps are written."""
    return moment.isoformat()


def enrol_car_t(
    rec: Recorder, coi: Coi, pseudonym: str, indication: str, when: datetime, *, code: str = "ACADEMIC-CD19"
) -> UUID:
    """The physician enrols a patient's therapy event under a new COI."""
    product = product_id_for(coi)
    rec(
        "physician",
        "ProductEnrolled",
        product,
        when,
        "approved",
        coi=coi.value,
        product_kind="car_t",
        product_code=code,
        patient_pseudonym=pseudonym,
        indication=indication,
        treating_physician="physician",
        collection_site=APHERESIS_SITE,
        trial_sponsor="Academic sponsor (AP-HP)",
        trial_protocol="CART-AUTOIMMUNE-01",
        eu_ct_number="2025-500123-11-00",
    )
    return product


def apheresis(din: str, start: datetime, *, volume_ml: float = 245) -> dict[str, Any]:
    """What the nurse records of a four-hour leukapheresis started at ``start``: a bag of ``volume_ml`` mL."""
    return {
        "din": din, "site": APHERESIS_SITE, "volume_ml": volume_ml, "started_at": iso(start),
        "ended_at": iso(start + timedelta(hours=4)), "preservation": "fresh", "tnc_count": 1.2e10, "cd3_count": 4.1e9,
    }  # fmt: skip


def collect_and_manufacture(rec: Recorder, product: UUID, coi: Coi, din: str, start: datetime) -> datetime:
    """Apheresis, cold shipment to the manufacturer, manufacturing and QC; returns the QC time."""
    rec("nurse", "ApheresisCollected", product, start + timedelta(hours=4), "performed", **apheresis(din, start))
    shipment = uuid.uuid4()
    rec(
        "courier",
        "ShipmentDispatched",
        shipment,
        start + timedelta(hours=6),
        "performed",
        units=[str(product)],
        leg="to_manufacturer",
        from_site=APHERESIS_SITE,
        to_site=MANUFACTURER,
        courier="courier",
        shipper_id="CBX-2-8-0412",
        data_logger_id="LOG-7781",
        temperature_class="fresh_2_8c",
        seal_ids=["SEAL-55120"],
    )
    rec(
        "qp",
        "ShipmentReceived",
        shipment,
        start + timedelta(hours=22),
        "received",
        site=MANUFACTURER,
        received_units=[{"product_id": str(product), "scanned_coi": coi.value, "condition": "intact"}],
        seal_intact=True,
        data_logger_reviewed=True,
        **COLD_BOX_IN_RANGE,
    )
    lot = f"LOT-{coi.sequence}"
    rec(
        "qp",
        "ManufacturingStarted",
        product,
        start + timedelta(days=1, hours=2),
        "performed",
        lot=lot,
        site=MANUFACTURER,
    )
    rec(
        "qp",
        "ManufacturingCompleted",
        product,
        start + timedelta(days=12),
        "performed",
        lot=lot,
        bag_ids=[f"{lot}-B1", f"{lot}-B2"],
        dose_description="1.0 × 10^6 CAR+ T cells/kg",
    )
    return start + timedelta(days=19)


def qc(rec: Recorder, product: UUID, when: datetime, *, viability: int = 92) -> None:
    """Release testing on the whole default CAR-T panel, with measured values; viability below 80 % fails."""
    tests = [
        {"name": "sterility", "result": "no growth", "specification": "no growth", "in_spec": True},
        {"name": "endotoxin", "result": "0.4 EU/mL", "specification": "< 5 EU/mL", "in_spec": True,
         "value": 0.4, "unit": "EU/mL"},
        {"name": "mycoplasma", "result": "negative", "specification": "negative", "in_spec": True},
        {"name": "viability", "result": f"{viability} %", "specification": ">= 80 %", "in_spec": viability >= 80,
         "value": viability, "unit": "%"},
        {"name": "CAR expression", "result": "38 %", "specification": ">= 15 %", "in_spec": True,
         "value": 38, "unit": "%"},
        {"name": "vector copy number", "result": "1.6 copies/cell", "specification": "<= 5 copies/cell",
         "in_spec": True, "value": 1.6, "unit": "copies/cell"},
        {"name": "potency", "result": "conforms", "specification": "conforms", "in_spec": True},
    ]  # fmt: skip
    rec("qc", "QcResultsRecorded", product, when, "reviewed", tests=tests)  # not the releasing QP: four eyes


COLD_BOX_IN_RANGE = {"min_c": 3.4, "max_c": 6.9, "excursion_min": 0}
"""What a 2–8 °C box's data logger reads after a journey that went well."""
LN2_SHIPPER_IN_RANGE = {"min_c": -192.5, "max_c": -171.0, "excursion_min": 0}
"""An LN2 dry shipper's logger, vapour phase all the way (below every catalogue storage limit)."""
LN2_SHIPPER_WARMED = {"min_c": -190.0, "max_c": -96.0, "excursion_min": 45}
"""An LN2 dry shipper that warmed to -96 °C for 45 minutes: the ledger records the excursion and holds the product."""


IN_TRANSIT = timedelta(hours=20)
"""How long an LN2 dry shipper takes from the manufacturer to the pharmacy in the demo."""


def ship_to_pharmacy(
    rec: Recorder,
    products: list[tuple[UUID, Coi]],
    when: datetime,
    *,
    temperature_ok: bool = True,
    origin: str = MANUFACTURER,
) -> None:
    """Cryopreserved shipment in an LN2 dry shipper, received and checked by the pharmacist."""
    shipment = dispatch_to_pharmacy(rec, products, when, origin=origin)
    receipt = pharmacy_receipt(products, temperature_ok=temperature_ok)
    rec("pharmacist", "ShipmentReceived", shipment, when + IN_TRANSIT, "received", **receipt)


def dispatch_to_pharmacy(
    rec: Recorder, products: list[tuple[UUID, Coi]], when: datetime, *, origin: str = MANUFACTURER
) -> UUID:
    """The courier takes the products to the pharmacy in a sealed LN2 dry shipper; returns the shipment."""
    shipment = uuid.uuid4()
    rec(
        "courier",
        "ShipmentDispatched",
        shipment,
        when,
        "performed",
        units=[str(p) for p, _ in products],
        leg="to_pharmacy",
        from_site=origin,
        to_site=PHARMACY,
        courier="courier",
        shipper_id="LN2-DS-0098",
        data_logger_id="LOG-9120",
        temperature_class="ln2_dry_shipper",
        seal_ids=["SEAL-88001"],
    )
    return shipment


def pharmacy_receipt(products: list[tuple[UUID, Coi]], *, temperature_ok: bool) -> dict[str, Any]:
    """What the pharmacist records on receiving an LN2 dry shipper: the data logger's figures and the checks.

    ``temperature_ok`` False sends a warmed shipper's figures (and declares the excursion,
    which agrees with them).
    """
    figures = LN2_SHIPPER_IN_RANGE if temperature_ok else LN2_SHIPPER_WARMED
    return {
        "site": PHARMACY,
        "received_units": [{"product_id": str(p), "scanned_coi": c.value, "condition": "intact"} for p, c in products],
        "seal_intact": True,
        "temperature_ok": temperature_ok,
        "data_logger_reviewed": True,
        "certificate_of_release_checked": True,
        **figures,
    }


def store(rec: Recorder, product: UUID, when: datetime, position: str) -> None:
    """Vapour-phase LN2 storage at the pharmacy."""
    rec(
        "pharmacist",
        "StoredInLN2",
        product,
        when,
        "performed",
        site=PHARMACY,
        tank=LN2_TANK,
        rack=LN2_RACK,
        box=LN2_BOX,
        position=position,
        temperature_c=-180.0,
    )


def administer(
    rec: Recorder,
    product: UUID,
    coi: Coi,
    pseudonym: str,
    bag: str,
    when: datetime,
    *,
    next_bed: dict[str, str] | None = None,
) -> datetime:
    """Dispense, thaw, two-person bedside check and infusion; returns the infusion end.

    Each bedside check scans the COI label, the bag's own label and the patient's
    wristband (compared by the ledger with the sealed identity). With ``next_bed`` (the
    wristband of the patient in the next bed), the physician's check first scans it: a
    near miss, which the physician may not resolve, and a pharmacist does.
    """
    rec(
        "pharmacist",
        "Dispensed",
        product,
        when,
        "verified",
        to_unit=UNIT,
        scanned_coi=coi.value,
        scanned_patient=pseudonym,
        release_verified=True,
    )
    thaw_start = when + timedelta(hours=1)
    thawed = thaw_start + timedelta(minutes=4)
    rec(
        "nurse",
        "Thawed",
        product,
        thawed,
        "performed",
        method="dry_thawer",
        started_at=iso(thaw_start),
        completed_at=iso(thawed),
        bag_id=bag,
    )
    scans = {"scanned_coi": coi.value, "scanned_bag_id": bag, **wristband_of(rec.ledger, pseudonym)}
    rec("nurse", "BedsideCheckPerformed", product, thawed + timedelta(minutes=6), "performed", **scans)
    delay = 0
    if next_bed is not None:
        near_miss(rec, product, {**scans, **next_bed}, thawed + timedelta(minutes=7))
        delay = 3
    rec("physician", "BedsideCheckWitnessed", product, thawed + timedelta(minutes=7 + delay), "witnessed", **scans)
    start = thawed + timedelta(minutes=10 + delay)
    end = start + timedelta(minutes=12)
    rec(
        "nurse",
        "Infused",
        product,
        end,
        "performed",
        started_at=iso(start),
        ended_at=iso(end),
        volume_ml=68,
        bag_ids=[bag],
        observations="well tolerated",
    )
    return end


def wristband_of(ledger: CustodyLedger, pseudonym: str) -> dict[str, str]:
    """What a bedside check scans from the patient's wristband: the hospital number and birth date, as printed."""
    identity = ledger.identities.get(pseudonym)
    return {"wristband_hospital_number": identity.hospital_number, "wristband_birth_date": identity.birth_date}


def near_miss(rec: Recorder, product: UUID, scans: dict[str, str], when: datetime) -> None:
    """The physician scans the wristband of the patient in the next bed: refused and recorded as a near miss.

    The physician then tries to resolve it and is refused (whoever scanned cannot explain
    the near miss away); a pharmacist resolves it.
    """
    try:
        rec("physician", "BedsideCheckWitnessed", product, when, "witnessed", **scans)
    except IdentityMismatch:
        resolution = "wristband of the patient in the next bed scanned; the right patient identified and re-scanned"
        try:
            rec(
                "physician", "MismatchResolved", product, when + timedelta(minutes=1), "approved", resolution=resolution
            )
        except ResolverIsReporter:
            rec(
                "pharmacist",
                "MismatchResolved",
                product,
                when + timedelta(minutes=2),
                "approved",
                resolution=resolution,
            )
        else:  # the demo is wrong if the scanner could resolve their own near miss
            raise AssertionError("the physician resolved their own near miss") from None
    else:  # the demo is wrong if a mismatching wristband were accepted
        raise AssertionError("a mismatching wristband was accepted at the bedside")
