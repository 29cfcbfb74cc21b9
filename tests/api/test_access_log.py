"""Every change and every refusal is one JSON log line; no password and no patient identity reach the log."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from ledger.identity_store import PatientIdentity
from ledger.patients import PatientRegistry
from ledger.service import CustodyLedger
from tests.api.conftest import START, password
from tests.integration.journeys import PATIENT, Recorder, enrolled


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == "custody.api"]


def test_changes_and_refusals_are_logged_without_identity(
    sign_in: Any, team: Recorder, ledger: CustodyLedger, caplog: pytest.LogCaptureFixture
) -> None:
    PatientRegistry(ledger).register(
        PatientIdentity("ZELLWEGER", "Odile", "1970-02-03", "IPP-99881"), user="nurse", password=password("nurse")
    )
    journey = enrolled(team, START)
    caplog.set_level(logging.INFO, logger="custody.api")
    nurse = sign_in("nurse")
    body = {"type": "AnnotationAdded", "meaning": "authored", "payload": {"text": "ok"}, "password": password("nurse")}
    assert nurse.post(f"/products/{journey.product}/events", body).status_code == 201
    assert nurse.get("/audit").status_code == 403
    assert sign_in("auditor").get(f"/patients/{PATIENT}/timeline").status_code == 200
    logged = lines(caplog)
    [change] = [line for line in logged if line["log"] == "change" and line["route"].endswith("/events")]
    assert change["user"] == "nurse" and change["role"] == "nurse" and change["status"] == 201
    assert change["event_types"] == ["AnnotationAdded"] and change["aggregate_id"] == str(journey.product)
    assert {line["user"] for line in logged if line["log"] == "sign_in"} == {"nurse", "auditor"}
    [denied] = [line for line in logged if line["log"] == "refused"]
    assert denied["route"] == "/audit" and denied["status"] == 403 and denied["rule"] == "role_not_allowed"
    text = "\n".join(record.getMessage() for record in caplog.records)
    for secret in ("ZELLWEGER", "IPP-99881", password("nurse"), PATIENT):
        assert secret not in text
