"""A tank's logger file over a product's LN2 storage, imported by a person and judged by the ledger.

``StorageLoggerFileImported`` is what the pharmacist answers for: this stored file (by its
SHA-256) is what the monitoring logger of this tank recorded, and it covers the time this
product sat in it. Everything read from the file is the ledger's, signed with its own key
(domain/storage_logger_rules.py): ``StorageReadingsSummarised`` (the stays judged, the
figures, the time above the storage limit, the gaps) and, when the readings say so, the
excursion that quarantines the product and the deviation a gap is.

Both sit on the product: a position holds one bag (domain/ln2_position.py), so "every
product in that position" is this product over the stays the file covers; a tank's file
is imported for each product the tank held (README, "Temperature loggers").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from domain.document_ref import LoggerFile
from domain.events import Meaning as M
from domain.events import Role as R
from domain.logger_events import RecordingGap
from domain.payloads import NON_EMPTY, Bounds, Sha256Text, Timestamp
from domain.product_specs import KIND
from domain.spec import EventSpec


@dataclass(frozen=True)
class StorageLoggerFileImported:
    """The monitoring logger file of the tank (``site``, ``tank``) the product was stored in, stored by hash."""

    document: LoggerFile
    site: Annotated[str, NON_EMPTY]
    tank: Annotated[str, NON_EMPTY]


@dataclass(frozen=True)
class JudgedStay:
    """One stay of the product at a position of the tank, as far as the file covers it."""

    rack: str
    box: str
    position: str
    from_at: Timestamp
    to_at: Timestamp
    readings: Annotated[int, Bounds(low=1)]
    minutes_outside: Annotated[int, Bounds(low=0)]
    gaps: list[RecordingGap]


@dataclass(frozen=True)
class StorageReadingsSummarised:
    """The ledger's reading of a tank's logger file over the product's stays in that tank (derived)."""

    document_sha256: Sha256Text
    site: str
    tank: str
    acceptable: str
    high_c: float | None
    readings: Annotated[int, Bounds(low=1)]
    min_c: float
    max_c: float
    minutes_outside: Annotated[int, Bounds(low=0)]
    excursion: bool
    gap_allowed_min: int | None
    longest_gap_min: Annotated[int, Bounds(low=0)]
    stays: list[JudgedStay]


STORAGE_LOGGER_FILE_IMPORTED = EventSpec(
    "StorageLoggerFileImported",
    KIND,
    StorageLoggerFileImported,
    (M.RECORDED, M.VERIFIED),
    frozenset({R.PHARMACIST, R.QP}),
    "The monitoring logger file of the LN2 tank the product was stored in (stored by hash) is the record of its "
    "storage; the ledger reads it over the product's stays in that tank: an excursion quarantines the product, a "
    "gap in the recording is a deviation.",
    annotation=True,
)
STORAGE_READINGS_SUMMARISED = EventSpec(
    "StorageReadingsSummarised",
    KIND,
    StorageReadingsSummarised,
    (M.RECORDED,),
    frozenset({R.SYSTEM}),
    "The ledger's summary of a tank's logger file over the product's storage: lowest and highest temperature, "
    "time above the storage limit and gaps in the recording, stay by stay.",
    annotation=True,
    derived_from="StorageLoggerFileImported",
)
STORAGE_LOGGER_SPECS = (STORAGE_LOGGER_FILE_IMPORTED, STORAGE_READINGS_SUMMARISED)
