"""Shipment: one shipper travelling from one site to another with one or more products inside.

The shipment records the journey (courier, shipper, data logger, seals, hand-offs);
each product in it records its own ProductShipped and ProductReceived, so a product's
history alone tells where it has been.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from domain.aggregate import Aggregate
from domain.document_ref import LoggerFile, ShippingManifest
from domain.events import EventRecord
from domain.events import Meaning as M
from domain.events import Role as R
from domain.payloads import NON_EMPTY, Bounds, CoiText, IdText
from domain.product_events import Condition, Leg
from domain.spec import EventSpec

KIND = "shipment"


class TemperatureClass(StrEnum):
    """How the shipper keeps the product: cold box, room temperature, or LN2 dry shipper."""

    FRESH_2_8C = "fresh_2_8c"
    ROOM_TEMPERATURE = "room_temperature"
    LN2_DRY_SHIPPER = "ln2_dry_shipper"


@dataclass(frozen=True)
class ShipmentDispatched:
    """The shipper was sealed and left with its products."""

    units: Annotated[list[IdText], NON_EMPTY]
    leg: Leg
    from_site: str
    to_site: str
    courier: str
    shipper_id: str
    data_logger_id: str
    temperature_class: TemperatureClass
    seal_ids: Annotated[list[str], NON_EMPTY]


@dataclass(frozen=True)
class ShipmentHandedOver:
    """Custody of the shipper passed from one party to another on the way."""

    from_party: str
    to_party: str
    seal_intact: bool


@dataclass(frozen=True)
class ShipmentHandOverAccepted:
    """The party named by the last hand-over took the shipper, and saw its seal in this condition."""

    seal_intact: bool


@dataclass(frozen=True)
class ReceivedUnit:
    """One product found in the shipper, its label scanned and its bag inspected."""

    product_id: IdText
    scanned_coi: CoiText
    condition: Condition


Celsius = Annotated[float, Bounds(low=-273.15, high=100.0)]
"""A temperature a data logger or a tank probe can read."""


@dataclass(frozen=True)
class ShipmentReceived:
    """The shipper arrived and was opened; every product in it is accounted for.

    ``min_c``, ``max_c`` and ``excursion_min`` are the data logger's figures, always sent
    (0 minutes when the temperature never left its range): the ledger judges them against
    the catalogue's range for the shipper's temperature class (domain/temperature_verdict.py).
    ``temperature_ok`` may be left out; when declared it must agree with the figures.
    """

    site: str
    received_units: Annotated[list[ReceivedUnit], NON_EMPTY]
    seal_intact: bool
    data_logger_reviewed: bool
    min_c: Celsius
    max_c: Celsius
    excursion_min: Annotated[int, Bounds(low=0)]
    temperature_ok: bool | None = None
    certificate_of_release_checked: bool | None = None
    document: LoggerFile | None = None
    """The data logger's file the figures were read from, stored by hash (domain/document_ref.py)."""
    manifest: ShippingManifest | None = None
    """The shipping manifest checked on receipt, stored by hash."""


_SENDERS = frozenset({R.COURIER, R.PHARMACIST, R.QP, R.NURSE})
SHIPMENT_DISPATCHED = EventSpec(
    "ShipmentDispatched",
    KIND,
    ShipmentDispatched,
    (M.PERFORMED,),
    _SENDERS,
    "A sealed shipper left with the listed products, each checked ready to travel in that temperature class.",
    creates=True,
)
SHIPMENT_HANDED_OVER = EventSpec(
    "ShipmentHandedOver",
    KIND,
    ShipmentHandedOver,
    (M.PERFORMED, M.RECEIVED, M.WITNESSED),
    _SENDERS,
    "Custody of the shipper passed from one party to another, with the seal's condition.",
)
SHIPMENT_HANDOVER_ACCEPTED = EventSpec(
    "ShipmentHandOverAccepted",
    KIND,
    ShipmentHandOverAccepted,
    (M.RECEIVED,),
    _SENDERS,
    "The party a hand-over names took the shipper and becomes its custodian; a person accepts in person.",
)
SHIPMENT_RECEIVED = EventSpec(
    "ShipmentReceived",
    KIND,
    ShipmentReceived,
    (M.RECEIVED, M.VERIFIED),
    frozenset({R.PHARMACIST, R.QP}),
    "The shipper was received and opened; each product's label, bag, seal and temperature record were checked.",
)
SHIPMENT_SPECS = (SHIPMENT_DISPATCHED, SHIPMENT_HANDED_OVER, SHIPMENT_HANDOVER_ACCEPTED, SHIPMENT_RECEIVED)


class Shipment(Aggregate):
    """The journey of one shipper and who held it."""

    kind = KIND

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.units: tuple[UUID, ...] = ()
        self.leg = ""
        self.from_site = ""
        self.to_site = ""
        self.temperature_class = ""
        self.data_logger_id = ""
        self.custodian = ""
        self.handing_over_to: str | None = None
        self.seal_intact = True
        self.received = False
        self.dispatched_at: datetime | None = None
        self.received_at: datetime | None = None
        self.logger_files: tuple[str, ...] = ()

    def when_ShipmentDispatched(self, record: EventRecord) -> None:
        """The shipper's contents, route and temperature class become known."""
        p = record.payload
        self.units = tuple(UUID(unit) for unit in p["units"])
        self.leg, self.from_site, self.to_site = p["leg"], p["from_site"], p["to_site"]
        self.temperature_class, self.data_logger_id = p["temperature_class"], p["data_logger_id"]
        self.custodian = p["courier"]
        self.dispatched_at = record.occurred_at

    def when_ShipmentHandedOver(self, record: EventRecord) -> None:
        """The giver offered the shipper to the next party, who becomes custodian on accepting it."""
        self.handing_over_to = record.payload["to_party"]
        self.seal_intact = self.seal_intact and bool(record.payload["seal_intact"])

    def when_ShipmentHandOverAccepted(self, record: EventRecord) -> None:
        """Custody passes to the party the hand-over named; a broken seal is remembered."""
        if self.handing_over_to is not None:
            self.custodian = self.handing_over_to
        self.handing_over_to = None
        self.seal_intact = self.seal_intact and bool(record.payload["seal_intact"])

    def when_ShipmentReceived(self, record: EventRecord) -> None:
        """The journey ends at the destination."""
        self.custodian = record.payload["site"]
        self.handing_over_to = None
        self.seal_intact = self.seal_intact and bool(record.payload["seal_intact"])
        self.received = True
        self.received_at = record.occurred_at

    def when_ShipmentLoggerFileImported(self, record: EventRecord) -> None:
        """The file is the journey's record: importing the same bytes again would judge them twice."""
        self.logger_files = (*self.logger_files, str(record.payload["document"]["sha256"]))
