"""POST and GET /shipments/{id}/logger: a logger file over HTTP, on both backends."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.api.conftest import Session
from tests.integration.journeys import Recorder
from tests.integration.logger_fixtures import LEDGER, Trip


def upload(session: Session, trip: Trip, content: bytes, **form: str) -> Any:
    return session.client.post(
        f"/shipments/{trip.shipment}/logger",
        files={"file": ("logger.csv", content, "text/csv")},
        data={"password": f"{session.username}-password", **form},
        headers=session.headers,
    )


def test_an_excursion_uploaded_holds_every_product_and_the_same_file_again_answers_200(
    sign_in: Any, team: Recorder
) -> None:
    trip = Trip(team)
    pharmacist = sign_in("pharmacist")
    content = trip.csv(warm=(120, 180))
    first = upload(pharmacist, trip, content)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["already_imported"] is False
    assert body["document"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["document"]["kind"] == "logger_file"
    types = [(e["body"]["type"], e["body"]["actor"]["user_id"]) for e in body["events"]]
    assert types == [
        ("ShipmentLoggerFileImported", "pharmacist"),
        ("ShipmentReadingsSummarised", "ledger"),
        ("ProductQuarantined", "ledger"),  # Kymriah, held with the shipper
        ("TemperatureExcursionRecorded", "ledger"),  # Tecartus, whose range was left
    ]
    assert body["events"][1]["body"]["actor"] == LEDGER
    count = team.ledger.store.size()
    again = upload(pharmacist, trip, content)
    assert again.status_code == 200 and again.json()["already_imported"] is True
    assert [e["hash"] for e in again.json()["events"]] == [e["hash"] for e in body["events"][:2]]
    assert team.ledger.store.size() == count
    summaries = sign_in("auditor").get(f"/shipments/{trip.shipment}/logger")
    assert summaries.status_code == 200
    assert [(p["product_code"], p["minutes_outside"]) for p in summaries.json()[0]["products"]] == [
        ("KYMRIAH", 0),
        ("TECARTUS", 60),
    ]


def test_a_bad_row_is_422_naming_its_line_and_stores_nothing(sign_in: Any, team: Recorder) -> None:
    trip = Trip(team)
    content = trip.csv().replace(b"-180,5;", b"-180,5;\n2026-13-01T00:00:00Z;-180;", 1)  # a 13th month, line 4
    count = team.ledger.store.size()
    answer = upload(sign_in("pharmacist"), trip, content)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert (problem["rule"], problem["field"]) == ("invalid_logger_file", "readings[1].timestamp")
    assert "line 4" in problem["detail"]
    assert team.ledger.store.size() == count
    assert team.ledger.documents.info(hashlib.sha256(content).hexdigest()) is None


def test_a_courier_may_not_import_and_a_reader_may_not_post(sign_in: Any, team: Recorder) -> None:
    trip = Trip(team)
    count = team.ledger.store.size()
    for role in ("courier", "auditor", "nurse"):
        answer = upload(sign_in(role), trip, trip.csv())
        assert answer.status_code == 403, (role, answer.text)
        assert answer.json()["rule"] == "role_not_allowed"
    assert team.ledger.store.size() == count
