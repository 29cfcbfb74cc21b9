"""Payloads of what goes wrong, or is set right, around a product.

Deviations, excursions, near misses, holds, destruction, recall and corrections.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from domain.document_ref import OtherDocument
from domain.payloads import NON_EMPTY, Bounds, FreeText, IdText


class Severity(StrEnum):
    """How serious a deviation is, as the quality system grades it."""

    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class ExcursionContext(StrEnum):
    """Where the temperature left its range."""

    SHIPPING = "shipping"
    STORAGE = "storage"


class WasteStream(StrEnum):
    """Disposal rules: human-origin waste, or genetically modified organisms (CAR-T)."""

    HUMAN_ORIGIN = "human_origin"
    GMO = "gmo"


@dataclass(frozen=True)
class DeviationRecorded:
    """A departure from procedure, at any step; its id is the event's version."""

    description: FreeText
    severity: Severity
    step: str | None = None


@dataclass(frozen=True)
class DeviationClosed:
    """An open deviation was investigated and closed."""

    deviation_version: Annotated[int, Bounds(low=1)]
    resolution: FreeText


class AssessedStep(StrEnum):
    """A step an open major or critical deviation blocks, and that an impact assessment may allow."""

    RELEASE = "release"
    DISPENSE = "dispense"
    THAW = "thaw"
    INFUSION = "infusion"


@dataclass(frozen=True)
class DeviationImpactAssessed:
    """A documented assessment found that an open deviation need not stop the named steps; it stays open."""

    deviation_version: Annotated[int, Bounds(low=1)]
    steps: Annotated[list[AssessedStep], NON_EMPTY]
    assessment: FreeText
    assessment_ref: str


@dataclass(frozen=True)
class TemperatureExcursionRecorded:
    """The temperature left its range in a shipper or a tank; the product is held."""

    context: ExcursionContext
    max_c: float
    duration_min: Annotated[int, Bounds(low=0)]
    min_c: float | None = None
    data_logger_id: str | None = None


@dataclass(frozen=True)
class ProductQuarantined:
    """The product is held until an assessment lifts the quarantine."""

    reason: FreeText


@dataclass(frozen=True)
class QuarantineLifted:
    """An assessment found the product usable."""

    reason: FreeText
    assessment_ref: str


@dataclass(frozen=True)
class IdentityMismatchRecorded:
    """A scanned label or wristband did not match (a near miss): the product is suspended."""

    step: str
    field: str
    expected: str
    scanned: str


@dataclass(frozen=True)
class MismatchResolved:
    """The cause of an identity mismatch was found and the suspension lifted."""

    resolution: FreeText


@dataclass(frozen=True)
class ReceiptRejected:
    """The receiving site refused the product."""

    reason: FreeText


@dataclass(frozen=True)
class ProductDestroyed:
    """The product was destroyed, following the waste rules for its origin."""

    reason: FreeText
    method: str
    waste_stream: WasteStream


@dataclass(frozen=True)
class ProductReturned:
    """The product was sent back (to the manufacturer, usually) and leaves this ledger's custody."""

    to_site: str
    reason: FreeText


@dataclass(frozen=True)
class RecallNotified:
    """The manufacturer recalled the product or its batch."""

    recall_ref: str
    reason: FreeText
    batch_id: IdText | None = None


@dataclass(frozen=True)
class EventCorrected:
    """A correction to an earlier event, which stays as it was (Annex 11 §9)."""

    corrects_version: Annotated[int, Bounds(low=1)]
    reason: FreeText
    corrections: Annotated[dict[str, Any], NON_EMPTY]


@dataclass(frozen=True)
class AnnotationAdded:
    """A free-text note on the product's record."""

    text: FreeText
    document: OtherDocument | None = None
    """A file the note is about (a photograph of a label…), stored by hash as kind ``other``."""


@dataclass(frozen=True)
class DestructionWitnessed:
    """A second person saw the destruction through its waste route (four eyes, FACT-JACIE)."""

    observations: FreeText | None = None


class DutyRule(StrEnum):
    """The four-eyes rules a site's signed setting may waive where one person must do both."""

    RELEASE_BY_QC_RECORDER = "release_by_qc_recorder"
    LIFT_BY_QUARANTINER = "lift_by_quarantiner"
    WITNESS_IS_DESTROYER = "witness_is_destroyer"


@dataclass(frozen=True)
class DutySegregationWaiverApplied:
    """A step went ahead with one person for two duties, under its site's signed setting (derived)."""

    rule: DutyRule
    site: str
    reason: FreeText
