"""On both backends: no pathway, no product (unless the site's signed setting says so); a refusal stores nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from api import demo_journeys as j
from domain.errors import CustodyError
from domain.identifiers import product_id_for
from domain.site import site_id_for
from ledger.envelope import Envelope
from ledger.ledger_meta import LEDGER_USER
from ledger.service import CustodyLedger
from tests.integration.journeys import PATIENT, ready, team


def _enrol(rec: object, ledger: CustodyLedger, pseudonym: str, when: datetime, **changes: object) -> list[Envelope]:
    coi = j.new_coi(ledger.settings.facility, 26)
    payload = {
        "coi": coi.value, "product_kind": "car_t", "product_code": "ACADEMIC-CD19", "patient_pseudonym": pseudonym,
        "indication": "systemic_lupus_erythematosus", "treating_physician": "physician",
        "collection_site": j.APHERESIS_SITE, **changes,
    }  # fmt: skip
    return ledger.record(
        "ProductEnrolled", product_id_for(coi), payload, user="physician", meaning="approved",
        password="physician-password", occurred_at=when,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("pseudonym", "changes", "rule"),
    [
        ("PSN-TEST-000I", {}, "pathway_required"),
        (PATIENT, {"product_code": "KYMRIAH"}, "enrolment_does_not_match_decision"),
        (PATIENT, {"treating_physician": "nurse"}, "not_a_physician"),
        (PATIENT, {"collection_site": "CHU-F9999 apheresis"}, "site_not_registered"),
    ],
)
def test_an_enrolment_off_its_pathway_is_refused_and_stores_nothing(
    ledger: CustodyLedger, pseudonym: str, changes: dict[str, object], rule: str
) -> None:
    rec = team(ledger)
    start = ledger.clock.now() - timedelta(days=2)
    ready(rec, start)
    size = ledger.store.size()
    with pytest.raises(CustodyError) as refused:
        _enrol(rec, ledger, pseudonym, start, **changes)
    assert refused.value.rule == rule
    assert ledger.store.size() == size


def test_a_site_whose_pathway_is_managed_elsewhere_enrols_without_one_and_the_product_says_so(
    ledger: CustodyLedger,
) -> None:
    rec = team(ledger)
    start = ledger.clock.now() - timedelta(days=2)
    ready(rec, start)
    ledger.record(
        "PathwayManagedElsewhereDeclared", site_id_for(j.APHERESIS_SITE), {"reason": "regional RCP of CHU Grenoble"},
        user=LEDGER_USER, meaning="approved", occurred_at=start,
    )  # fmt: skip
    envelopes = _enrol(rec, ledger, "PSN-GRENOBLE-1", start + timedelta(hours=1))
    assert [e.type for e in envelopes] == ["ProductEnrolled", "PathwayManagedElsewhereApplied"]
