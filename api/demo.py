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

from api import demo_custody, demo_judged, demo_pathway, demo_trial_sites
from api import demo_journeys as j
from domain.identifiers import Coi, product_id_for
from domain.staff import staff_id_for
from domain.staff_qualification_rules import SIGNING_ROLES
from ledger.identity_store import PatientIdentity
from ledger.ledger_meta import LEDGER_USER
from ledger.merkle_log import checkpoint
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import register_staff
from ledger.staff_training import qualify_role_wide

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
    **demo_trial_sites.SIGNATORIES,
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
            # Published with the demo, these passwords count as chosen: the demo's people sign at once.
            register_staff(ledger, username, name, role, password, registrar=LEDGER_USER, must_change_password=False)
            if role in SIGNING_ROLES:
                _qualify(ledger, username)
        passwords[username] = password
    return passwords


EXPIRING_SOON = {"courier": 45}
"""Days left on a demo person's training, so `custody staff show courier` shows one to renew."""


def _qualify(ledger: CustodyLedger, username: str) -> None:
    """Every demo person who signs steps is trained for their role (domain/signer_qualification.py)."""
    today = ledger.clock.now().date()
    until = today + timedelta(days=EXPIRING_SOON.get(username, 365))
    qualify_role_wide(
        ledger, username, valid_from=today - timedelta(days=365), valid_until=until,
        reference=f"TR-{username}-{today.year}", evidence="Unit training and competency record", by=LEDGER_USER,
    )  # fmt: skip


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
    judged: list[str] = []  # refused within the journeys, at the moment each attempt would have counted
    products = [
        _sle_car_t(rec, facility, year, now, judged),
        *_ssc_msc(rec, facility, year, now),
        _vasculitis_excursion(rec, facility, year, now, judged),
        _myopathy_out_of_spec(rec, facility, year, now),
    ]
    refusals = demo_custody.record_refusals(rec, now, stored=products[-2])
    refusals += demo_trial_sites.record_unready_site(rec, demo_pathway.TRIAL_PROTOCOL, now, "PSN-VAS-0003")
    refusals += judged + demo_judged.record_judged_refusals(rec, now, out_of_spec=products[-1])
    admin_file = settings.home / "admin-password.txt"
    users = dict(passwords)
    if admin_file.exists():
        users["admin"] = admin_file.read_text().strip()
    return {"products": [str(p) for p in products], "patients": list(PATIENTS), "users": users, "refused": refusals}


def _released_car_t(
    rec: j.Recorder,
    facility: str,
    year: int,
    start: Any,
    pseudonym: str,
    indication: str,
    din: str,
    judged: list[str] | None = None,
) -> tuple[uuid.UUID, Coi, Any]:
    """Enrolment, apheresis, manufacturing, in-spec QC and QP release; returns product, COI, release time.

    With ``judged``, the refused attempts on the way (a mistyped volume, a release by the QC
    recorder, a release held by a deviation) are shown there (api/demo_judged.py).
    """
    coi = j.new_coi(facility, year)
    product = j.enrol_car_t(rec, coi, pseudonym, indication, start)
    collected = start + timedelta(days=2)
    if judged is not None:
        judged.append(demo_judged.volume_typed_wrong(rec, product, din, collected))
    qc_at = j.collect_and_manufacture(rec, product, coi, din, collected)
    j.qc(rec, product, qc_at)
    released = qc_at + timedelta(days=1)
    if judged is not None:
        judged += demo_judged.release_held(rec, product, coi, qc_at)
    rec("qp", "ProductReleased", product, released, "released", certificate_id=f"CoR-{coi.sequence}")
    return product, coi, released


def _sle_car_t(rec: j.Recorder, facility: str, year: int, now: Any, judged: list[str]) -> uuid.UUID:
    pseudonym = "PSN-SLE-0001"
    product, coi, released = _released_car_t(
        rec, facility, year, now - timedelta(days=60), pseudonym, "systemic_lupus_erythematosus", "G123498654321",
        judged,
    )  # fmt: skip
    demo_judged.close_deviations(rec, product, released + timedelta(hours=6))
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
        disease_response="not_evaluated", survival="alive",
    )  # fmt: skip
    return product


def _measured(name: str, value: float, unit: str, specification: str) -> dict[str, Any]:
    return {"name": name, "result": f"{value:g} {unit}", "value": value, "unit": unit,
            "specification": specification, "in_spec": True}  # fmt: skip


def _read(name: str, result: str) -> dict[str, Any]:
    return {"name": name, "result": result, "specification": result, "in_spec": True}


MSC_BATCH_QC = [
    _measured("viability", 91, "%", ">= 70 %"), _read("sterility", "no growth"),
    _measured("endotoxin", 0.6, "EU/mL", "< 5 EU/mL"), _read("mycoplasma", "negative"),
    _measured("CD73", 99.1, "%", ">= 95 %"), _measured("CD90", 98.7, "%", ">= 95 %"),
    _measured("CD105", 97.4, "%", ">= 95 %"), _measured("CD45", 0.3, "%", "<= 2 %"),
]  # fmt: skip
"""The bank batch's whole MSC release panel (domain/release_panel.py), measured and within specification."""


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
        tests=MSC_BATCH_QC,
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
            # The dose's Single European Code (domain/sec_code.py): the donor's DIN is its donation number.
            sec=f"SEC FR000123 A999921123456 E0000123 {dose:03d} {(start + timedelta(days=365)):%Y%m%d}",
        )
        doses.append((product, coi))
    j.ship_to_pharmacy(rec, doses, start + timedelta(days=12))
    for index, (product, _) in enumerate(doses):
        j.store(rec, product, start + timedelta(days=13), f"C{index + 1}")
    first, coi = doses[0]
    j.administer(rec, first, coi, "PSN-SSC-0002", f"MSC-BANK-2026-07-D{1}", start + timedelta(days=20))
    return [product for product, _ in doses]


def _vasculitis_excursion(rec: j.Recorder, facility: str, year: int, now: Any, judged: list[str]) -> uuid.UUID:
    product, coi, released = _released_car_t(
        rec, facility, year, now - timedelta(days=45), "PSN-VAS-0003", "vasculitis", "G123426000101"
    )
    units = [(product, coi)]
    shipment = j.dispatch_to_pharmacy(rec, units, released + timedelta(days=1))
    arrived = released + timedelta(days=1) + j.IN_TRANSIT
    judged.append(demo_judged.warm_shipper_declared_ok(rec, shipment, units, arrived))
    receipt = j.pharmacy_receipt(units, temperature_ok=False)
    rec("pharmacist", "ShipmentReceived", shipment, arrived, "received", **receipt)
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
