"""A shipper's hand-over end to end over HTTP, on both backends: the giver offers it, the receiver accepts it
and becomes custodian; an unregistered receiver, a hand-over signed by someone else, an acceptance by someone
other than the person named, and a receipt before the acceptance are each refused by name and store nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from uuid import UUID

from api import demo_journeys as j
from ledger.service import CustodyLedger
from tests.api.conftest import START, password
from tests.integration.journeys import Recorder, enrolled, verify

DIN = f"G1234{START.year % 100:02d}{uuid.uuid4().int % 1_000_000:06d}"


def dispatched(team: Recorder) -> tuple[UUID, UUID, str]:
    """A fresh collection on its way to the manufacturer, carried by the courier in person."""
    journey = enrolled(team, START)
    team(
        "nurse", "ApheresisCollected", journey.product, START + timedelta(hours=4), "performed",
        din=DIN, site=j.APHERESIS_SITE, volume_ml=245, started_at=j.iso(START),
        ended_at=j.iso(START + timedelta(hours=4)), preservation="fresh",
    )  # fmt: skip
    shipment = uuid.uuid4()
    team(
        "courier", "ShipmentDispatched", shipment, START + timedelta(hours=6), "performed",
        units=[str(journey.product)], leg="to_manufacturer", from_site=j.APHERESIS_SITE, to_site=j.MANUFACTURER,
        courier="courier", shipper_id="CBX-2-8-0412", data_logger_id="LOG-7781", temperature_class="fresh_2_8c",
        seal_ids=["SEAL-55120"],
    )  # fmt: skip
    return shipment, journey.product, journey.coi.value


def step(sign_in: Any, user: str, shipment: UUID, event_type: str, meaning: str, hours: int, **payload: Any) -> Any:
    """``user`` records ``event_type`` on the shipment over HTTP, ``hours`` after the journey's start."""
    body = {
        "type": event_type,
        "meaning": meaning,
        "payload": payload,
        "occurred_at": j.iso(START + timedelta(hours=hours)),
        "password": password(user),
    }
    return sign_in(user).post(f"/shipments/{shipment}/events", body)


def refused(answer: Any, status: int, field: str, rule: str) -> None:
    assert answer.status_code == status, answer.text
    assert (answer.json()["field"], answer.json()["rule"]) == (field, rule), answer.text


def holder(sign_in: Any, shipment: UUID) -> tuple[str, str | None]:
    """Who holds the shipper and to whom it is offered, as the shipments register shows it."""
    shown = sign_in("courier").get(f"/shipments/{shipment}").json()
    return shown["custodian"], shown["handing_over_to"]


def test_the_receiver_becomes_custodian_only_by_accepting_and_every_refusal_stores_nothing(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    shipment, product, coi = dispatched(team)
    assert holder(sign_in, shipment) == ("courier", None)
    size = ledger.store.size()

    unknown = step(sign_in, "courier", shipment, "ShipmentHandedOver", "performed", 7,
                   from_party="courier", to_party="Air cargo", seal_intact=True)  # fmt: skip
    refused(unknown, 404, "payload.to_party", "unknown_party")
    by_someone_else = step(sign_in, "pharmacist", shipment, "ShipmentHandedOver", "performed", 7,
                           from_party="courier", to_party="qp", seal_intact=True)  # fmt: skip
    refused(by_someone_else, 409, "user", "handover_signed_by_giver")
    assert ledger.store.size() == size

    offered = step(sign_in, "courier", shipment, "ShipmentHandedOver", "performed", 8,
                   from_party="courier", to_party="qp", seal_intact=True)  # fmt: skip
    assert offered.status_code == 201, offered.text
    assert holder(sign_in, shipment) == ("courier", "qp"), "an offer alone does not pass custody"
    size = ledger.store.size()

    wrong_receiver = step(sign_in, "pharmacist", shipment, "ShipmentHandOverAccepted", "received", 9,
                          seal_intact=True)  # fmt: skip
    refused(wrong_receiver, 409, "user", "accepted_by_receiver")
    receipt = {
        "site": j.MANUFACTURER,
        "received_units": [{"product_id": str(product), "scanned_coi": coi, "condition": "intact"}],
        "seal_intact": True, "temperature_ok": True, "data_logger_reviewed": True, **j.COLD_BOX_IN_RANGE,
    }  # fmt: skip
    too_early = step(sign_in, "qp", shipment, "ShipmentReceived", "received", 9, **receipt)
    assert too_early.status_code == 409 and too_early.json()["rule"] == "handover_not_accepted", too_early.text
    assert ledger.store.size() == size

    accepted = step(sign_in, "qp", shipment, "ShipmentHandOverAccepted", "received", 10, seal_intact=True)
    assert accepted.status_code == 201, accepted.text
    assert holder(sign_in, shipment) == ("qp", None)
    assert [e.body["actor"]["user_id"] for e in ledger.history(shipment)[-2:]] == ["courier", "qp"]

    received = step(sign_in, "qp", shipment, "ShipmentReceived", "received", 11, **receipt)
    assert received.status_code == 201, received.text
    assert holder(sign_in, shipment) == (j.MANUFACTURER, None)
    assert verify(ledger).intact
