"""Reads over HTTP: status now and as of a moment, histories, bundles, timelines, inventory, audit, verify."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from api import demo_journeys as j
from domain.pathway import pathway_id_for
from ledger.bundle_verify import verify_bundle
from ledger.service import CustodyLedger
from ledger.setup import register_staff
from ledger.trust_anchor import home_trust_anchor
from tests.api.conftest import START, password
from tests.integration.journeys import PATIENT, Recorder, enrolled, password_of, ready, released_and_stored

TRIAL = "CART-AUTOIMMUNE-01"


def test_status_history_and_bundle_of_a_stored_product(sign_in: Any, team: Recorder, ledger: CustodyLedger) -> None:
    journey = released_and_stored(team, START)
    pharmacist = sign_in("pharmacist")
    status = pharmacist.get(f"/products/{journey.coi.value}")
    assert status.status_code == 200
    assert status.json()["state"] == "stored"
    assert status.json()["location"]["position"] == "A1"
    assert status.headers["etag"] == f'"{len(ledger.history(journey.product))}"'
    history = pharmacist.get(f"/products/{journey.product}/timeline").json()
    assert [e["hash"] for e in history["events"]] == [e.hash for e in ledger.history(journey.product)]
    bundle = pharmacist.get(f"/products/{journey.product}/export").json()
    assert verify_bundle(bundle, home_trust_anchor(ledger.settings.home)) == []
    bundle["events"][0]["stored"] = bundle["events"][0]["stored"].replace("ACADEMIC", "ACADEMIX")
    assert verify_bundle(bundle, home_trust_anchor(ledger.settings.home)) != []


def test_status_as_of_a_moment_replays_what_was_recorded_then(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    enrolled_at = ledger.history(journey.product)[0].body["recorded_at"]
    body = {"type": "AnnotationAdded", "meaning": "authored", "payload": {"text": "x"}, "password": password("nurse")}
    nurse = sign_in("nurse")
    assert nurse.post(f"/products/{journey.product}/events", body).status_code == 201
    then = nurse.get(f"/products/{journey.product}", params={"as_of": enrolled_at}).json()
    assert then["version"] == 1 and then["as_of"] == enrolled_at
    assert nurse.get(f"/products/{journey.product}").json()["version"] == 2
    bad = nurse.get(f"/products/{journey.product}", params={"as_of": "last tuesday"})
    assert bad.status_code == 422 and bad.json()["field"] == "as_of"


def test_product_list_filters_by_state_and_pages(sign_in: Any, team: Recorder) -> None:
    stored = released_and_stored(team, START)
    fresh = enrolled(team, START + timedelta(days=2), "PSN-TEST-0002")
    nurse = sign_in("nurse")
    every = {row["product_id"] for row in nurse.get("/products").json()}
    assert {str(stored.product), str(fresh.product)} <= every
    only = nurse.get("/products", params={"state": "enrolled"}).json()
    assert [row["product_id"] for row in only] == [str(fresh.product)]
    assert len(nurse.get("/products", params={"limit": 1}).json()) == 1
    assert nurse.get("/products", params={"limit": 0}).status_code == 422


def test_a_sponsor_reads_only_its_trials_products(sign_in: Any, team: Recorder, ledger: CustodyLedger) -> None:
    in_trial = enrolled(team, START)
    ready(team, ledger.clock.now() - timedelta(days=1), "PSN-TEST-0009")  # enrolled now: a current RCP decision
    coi = j.new_coi(ledger.settings.facility, START.year % 100)
    outside = sign_in("physician").post(
        "/products",
        {
            "type": "ProductEnrolled",
            "meaning": "approved",
            "password": password("physician"),
            "payload": {
                "coi": coi.value, "product_kind": "car_t", "product_code": "ACADEMIC-CD19",
                "patient_pseudonym": "PSN-TEST-0009", "indication": "systemic_lupus_erythematosus",
                "treating_physician": "physician", "collection_site": j.APHERESIS_SITE,
            },
        },
    ).json()["aggregate_id"]  # fmt: skip
    register_staff(ledger, "sponsor2", "Sid Sponsor", "sponsor", password_of("sponsor2"), registrar="ledger")
    unauthorised = sign_in("sponsor2")
    assert unauthorised.get("/products").json() == [], "a sponsor not authorised on any trial sees nothing"
    assert unauthorised.get(f"/products/{in_trial.product}").status_code == 404
    sponsor = sign_in("sponsor")  # authorised on the demo trial when the fixtures registered it
    assert [row["product_id"] for row in sponsor.get("/products").json()] == [str(in_trial.product)]
    assert sponsor.get(f"/products/{in_trial.product}").status_code == 200
    assert sponsor.get(f"/products/{in_trial.product}/timeline").status_code == 200
    for path in (f"/products/{outside}", f"/products/{outside}/timeline", f"/products/{outside}/export"):
        hidden = sponsor.get(path)
        assert hidden.status_code == 404, path
    assert sponsor.get(f"/patients/{PATIENT}/timeline").status_code == 403


def test_patient_timeline_inventory_audit_metrics(sign_in: Any, team: Recorder) -> None:
    journey = released_and_stored(team, START)
    auditor = sign_in("auditor")
    timeline = auditor.get(f"/patients/{PATIENT}/timeline").json()
    assert timeline[0]["event_type"] == "PatientEnrolled", "the pathway comes before any product"
    assert {row["product_id"] for row in timeline} == {str(journey.product), str(pathway_id_for(PATIENT))}
    product_rows = [row for row in timeline if row["product_id"] == str(journey.product)]
    assert product_rows[0]["event_type"] == "ProductEnrolled"
    assert auditor.get("/patients/PSN-NOBODY/timeline").status_code == 404
    inventory = auditor.get("/inventory").json()
    assert [row["product_id"] for row in inventory] == [str(journey.product)]
    assert auditor.get("/inventory", params={"site": "nowhere"}).status_code == 404
    audit = auditor.get("/audit", params={"user": "qp"}).json()
    assert audit["events"] and {row["user_id"] for row in audit["events"]} == {"qp"}
    assert auditor.get("/audit", params={"user": "nobody"}).json()["field"] == "user"
    assert auditor.get("/audit", params={"since": "soon"}).status_code == 422
    assert auditor.get("/metrics").status_code == 200


def test_verify_and_latest_checkpoint(sign_in: Any, team: Recorder, ledger: CustodyLedger) -> None:
    released_and_stored(team, START)
    auditor = sign_in("auditor")
    assert auditor.get("/checkpoints/latest").status_code == 404
    report = auditor.get("/verify").json()
    assert report["intact"] and report["trust_anchor"] and report["events"] == ledger.store.size()
    journey = enrolled(team, START, "PSN-TEST-0003")
    auditor.get(f"/products/{journey.product}/export")
    checkpoint = auditor.get("/checkpoints/latest").json()
    assert checkpoint["size"] == ledger.store.size()
    assert checkpoint["note"].startswith(checkpoint["origin"])
    assert len(base64.b64decode(checkpoint["root_hash"])) == 32
