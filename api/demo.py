"""`custody demo`: a realistic data set recorded through the same commands users use.

Four journeys: an SLE patient's autologous CAR-T from enrolment to follow-up
(with a near miss at the bedside: the physician scans the wristband of the patient in
the next bed, may not resolve it, and a pharmacist does); a systemic sclerosis patient's MSC
doses from one bank batch, one infused and one still in LN2; a vasculitis
patient's CAR-T whose return shipment had a temperature excursion, released by
exceptional release; and an inflammatory myopathy patient whose product had
out-of-specification viability and awaits the physician's decision. Before them,
api/demo_pathway records the accredited sites, the trial and each patient's care
pathway (eligible, deferred, refused for an old evaluation), which collection and
infusion require.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import timedelta
from typing import Any

from api import demo_custody, demo_pathway, demo_trial_sites
from api import demo_journeys as j
from domain.identifiers import Coi, product_id_for
from domain.staff import staff_id_for
from ledger.identity_store import PatientIdentity
from ledger.ledger_meta import LEDGER_USER
from ledger.merkle_log import checkpoint
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import register_staff

DEMO_FILE = "demo.json"
USERS = {
    "nurse": ("Claire Martin", "nurse"),
    "physician": ("Dr Anne Durand", "physician"),
    "pharmacist": ("Marc Petit", "pharmacist"),
    "qp": ("Julie Moreau", "qp"),
    "qc": ("Sophie Marchand", "qp"),
    "courier": ("Paul Roux", "courier"),
    "sponsor": ("Sophie Lambert", "sponsor"),
    "auditor": ("Eve Blanc", "auditor"),
    **demo_pathway.USERS,
}
PATIENTS = {
    "PSN-SLE-0001": PatientIdentity("DUPONT", "Marie", "1988-04-12", "IPP-40021"),
    "PSN-SSC-0002": PatientIdentity("LEROY", "Nadia", "1975-09-30", "IPP-40022"),
    "PSN-VAS-0003": PatientIdentity("GARNIER", "Paul", "1969-01-05", "IPP-40023"),
    "PSN-MYO-0004": PatientIdentity("FAURE", "Inès", "1991-07-21", "IPP-40024"),
}


def _product_count(ledger: CustodyLedger) -> int:
    return sum(1 for _ in ledger.store.scan(topics=("ProductEnrolled",)))


def record_demo(settings: Settings, *, as_json: bool, if_empty: bool) -> int:
    """Register the demo staff and record every journey; print what was made."""
    saved = settings.home / DEMO_FILE
    ledger = CustodyLedger(settings)
    try:
        if if_empty and _product_count(ledger):
            summary = json.loads(saved.read_text()) if saved.exists() else {"products": [], "patients": [], "users": {}}
            _print(summary, as_json, note="the ledger already holds products: demo not recorded again")
            return 0
        summary = _record(ledger, settings)
        checkpoint(ledger)  # the demo ends with a signed checkpoint over everything it recorded
    finally:
        ledger.close()
    fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(summary, handle, indent=2)
    _print(summary, as_json, note=f"demo recorded; users and passwords saved in {saved}")
    return 0


def _print(summary: dict[str, Any], as_json: bool, note: str) -> None:
    if as_json:
        print(json.dumps(summary))
        return
    print(note)
    print(f"products: {', '.join(summary['products'])}")
    print(f"patients: {', '.join(summary['patients'])}")
    print("users: " + ", ".join(f"{user} / {password}" for user, password in summary["users"].items()))
    for refusal in summary.get("refused", []):
        print(f"refused, as it must be: {refusal}")


def _register_users(ledger: CustodyLedger) -> dict[str, str]:
    passwords = {}
    for username, (name, role) in USERS.items():
        password = f"{username}-demo-pass"
        if ledger.load(staff_id_for(username)) is None:
            register_staff(ledger, username, name, role, password, registrar=LEDGER_USER)
        passwords[username] = password
    return passwords


def _record(ledger: CustodyLedger, settings: Settings) -> dict[str, Any]:
    passwords = _register_users(ledger)
    identities = ledger.identities
    now = ledger.clock.now()
    for pseudonym, identity in PATIENTS.items():
        try:
            identities.get(pseudonym)
        except Exception:  # not stored yet (first demo on this ledger)
            identities.put(pseudonym, identity, now)
    rec = j.Recorder(ledger, passwords)
    demo_pathway.record_registries(rec, now)
    demo_pathway.record_pathways(rec, now)
    year = now.year % 100
    facility = settings.facility
    products = [
        _sle_car_t(rec, facility, year, now),
        *_ssc_msc(rec, facility, year, now),
        _vasculitis_excursion(rec, facility, year, now),
        _myopathy_out_of_spec(rec, facility, year, now),
    ]
    refusals = demo_custody.record_refusals(rec, now, stored=products[-2])
    refusals += demo_trial_sites.record_unready_site(rec, demo_pathway.TRIAL_PROTOCOL, now, "PSN-VAS-0003")
    admin_file = settings.home / "admin-password.txt"
    users = dict(passwords)
    if admin_file.exists():
        users["admin"] = admin_file.read_text().strip()
    return {"products": [str(p) for p in products], "patients": list(PATIENTS), "users": users, "refused": refusals}


def _released_car_t(
    rec: j.Recorder, facility: str, year: int, start: Any, pseudonym: str, indication: str, din: str
) -> tuple[uuid.UUID, Coi, Any]:
    """Enrolment, apheresis, manufacturing, in-spec QC and QP release; returns product, COI, release time."""
    coi = j.new_coi(facility, year)
    product = j.enrol_car_t(rec, coi, pseudonym, indication, start)
    qc_at = j.collect_and_manufacture(rec, product, coi, din, start + timedelta(days=2))
    j.qc(rec, product, qc_at)
    released = qc_at + timedelta(days=1)
    rec("qp", "ProductReleased", product, released, "released", certificate_id=f"CoR-{coi.sequence}")
    return product, coi, released


def _sle_car_t(rec: j.Recorder, facility: str, year: int, now: Any) -> uuid.UUID:
    pseudonym = "PSN-SLE-0001"
    product, coi, released = _released_car_t(
        rec, facility, year, now - timedelta(days=60), pseudonym, "systemic_lupus_erythematosus", "G123498654321"
    )
    j.ship_to_pharmacy(rec, [(product, coi)], released + timedelta(days=1))
    j.store(rec, product, released + timedelta(days=2), "A1")
    end = j.administer(
        rec, product, coi, pseudonym, f"LOT-{coi.sequence}-B1", released + timedelta(days=7),
        next_bed=j.wristband_of(rec.ledger, "PSN-SSC-0002"),
    )  # fmt: skip
    rec(
        "physician", "AdverseEventRecorded", product, end + timedelta(days=2), "recorded",
        category="crs", grade=1, description="fever 38.6 °C on day 2, resolved with paracetamol",
    )  # fmt: skip
    rec(
        "physician", "FollowUpRecorded", product, end + timedelta(days=7), "reviewed",
        visit="day 7", findings="CRS resolved; no ICANS; B-cell aplasia confirmed",
    )  # fmt: skip
    return product


def _ssc_msc(rec: j.Recorder, facility: str, year: int, now: Any) -> list[uuid.UUID]:
    batch = uuid.uuid4()
    start = now - timedelta(days=40)
    rec(
        "qp",
        "BatchRegistered",
        batch,
        start,
        "recorded",
        lot="MSC-BANK-2026-07",
        donor_din="A999921123456",
        product_code="MSC-BANK",
        doses=6,
        site=j.MANUFACTURER,
    )
    rec(
        "qp",
        "BatchQcRecorded",
        batch,
        start + timedelta(days=5),
        "reviewed",
        tests=[
            {"name": "sterility", "result": "no growth", "specification": "no growth", "in_spec": True},
            {"name": "viability", "result": "91 %", "specification": ">= 70 %", "in_spec": True},
        ],
    )
    rec("qp", "BatchReleased", batch, start + timedelta(days=6), "released", certificate_id="CoR-MSC-2026-07")
    doses = []
    for dose in (1, 2):
        coi = j.new_coi(facility, year)
        product = product_id_for(coi)
        rec(
            "physician",
            "ProductEnrolled",
            product,
            start + timedelta(days=10, hours=dose),
            "approved",
            coi=coi.value,
            product_kind="msc",
            product_code="MSC-BANK",
            patient_pseudonym="PSN-SSC-0002",
            indication="systemic_sclerosis",
            treating_physician="physician",
            collection_site=j.MANUFACTURER,
            batch_id=str(batch),
            dose_number=dose,
        )
        doses.append((product, coi))
    j.ship_to_pharmacy(rec, doses, start + timedelta(days=12))
    for index, (product, _) in enumerate(doses):
        j.store(rec, product, start + timedelta(days=13), f"C{index + 1}")
    first, coi = doses[0]
    j.administer(rec, first, coi, "PSN-SSC-0002", f"MSC-BANK-2026-07-D{1}", start + timedelta(days=20))
    return [product for product, _ in doses]


def _vasculitis_excursion(rec: j.Recorder, facility: str, year: int, now: Any) -> uuid.UUID:
    product, coi, released = _released_car_t(
        rec, facility, year, now - timedelta(days=45), "PSN-VAS-0003", "vasculitis", "G123426000101"
    )
    j.ship_to_pharmacy(rec, [(product, coi)], released + timedelta(days=1), temperature_ok=False)
    decided = released + timedelta(days=3)
    rec(
        "physician", "ExceptionalReleaseRequested", product, decided, "requested",
        reason="no therapeutic alternative; manufacturer's assessment finds the excursion within stability data",
        risk_assessment_ref=f"RA-{coi.sequence}",
    )  # fmt: skip
    rec(
        "qp", "ExceptionalReleaseApproved", product, decided + timedelta(hours=3), "released",
        certificate_id=f"CoR-EX-{coi.sequence}", notified=["sponsor", "competent_authority"],
    )  # fmt: skip
    j.store(rec, product, decided + timedelta(hours=5), "A2")
    return product


def _myopathy_out_of_spec(rec: j.Recorder, facility: str, year: int, now: Any) -> uuid.UUID:
    coi = j.new_coi(facility, year)
    start = now - timedelta(days=30)
    product = j.enrol_car_t(rec, coi, "PSN-MYO-0004", "inflammatory_myopathy", start)
    qc_at = j.collect_and_manufacture(rec, product, coi, "G123426000202", start + timedelta(days=1))
    j.qc(rec, product, qc_at, viability=71)
    return product
