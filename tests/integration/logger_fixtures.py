"""A shipper carrying two products with different limits, and the logger files of its journey, for the logger tests.

Kymriah's LN2 limit is -120 °C and Tecartus's -150 °C (SmPC 6.4 of each, domain/catalogue.py),
so one logger reading of -130 °C is an excursion for one product and not for the other.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from api import demo_journeys as j
from ledger.logger_import import LoggerImport, import_logger_file
from tests.integration.journeys import Recorder, ready

START = datetime.now(UTC).replace(microsecond=0, second=0) - timedelta(days=50)
LEDGER = {"user_id": "ledger", "name": "Custody Ledger", "role": "system"}


def released(rec: Recorder, pseudonym: str, code: str) -> tuple[uuid.UUID, str]:
    """A released product of ``code`` for its own patient: its id and COI."""
    ready(rec, START, pseudonym, code=code)
    coi = j.new_coi(rec.ledger.settings.facility, START.year % 100)
    product = j.enrol_car_t(rec, coi, pseudonym, "systemic_lupus_erythematosus", START, code=code)
    din = f"G1234{START.year % 100:02d}{uuid.uuid4().int % 1_000_000:06d}"
    qc_at = j.collect_and_manufacture(rec, product, coi, din, START + timedelta(days=1))
    j.qc(rec, product, qc_at)
    rec("qp", "ProductReleased", product, qc_at + timedelta(days=1), "released", certificate_id="CoR-1")
    return product, coi.value


class Trip:
    """Kymriah and Tecartus dispatched together in one dry shipper, received 20 hours later."""

    def __init__(self, rec: Recorder, *, received: bool = True, data_logger_id: str = "LOG-9120") -> None:
        self.rec = rec
        self.kymriah, kymriah_coi = released(rec, "PSN-TEST-0001", "KYMRIAH")
        self.tecartus, tecartus_coi = released(rec, "PSN-TEST-0002", "TECARTUS")
        self.sent = START + timedelta(days=30)
        self.arrived = self.sent + timedelta(hours=20)
        self.shipment = uuid.uuid4()
        rec(
            "courier", "ShipmentDispatched", self.shipment, self.sent, "performed",
            units=[str(self.kymriah), str(self.tecartus)], leg="to_pharmacy", from_site=j.MANUFACTURER,
            to_site=j.PHARMACY, courier="courier", shipper_id="LN2-DS-0098", data_logger_id=data_logger_id,
            temperature_class="ln2_dry_shipper", seal_ids=["SEAL-88001"],
        )  # fmt: skip
        if received:
            units = [(self.kymriah, kymriah_coi), (self.tecartus, tecartus_coi)]
            rec(
                "pharmacist", "ShipmentReceived", self.shipment, self.arrived, "received", site=j.PHARMACY,
                received_units=[{"product_id": str(p), "scanned_coi": c, "condition": "intact"} for p, c in units],
                seal_intact=True, data_logger_reviewed=True, certificate_of_release_checked=True,
                min_c=-190.0, max_c=-160.0, excursion_min=0,
            )  # fmt: skip

    def csv(self, warm: tuple[int, int] | None = None, silent: tuple[int, int] | None = None) -> bytes:
        """A reading every 10 min from 20 min before dispatch to 10 min after receipt, at -180 °C;
        -130 °C from minute ``warm[0]`` (after dispatch) to before ``warm[1]``; nothing in ``silent``."""
        lines = ["Serial;LOG-9120", "Date/Time;Temperature [°C];Humidity"]
        for minute in range(-20, 20 * 60 + 11, 10):
            if silent is not None and silent[0] <= minute < silent[1]:
                continue
            value = "-130,0" if warm is not None and warm[0] <= minute < warm[1] else "-180,5"
            lines.append(f"{(self.sent + timedelta(minutes=minute)).isoformat()};{value};")
        return ("\n".join(lines) + "\n").encode()

    def run(self, content: bytes, user: str = "pharmacist") -> LoggerImport:
        return import_logger_file(
            self.rec.ledger, self.shipment, content, user=user, meaning="recorded", password=f"{user}-password"
        )
