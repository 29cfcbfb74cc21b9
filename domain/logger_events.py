"""A shipment's logger file, imported by a person and judged by the ledger: the two events.

``ShipmentLoggerFileImported`` is what the person answers for: this stored file (by its
SHA-256) is what the shipper's data logger recorded on this journey. Everything read from
the file is the ledger's: ``ShipmentReadingsSummarised`` (the figures, per product the
range and the minutes outside it, the gaps) and, on the products, the excursions,
quarantines and deviations it finds (domain/logger_rules.py) are signed with the ledger's
own key, as the excursion it finds in a receipt's figures is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from domain.document_ref import LoggerFile
from domain.events import Meaning as M
from domain.events import Role as R
from domain.payloads import Bounds, IdText, Sha256Text, Timestamp
from domain.shipment import KIND
from domain.spec import EventSpec


@dataclass(frozen=True)
class ShipmentLoggerFileImported:
    """The data logger's file of this shipment's journey, stored by hash (a ``logger_file`` document)."""

    document: LoggerFile


@dataclass(frozen=True)
class RecordingGap:
    """A stretch of the journey the logger recorded nothing in, longer than the catalogue allows."""

    from_at: Timestamp
    to_at: Timestamp
    minutes: int


@dataclass(frozen=True)
class ProductReadings:
    """What the readings mean for one product in the shipper: its range, the time outside it, the gaps."""

    product_id: IdText
    product_code: str
    acceptable: str
    low_c: float | None
    high_c: float | None
    minutes_outside: Annotated[int, Bounds(low=0)]
    excursion: bool
    gap_allowed_min: int | None
    gaps: list[RecordingGap]


@dataclass(frozen=True)
class ShipmentReadingsSummarised:
    """The ledger's reading of an imported logger file over the journey, dispatch to receipt (derived)."""

    document_sha256: Sha256Text
    data_logger_id: str
    from_at: Timestamp
    to_at: Timestamp
    readings: Annotated[int, Bounds(low=1)]
    min_c: float
    max_c: float
    longest_gap_min: Annotated[int, Bounds(low=0)]
    products: list[ProductReadings]


SHIPMENT_LOGGER_FILE_IMPORTED = EventSpec(
    "ShipmentLoggerFileImported",
    KIND,
    ShipmentLoggerFileImported,
    (M.RECORDED, M.VERIFIED),
    frozenset({R.PHARMACIST, R.QP}),
    "The received shipper's data-logger file (stored by hash) is the record of its journey; the ledger reads it, "
    "and an excursion quarantines every product in the shipper, a gap in the recording is a deviation.",
)
SHIPMENT_READINGS_SUMMARISED = EventSpec(
    "ShipmentReadingsSummarised",
    KIND,
    ShipmentReadingsSummarised,
    (M.RECORDED,),
    frozenset({R.SYSTEM}),
    "The ledger's summary of an imported logger file: lowest and highest temperature, time outside each "
    "product's range and gaps in the recording, from dispatch to receipt.",
    derived_from="ShipmentLoggerFileImported",
)
LOGGER_SPECS = (SHIPMENT_LOGGER_FILE_IMPORTED, SHIPMENT_READINGS_SUMMARISED)
