"""Through the HTTP API as through the web form: a thaw while infusion would be refused is refused unless it names
the reasons, and the signed history keeps the reasons it named (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api import demo_journeys as j
from ledger.service import CustodyLedger
from tests.api.conftest import START, password
from tests.integration.journeys import PATIENT, Recorder, conditioned, released_and_stored, verify


def dispensed_unconditioned(team: Recorder) -> Any:
    """On the unit an hour ago; the patient's lymphodepletion is not recorded, so infusion would be refused."""
    journey = released_and_stored(team, START)
    team(
        "pharmacist", "Dispensed", journey.product, datetime.now(UTC) - timedelta(hours=1), "verified",
        to_unit=j.UNIT, scanned_coi=journey.coi.value, scanned_patient=PATIENT, release_verified=True,
    )  # fmt: skip
    return journey


def thaw(journey: Any, **extra: Any) -> dict[str, Any]:
    done = datetime.now(UTC) - timedelta(minutes=5)
    payload = {
        "method": "dry_thawer",
        "started_at": j.iso(done - timedelta(minutes=4)),
        "completed_at": j.iso(done),
        "bag_id": f"LOT-{journey.coi.sequence}-B1",
        **extra,
    }
    return {"type": "Thawed", "meaning": "performed", "payload": payload, "password": password("nurse")}


def test_a_thaw_is_refused_unless_it_names_the_reasons_and_the_history_keeps_them(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = dispensed_unconditioned(team)
    nurse = sign_in("nurse")
    size = ledger.store.size()

    refused = nurse.post(f"/products/{journey.coi.value}/events", thaw(journey))
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["rule"] == "thaw_blockers_not_acknowledged"
    assert problem["field"] == "payload.infusion_blockers_acknowledged"
    assert "lymphodepletion_missing" in problem["detail"]
    wrong = nurse.post(
        f"/products/{journey.coi.value}/events", thaw(journey, infusion_blockers_acknowledged=["consent_withdrawn"])
    )
    assert wrong.status_code == 409 and wrong.json()["rule"] == "thaw_blockers_not_acknowledged"
    assert ledger.store.size() == size

    named = thaw(journey, infusion_blockers_acknowledged=["lymphodepletion_missing"])
    answer = nurse.post(f"/products/{journey.coi.value}/events", named)
    assert answer.status_code == 201, answer.text
    history = nurse.get(f"/products/{journey.coi.value}/timeline").json()["events"]
    [signed] = [event for event in history if event["body"]["type"] == "Thawed"]
    assert signed["body"]["payload"]["infusion_blockers_acknowledged"] == ["lymphodepletion_missing"]
    assert signed["body"]["actor"]["user_id"] == "nurse"
    assert verify(ledger).intact


def test_a_thaw_with_nothing_blocking_is_recorded_without_naming_anything(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = dispensed_unconditioned(team)
    conditioned(team, PATIENT, datetime.now(UTC))
    answer = sign_in("nurse").post(f"/products/{journey.coi.value}/events", thaw(journey))
    assert answer.status_code == 201, answer.text
    [event] = [e for e in answer.json()["events"] if e["body"]["type"] == "Thawed"]
    assert "infusion_blockers_acknowledged" not in event["body"]["payload"]
