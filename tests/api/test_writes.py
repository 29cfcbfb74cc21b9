"""Writes over HTTP: signed answers, Part 11 re-authentication, idempotency, If-Match, clean refusals."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from api import demo_journeys as j
from ledger.service import CustodyLedger
from tests.api.conftest import START, MovableClock, password
from tests.integration.journeys import Journey, Recorder, enrolled, ready, verify


def collection(journey: Journey, **changes: Any) -> dict[str, Any]:
    payload = {
        "din": f"G1234{START.year % 100:02d}{uuid.uuid4().int % 1_000_000:06d}",
        "site": j.APHERESIS_SITE,
        "volume_ml": 245,
        "started_at": j.iso(START + timedelta(days=1)),
        "ended_at": j.iso(START + timedelta(days=1, hours=4)),
        "preservation": "fresh",
        **changes,
    }
    return {
        "type": "ApheresisCollected",
        "meaning": "performed",
        "occurred_at": j.iso(START + timedelta(days=1, hours=4)),
        "payload": payload,
        "password": password("nurse"),
    }


def note(text: str = "bag label re-checked", with_password: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "AnnotationAdded", "meaning": "authored", "payload": {"text": text}}
    if with_password:
        body["password"] = password("nurse")
    return body


def test_a_step_is_stored_signed_and_answered_with_hash_and_signature(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    answer = sign_in("nurse").post(f"/products/{journey.coi.value}/events", collection(journey))
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert result["aggregate_id"] == str(journey.product)
    assert answer.headers["etag"] == f'"{result["version"]}"'
    [event] = [e for e in result["events"] if e["body"]["aggregate_id"] == str(journey.product)]
    assert [e["body"]["type"] for e in result["events"]] == ["ApheresisCollected", "DinAssigned"], (
        "the DIN's own record is taken in the same write"
    )
    assert event["body"]["type"] == "ApheresisCollected"
    assert event["body"]["actor"]["user_id"] == "nurse"
    stored = ledger.history(journey.product)[-1]
    assert (stored.hash, stored.signature) == (event["hash"], event["signature"])
    assert "password" not in str(stored.body)
    assert verify(ledger).intact


def test_the_first_signature_of_a_sign_in_needs_the_password(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")
    before = ledger.store.size()
    refused = session.post(f"/products/{journey.product}/events", note(with_password=False))
    assert refused.status_code == 401
    assert refused.json()["rule"] == "signature_password_required"
    assert ledger.store.size() == before
    wrong = session.post(f"/products/{journey.product}/events", {**note(), "password": "wrong-password"})
    assert wrong.status_code == 401 and wrong.json()["rule"] == "signature_authentication"
    assert session.post(f"/products/{journey.product}/events", note()).status_code == 201
    assert session.post(f"/products/{journey.product}/events", note(with_password=False)).status_code == 201
    again = sign_in("nurse")
    assert again.post(f"/products/{journey.product}/events", note(with_password=False)).status_code == 401, (
        "a new sign-in is a new signing session"
    )


def test_the_password_is_asked_again_after_the_idle_period(
    sign_in: Any, team: Recorder, clock: MovableClock, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")
    assert session.post(f"/products/{journey.product}/events", note()).status_code == 201
    clock.advance(timedelta(minutes=ledger.settings.signing_idle_minutes, seconds=1))
    assert session.post(f"/products/{journey.product}/events", note(with_password=False)).status_code == 401


def test_a_retried_request_with_the_same_idempotency_key_stores_nothing_twice(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = session.post(f"/products/{journey.product}/events", note(), headers=key)
    size = ledger.store.size()
    retry = session.post(f"/products/{journey.product}/events", note(), headers=key)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert ledger.store.size() == size
    other = session.post(f"/products/{journey.product}/events", note("something else"), headers=key)
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
    assert ledger.store.size() == size


def test_a_refused_request_releases_its_idempotency_key(sign_in: Any, team: Recorder, ledger: CustodyLedger) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")
    key = {"Idempotency-Key": "retry-me"}
    refused = session.post(f"/products/{journey.product}/events", note(with_password=False), headers=key)
    assert refused.status_code == 401
    assert session.post(f"/products/{journey.product}/events", note(), headers=key).status_code == 201


def test_idempotency_keys_belong_to_their_user(sign_in: Any, team: Recorder, ledger: CustodyLedger) -> None:
    journey = enrolled(team, START)
    key = {"Idempotency-Key": "shared-key"}
    assert sign_in("nurse").post(f"/products/{journey.product}/events", note(), headers=key).status_code == 201
    physician_note = {**note(), "password": password("physician")}
    answer = sign_in("physician").post(f"/products/{journey.product}/events", physician_note, headers=key)
    assert answer.status_code == 201
    assert answer.json()["events"][0]["body"]["actor"]["user_id"] == "physician"


def test_if_match_with_a_stale_version_is_409_and_stores_nothing(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")
    version = session.get(f"/products/{journey.product}").headers["etag"]
    assert session.post(f"/products/{journey.product}/events", note(), headers={"If-Match": version}).status_code == 201
    size = ledger.store.size()
    stale = session.post(f"/products/{journey.product}/events", note("late"), headers={"If-Match": version})
    assert stale.status_code == 409
    assert stale.json()["rule"] == "concurrent_change"
    assert ledger.store.size() == size
    fresh = session.get(f"/products/{journey.product}").headers["etag"]
    assert session.post(f"/products/{journey.product}/events", note(), headers={"If-Match": fresh}).status_code == 201
    garbled = session.post(f"/products/{journey.product}/events", note(), headers={"If-Match": "yesterday"})
    assert garbled.status_code == 422 and garbled.json()["field"] == "If-Match"


def test_bad_inputs_name_the_field_and_the_rule_and_store_nothing(
    client: Any, sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")
    path = f"/products/{journey.product}/events"
    cases = [
        (collection(journey, volume_ml=-3), 422, "payload.volume_ml"),
        (collection(journey, din="not-a-din"), 422, "payload.din"),
        ({**collection(journey), "meaning": "approved"}, 422, "meaning"),
        ({**collection(journey), "occurred_at": "yesterday"}, 422, "occurred_at"),
        ({**collection(journey), "extra": 1}, 422, "extra"),
        ({**collection(journey), "payload": [1]}, 422, "payload"),
        ({**collection(journey), "type": "NoSuchStep"}, 422, "type"),
        ({**collection(journey), "type": "ProductShipped"}, 422, "type"),
        (note(), 404, "aggregate_id"),
    ]
    size = ledger.store.size()
    for body, status, field in cases:
        target = path if status != 404 else "/products/00000000-0000-0000-0000-00000000beef/events"
        answer = session.post(target, body)
        assert answer.status_code == status, (field, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["field"] == field and problem["rule"] and problem["type"].endswith(problem["rule"])
    not_json = client.post(path, content=b"{", headers={**session.headers, "content-type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["field"] == "body"
    assert ledger.store.size() == size


def test_a_step_out_of_order_is_a_409_conflict(sign_in: Any, team: Recorder, ledger: CustodyLedger) -> None:
    journey = enrolled(team, START)
    body = {"type": "Infused", "meaning": "performed", "payload": {}, "password": password("nurse")}
    answer = sign_in("nurse").post(f"/products/{journey.product}/events", body)
    assert answer.status_code in (409, 422)
    assert answer.json()["rule"]


def test_enrolment_derives_the_product_id_from_the_coi(sign_in: Any, team: Recorder, ledger: CustodyLedger) -> None:
    ready(team, ledger.clock.now() - timedelta(days=1), "PSN-API-0001")  # enrolled now: a current RCP decision
    coi = j.new_coi(ledger.settings.facility, START.year % 100)
    body = {
        "type": "ProductEnrolled",
        "meaning": "approved",
        "password": password("physician"),
        "payload": {
            "coi": coi.value,
            "product_kind": "car_t",
            "product_code": "ACADEMIC-CD19",
            "patient_pseudonym": "PSN-API-0001",
            "indication": "systemic_lupus_erythematosus",
            "treating_physician": "physician",
            "collection_site": j.APHERESIS_SITE,
        },
    }
    session = sign_in("physician")
    answer = session.post("/products", body)
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"] == f"/products/{answer.json()['aggregate_id']}"
    assert session.get(f"/products/{coi.value}").json()["state"] == "enrolled"
    again = session.post("/products", body)
    assert again.status_code in (409, 422) and again.json()["rule"]
