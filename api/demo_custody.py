"""The demo's refused attempts: what a unit must never accept, each refused with its rule.

No pathway, a product other than the one the pair decided, a site nobody registered,
one DIN for two collections, two bags in one LN2 position. Each attempt is a step a unit
must never accept; the demo shows it refused with its rule (the summary lists them), and
checks that the refusal stored nothing (the demo is wrong if it were accepted).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from api import demo_journeys as j
from domain.errors import CustodyError
from domain.identifiers import product_id_for

SLE_DIN = "G123498654321"
"""The DIN of the SLE patient's apheresis (api/demo.py)."""


def attempt_refused(rec: j.Recorder, rule: str, user: str, event_type: str, target: UUID, when: datetime,
             meaning: str, **payload: Any) -> str:  # fmt: skip
    """Record a step that must be refused with ``rule``, storing nothing; the refusal's words."""
    size = rec.ledger.store.size()
    try:
        rec(user, event_type, target, when, meaning, **payload)
    except CustodyError as refusal:
        assert refusal.rule == rule, refusal.rule
        message = f"{event_type} refused [{rule}]: {refusal.message}"
    else:
        raise AssertionError(f"{event_type} was accepted; the demo expected the refusal {rule}")
    assert rec.ledger.store.size() == size, "a refusal stored something"
    return message


def _enrolment(coi: str, pseudonym: str, code: str = "ACADEMIC-CD19", site: str = j.APHERESIS_SITE) -> dict[str, Any]:
    return {
        "coi": coi, "product_kind": "car_t", "product_code": code, "patient_pseudonym": pseudonym,
        "indication": "systemic_lupus_erythematosus", "treating_physician": "physician", "collection_site": site,
    }  # fmt: skip


def record_refusals(rec: j.Recorder, now: datetime, stored: UUID) -> list[str]:
    """Each kind of attempt a unit must never accept, refused; ``stored`` is moved into an occupied position."""
    facility = rec.ledger.settings.facility
    no_pathway, other_product, unknown_site = (j.new_coi(facility, now.year % 100) for _ in range(3))
    return [
        attempt_refused(
            rec, "pathway_required", "physician", "ProductEnrolled", product_id_for(no_pathway), now, "approved",
            **_enrolment(no_pathway.value, "PSN-TYPO-0001"),  # a typo in the pseudonym: no pathway, no product
        ),
        attempt_refused(
            rec, "enrolment_does_not_match_decision", "physician", "ProductEnrolled",
            product_id_for(other_product), now, "approved",
            **_enrolment(other_product.value, "PSN-SLE-0001", code="KYMRIAH"),  # the pair decided ACADEMIC-CD19
        ),
        attempt_refused(
            rec, "site_not_registered", "physician", "ProductEnrolled", product_id_for(unknown_site), now,
            "approved", **_enrolment(unknown_site.value, "PSN-SLE-0001", site="Clinique du Parc apheresis"),
        ),
        attempt_refused(
            rec, "din_already_used", "qp", "BatchRegistered", uuid.uuid4(), now - timedelta(hours=2), "recorded",
            lot="MSC-BANK-2026-08", donor_din=SLE_DIN, product_code="MSC-BANK", doses=4, site=j.MANUFACTURER,
        ),
        attempt_refused(
            rec, "ln2_position_occupied", "pharmacist", "StoredInLN2", stored, now - timedelta(hours=1),
            "performed", site=j.PHARMACY, tank=j.LN2_TANK, rack=j.LN2_RACK, box=j.LN2_BOX, position="C2",
            temperature_c=-180.0,
        ),
    ]  # fmt: skip
