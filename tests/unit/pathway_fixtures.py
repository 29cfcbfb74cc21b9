"""Builders for the care-pathway unit tests: the pair, a pathway walked to a given step, accredited sites.

Times sit before the CAR-T journey of domain_fixtures (which starts at T0), so a
pathway can be made ready and then the product walked along the custody chain.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from domain.events import Actor
from domain.pathway import PatientPathway, pathway_id_for
from domain.site import Site, site_id_for
from tests.unit.domain_fixtures import (
    COLLECTION_SITE,
    DISEASE_SPECIALIST,
    INFUSION_UNIT,
    OTHER_PHYSICIAN,
    PATIENT,
    PHYSICIAN,
    SITES,
    T0,
    FakeLedger,
)

__all__ = ["COLLECTION_SITE", "DISEASE_SPECIALIST", "INFUSION_UNIT", "OTHER_PHYSICIAN"]
CELL_THERAPY_SPECIALIST = PHYSICIAN
ADMIN = Actor("admin", "Administrator", "admin")
PATHWAY_ID = pathway_id_for(PATIENT)
MEETING = T0 - timedelta(days=20)
L = TypeVar("L", bound=FakeLedger)
MSC_PATIENTS = tuple(f"PSN-0000{n}M" for n in range(2, 6))
"""The MSC patients of domain_fixtures.msc_enrolment (sequences 00002M to 00005M)."""


def enrolment(pseudonym: str = PATIENT, **changes: Any) -> dict[str, Any]:
    """A lupus patient refractory to two reference treatments, followed by the pair."""
    payload: dict[str, Any] = {
        "patient_pseudonym": pseudonym,
        "diagnosis": "systemic_lupus_erythematosus",
        "prior_treatments": [
            {"treatment": "mycophenolate mofetil", "failure_reason": "active nephritis after 12 months"},
            {"treatment": "rituximab", "failure_reason": "relapse at 6 months", "started_on": "2024-05-02"},
        ],
        "disease_specialist": {"user_id": DISEASE_SPECIALIST.user_id, "name": DISEASE_SPECIALIST.name},
        "cell_therapy_specialist": {"user_id": CELL_THERAPY_SPECIALIST.user_id, "name": CELL_THERAPY_SPECIALIST.name},
    }
    payload.update(changes)
    return payload


def rcp(
    outcome: str = "eligible",
    *,
    meeting: datetime = MEETING,
    clinical: date | None = None,
    paraclinical: date | None = None,
    therapy: str = "car_t",
) -> dict[str, Any]:
    """An RCP decision; evaluations default to ten days before the meeting."""
    recent = meeting.date() - timedelta(days=10)
    return {
        "meeting_at": meeting.isoformat(),
        "outcome": outcome,
        "therapy": therapy,
        "participants": [
            {"name": DISEASE_SPECIALIST.name, "specialty": "internal medicine"},
            {"name": CELL_THERAPY_SPECIALIST.name, "specialty": "haematology, cell therapy"},
        ],
        "evaluations": [
            {"kind": "clinical", "performed_on": (clinical or recent).isoformat(), "description": "SLEDAI-2K 14"},
            {
                "kind": "paraclinical",
                "performed_on": (paraclinical or recent).isoformat(),
                "description": "renal biopsy, anti-dsDNA, complement",
            },
        ],
        "rationale": "refractory lupus nephritis after two reference treatments",
    }


def proposal(therapy: str = "car_t", product_code: str = "KYMRIAH") -> dict[str, Any]:
    """The treatment the pair decides on."""
    return {"therapy": therapy, "product_code": product_code, "rationale": "cell therapy within the trial"}


def consent() -> dict[str, Any]:
    """A signed consent form."""
    return {
        "form_version": "v3.1",
        "signed_on": (MEETING + timedelta(days=3)).date().isoformat(),
        "document_ref": "CS-1",
    }


def walk_pathway(
    ledger: FakeLedger,
    until: str = "ConsentSigned",
    outcome: str = "eligible",
    *,
    pseudonym: str = PATIENT,
    therapy: str = "car_t",
    product_code: str = "KYMRIAH",
) -> PatientPathway:
    """Enrol a patient and record each pathway step up to ``until``; return the pathway."""
    steps: list[tuple[str, dict[str, Any], Actor, timedelta]] = [
        ("PatientEnrolled", enrolment(pseudonym), DISEASE_SPECIALIST, timedelta(days=-5)),
        ("RcpDecisionRecorded", rcp(outcome, therapy=therapy), DISEASE_SPECIALIST, timedelta(0)),
        ("TreatmentDecisionProposed", proposal(therapy, product_code), DISEASE_SPECIALIST, timedelta(days=1)),
        ("TreatmentDecisionCosigned", {"proposal_version": 3}, CELL_THERAPY_SPECIALIST, timedelta(days=2)),
        ("ConsentSigned", consent(), CELL_THERAPY_SPECIALIST, timedelta(days=3)),
    ]
    pathway_id = pathway_id_for(pseudonym)
    for event_type, payload, actor, offset in steps:
        ledger.record(event_type, pathway_id, payload, actor, MEETING + offset)
        if event_type == until:
            break
    return pathway(ledger, pathway_id)


def ready_ledger() -> FakeLedger:
    """A fake ledger where the journeys of domain_fixtures may run: accredited sites and each patient's pathway.

    The CAR-T patient's pair decided on KYMRIAH; each MSC patient's on a dose of MSC-BANK.
    """
    return make_ready(FakeLedger())


def make_ready(ledger: L) -> L:
    """Register and accredit the journeys' sites and walk each test patient's pathway on ``ledger``."""
    for code, scope in SITES.items():
        register_site(ledger, code, scope)
    walk_pathway(ledger)
    for pseudonym in MSC_PATIENTS:
        walk_pathway(ledger, pseudonym=pseudonym, therapy="msc", product_code="MSC-BANK")
    return ledger


def pathway(ledger: FakeLedger, pathway_id: UUID = PATHWAY_ID) -> PatientPathway:
    """Load the pathway, failing the test if it is anything else."""
    found = ledger.load(pathway_id)
    assert isinstance(found, PatientPathway)
    return found


def register_site(
    ledger: FakeLedger,
    code: str,
    scope: list[str],
    *,
    valid_from: date = date(2025, 1, 1),
    valid_until: date = date(2027, 12, 31),
    at: datetime = T0 - timedelta(days=60),
) -> Site:
    """A registered site with one JACIE accreditation of the given scope."""
    site_id = site_id_for(code)
    ledger.record("SiteRegistered", site_id, {"code": code, "name": f"{code} (CHU Lyon)"}, ADMIN, at)
    accreditation = {
        "accreditor": "jacie",
        "reference": f"JACIE-{len(code)}",
        "scope": scope,
        "valid_from": valid_from.isoformat(),
        "valid_until": valid_until.isoformat(),
    }
    ledger.record("AccreditationGranted", site_id, accreditation, ADMIN, at + timedelta(hours=1))
    found = ledger.load(site_id)
    assert isinstance(found, Site)
    return found


def accredited_sites(ledger: FakeLedger) -> None:
    """Every site the journey names, accredited (or authorised) for what it does there."""
    for code, scope in SITES.items():
        register_site(ledger, code, scope)
