"""POST and GET /products/{reference}/storage-logger: a tank's logger file over HTTP, on both backends."""

from __future__ import annotations

import hashlib
from typing import Any

from api import demo_journeys as j
from tests.api.conftest import Session
from tests.integration.journeys import Recorder
from tests.integration.storage_fixtures import Tank


def upload(session: Session, reference: str, content: bytes, **form: str) -> Any:
    return session.client.post(
        f"/products/{reference}/storage-logger",
        files={"file": ("tank.csv", content, "text/csv")},
        data={"password": f"{session.username}-password", **form},
        headers=session.headers,
    )


def test_a_warm_hour_uploaded_quarantines_the_product_and_the_same_file_again_answers_200(
    sign_in: Any, team: Recorder
) -> None:
    tank = Tank(team)
    pharmacist = sign_in("pharmacist")
    content = tank.csv(warm=(600, 660))
    first = upload(pharmacist, str(tank.tecartus), content, tank=j.LN2_TANK, site=j.PHARMACY)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["document"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert [(e["body"]["type"], e["body"]["actor"]["user_id"]) for e in body["events"]] == [
        ("StorageLoggerFileImported", "pharmacist"),
        ("StorageReadingsSummarised", "ledger"),
        ("TemperatureExcursionRecorded", "ledger"),
    ]
    assert (body["summary"]["minutes_outside"], body["summary"]["excursion"]) == (60, True)
    count = team.ledger.store.size()
    again = upload(pharmacist, str(tank.tecartus), content)  # the tank defaults to where it was stored
    assert again.status_code == 200 and again.json()["already_imported"] is True
    assert team.ledger.store.size() == count
    read = sign_in("auditor").get(f"/products/{tank.tecartus}/storage-logger")
    assert read.status_code == 200
    assert [(s["tank"], s["minutes_outside"], len(s["stays"])) for s in read.json()] == [("LN2-TANK-1", 60, 1)]


def test_refusals_are_problems_naming_the_rule_and_store_nothing(sign_in: Any, team: Recorder) -> None:
    tank = Tank(team)
    content = tank.csv()
    count = team.ledger.store.size()
    wrong_tank = upload(sign_in("pharmacist"), str(tank.kymriah), content, tank="LN2-TANK-9")
    assert wrong_tank.status_code == 409, wrong_tank.text
    assert (wrong_tank.json()["rule"], wrong_tank.json()["field"]) == ("product_never_in_tank", "payload.tank")
    nurse = upload(sign_in("nurse"), str(tank.kymriah), content)
    assert nurse.status_code == 403, nurse.text
    assert team.ledger.store.size() == count
    assert team.ledger.documents.info(hashlib.sha256(content).hexdigest()) is None
