"""Two products stored side by side in one LN2 tank, and the tank logger's files, for the storage-logger tests.

Kymriah's storage limit is -120 °C and Tecartus's -150 °C (SmPC 6.4, domain/catalogue.py), so one
tank reading of -130 °C is an excursion for Tecartus and not for Kymriah.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from api import demo_journeys as j
from ledger.logger_import import LoggerImport
from ledger.storage_logger_import import import_storage_logger_file
from tests.integration.journeys import Recorder, free_position
from tests.integration.logger_fixtures import Trip


class Tank:
    """The shipper's two products, stored in the demo tank one hour after their receipt (``t0``)."""

    def __init__(self, rec: Recorder, *, store: bool = True) -> None:
        self.rec = rec
        self.trip = Trip(rec)
        self.kymriah, self.tecartus = self.trip.kymriah, self.trip.tecartus
        self.t0 = self.trip.arrived
        self.positions: dict[UUID, str] = {}
        if store:
            for product in (self.kymriah, self.tecartus):
                self.positions[product] = free_position(rec.ledger)
                j.store(rec, product, self.t0 + timedelta(hours=1), self.positions[product])

    def csv(
        self, *, until_min: int = 48 * 60, warm: tuple[int, int] | None = None, silent: tuple[int, int] | None = None
    ) -> bytes:
        """The tank read every 10 min from ``t0`` to ``until_min`` at -185 °C; -130 °C in ``warm``; none in
        ``silent``."""
        lines = ["timestamp,temperature"]
        for minute in range(0, until_min + 1, 10):
            if silent is not None and silent[0] <= minute < silent[1]:
                continue
            value = "-130" if warm is not None and warm[0] <= minute < warm[1] else "-185"
            lines.append(f"{(self.t0 + timedelta(minutes=minute)).isoformat()},{value}")
        return ("\n".join(lines) + "\n").encode()

    def run(self, product: UUID, content: bytes, user: str = "pharmacist", *, tank: str | None = None) -> LoggerImport:
        return import_storage_logger_file(
            self.rec.ledger, product, content, user=user, meaning="recorded", password=f"{user}-password", tank=tank
        )
